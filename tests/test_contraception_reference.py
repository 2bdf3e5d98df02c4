"""A bernoulli model with a correlated intercept and slope by group against brms, on real data.

mlmRev's Contraception (1,934 women in 60 districts of Bangladesh):
``use ~ urban + age + livch + (1 + urban | district)``. brms numbers from
``Rscript tests/reference_contraception.R brms`` (brms 2.18.0, 4 chains x 1000 draws after 1000
warm-up, seed 1, hierbayes's default priors written out as brms priors; R is not needed to run
these tests). brms took 574 s (compiling included, on a loaded 2-core machine), had no divergent
transitions, and its smallest bulk ESS was 1136 (the urban slope's SD). Tolerances:
:mod:`brms_reference`. In 15 districts no woman is urban, so their urban slope has no data: the
fit used to stop before sampling (see :mod:`hierbayes.density.start`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from brms_reference import assert_agrees
from helpers import quiet_fit

import hierbayes as hb

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "contraception.csv"
FORMULA = "use ~ urban + age + livch + (1 + urban | district)"
# brms: posterior means and SDs
BRMS_B = {
    "Intercept": (-1.71605, 0.162296),
    "urban[T.Y]": (0.802301, 0.178603),
    "age": (-0.026551, 0.00792553),
    "livch[T.1]": (1.12476, 0.160817),
    "livch[T.2]": (1.37222, 0.172385),
    "livch[T.3+]": (1.35885, 0.179173),
}
BRMS_SD = {("district", "Intercept"): 0.615285, ("district", "urban[T.Y]"): 0.813227}
BRMS_COR = {("district", "Intercept:urban[T.Y]"): (-0.657922, 0.164521)}
# the priors the R script gives brms: hierbayes's defaults for this model
PRIORS = {
    "Intercept": "Normal(mu=0, sigma=2.5)",
    "b|urban[T.Y]": "Normal(mu=0, sigma=5.505)",
    "b|age": "Normal(mu=0, sigma=0.2774)",
    "b|livch[T.1]": "Normal(mu=0, sigma=6.449)",
    "b|livch[T.2]": "Normal(mu=0, sigma=6.858)",
    "b|livch[T.3+]": "Normal(mu=0, sigma=5.138)",
    "sd|district": "HalfNormal(sigma=[2.5, 5.5])",
    "cor|district": "LKJ(eta=2)",
}


@pytest.fixture(scope="module")
def model() -> hb.Model:
    return hb.Model(FORMULA, pd.read_csv(DATA), family="bernoulli")


@pytest.fixture(scope="module")
def fit(model: hb.Model) -> hb.Fit:
    return quiet_fit(model, random_seed=1)  # the defaults: 4 chains x 1000 draws


def test_the_r_script_uses_these_priors(model: hb.Model) -> None:
    assert model.priors["prior"].to_dict() == PRIORS
    assert model.prior_values["sd|district"].kwargs["sigma"].tolist() == [2.5, 5.5048]


def test_agrees_with_brms(fit: hb.Fit) -> None:
    assert_agrees(fit, BRMS_B, BRMS_SD, BRMS_COR)
    assert fit.diagnostics.divergences == 0
