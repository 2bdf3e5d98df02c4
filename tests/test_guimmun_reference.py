"""A three-level binary model against brms, on real data.

mlmRev's guImmun (Rodriguez and Goldman's Guatemalan immunisation survey: 2,159 children of 1,595
mothers in 161 communities), their model
``immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81 + (1 | mom) +
(1 | comm)``. brms numbers from ``Rscript tests/reference_guimmun.R brms`` (which also writes
``tests/data/guimmun.csv``; brms 2.18.0, 4 chains x 1000 draws after 1000 warm-up, seed 1,
hierbayes's default priors written out as brms priors; R is not needed to run these tests). brms
took 666 s (compiling included, on a loaded 2-core machine), had no divergent transitions, and
its smallest bulk ESS was 585 (the mothers' SD). Tolerances: :mod:`brms_reference`.

Most mothers have one or two children, so the mothers' SD is far from lme4's Laplace estimate
(1.13; the posterior mean is 2.7): the Laplace approximation is poor for binary data with
small clusters (Rodriguez and Goldman 2001), which is why the comparison is with brms.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from brms_reference import assert_agrees
from helpers import quiet_fit

import hierbayes as hb

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "guimmun.csv"
FORMULA = (
    "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
    " + (1 | mom) + (1 | comm)"
)
# brms: posterior means and SDs
BRMS_B = {
    "Intercept": (-1.33205, 0.529895),
    "kid2p[T.Y]": (1.86816, 0.232709),
    "mom25p[T.Y]": (-0.249948, 0.253901),
    "ord[T.23]": (-0.30115, 0.252571),
    "ord[T.46]": (0.189134, 0.321108),
    "ord[T.7p]": (0.497071, 0.40605),
    "ethn[T.N]": (-0.229628, 0.547333),
    "ethn[T.S]": (-0.124519, 0.400335),
    "momEd[T.P]": (0.48105, 0.246472),
    "momEd[T.S]": (0.455006, 0.538176),
    "husEd[T.P]": (0.59821, 0.260912),
    "husEd[T.S]": (0.568576, 0.444139),
    "husEd[T.U]": (0.000438706, 0.397078),
    "momWork[T.Y]": (0.42955, 0.231374),
    "rural[T.Y]": (-0.976369, 0.333229),
    "pcInd81": (-1.25426, 0.558502),
}
BRMS_SD = {("mom", "Intercept"): 2.66579, ("comm", "Intercept"): 1.17716}


def guimmun() -> pd.DataFrame:
    """The data with mlmRev's levels (``ord`` "01" is a level, not the number 1)."""
    return pd.read_csv(DATA, dtype={"ord": str, "mom": str, "comm": str})


@pytest.fixture(scope="module")
def model() -> hb.Model:
    return hb.Model(FORMULA, guimmun(), family="bernoulli")


@pytest.fixture(scope="module")
def fit(model: hb.Model) -> hb.Fit:
    return quiet_fit(model, random_seed=1)  # the defaults: 4 chains x 1000 draws


def test_the_r_script_uses_these_priors(model: hb.Model) -> None:
    """hierbayes's defaults, as the R script writes them out (4 decimals)."""
    sigma = {k: v.kwargs["sigma"] for k, v in model.prior_values.items()}
    assert sigma == {
        "Intercept": 2.5,
        "b|kid2p[T.Y]": 5.9543,
        "b|mom25p[T.Y]": 5.0025,
        "b|ord[T.23]": 5.2661,
        "b|ord[T.46]": 5.2996,
        "b|ord[T.7p]": 7.0526,
        "b|ethn[T.N]": 6.6045,
        "b|ethn[T.S]": 5.9167,
        "b|momEd[T.P]": 5.0282,
        "b|momEd[T.S]": 9.9539,
        "b|husEd[T.P]": 5.0,
        "b|husEd[T.S]": 7.8802,
        "b|husEd[T.U]": 8.9961,
        "b|momWork[T.Y]": 5.0238,
        "b|rural[T.Y]": 5.8491,
        "b|pcInd81": 6.6606,
        "sd|mom": 2.5,
        "sd|comm": 2.5,
    }
    kinds = {str(v).split("(")[0] for v in model.priors["prior"]}
    assert kinds == {"Normal", "HalfNormal"}
    assert (model.design.y.sum(), len(model.design.y)) == (
        964,
        2159,
    )  # mlmRev: 964 of 2,159 immunised


def test_agrees_with_brms(fit: hb.Fit) -> None:
    assert_agrees(fit, BRMS_B, BRMS_SD)
    assert fit.diagnostics.divergences == 0
