"""Binary groups whose responses are all 0 or all 1 count as uninformative in auto's choice.

Such a group's likelihood rises towards an infinite effect; the Fisher information it has at
the population fit is not what it has where its effect lies. On HSAUR3's toenail data (294
patients, 61% never or always ill, SD 4.1 on the logit scale) the patients were centred: bulk
ESS 412 and 336 (R-hat up to 1.013) in 4 x 1000 draws, seeds 1 and 2; non-centred 704 and 668
(R-hat 1.006). Reference numbers: ``Rscript tests/reference_toenail.R`` (glmer, nAGQ = 25).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build.glm_choice import (
    _at_bound,
    _derivs,
    _group_estimates,
    choose_glm_parameterization,
    population_fit,
)

DATA = Path(__file__).parents[1] / "data" / "toenail.csv"
FORMULA = "y ~ treatment * visit + (1 | patientID)"
GLMER_FIXEF = {
    "Intercept": -0.45081,
    "treatment[T.terbinafine]": 0.158112,
    "visit": -0.79155,
    "treatment[T.terbinafine]:visit": -0.23602,
}
GLMER_SD = 4.12706


def _simulated(sd: float) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(150), 6)
    eta = -0.5 + rng.normal(0.0, sd, 150)[g]
    y = (rng.uniform(size=g.size) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "g": [f"g{j}" for j in g]})


def test_separated_groups_give_no_estimate():
    m = hb.Model("y ~ 1 + (1 | g)", _simulated(4.0), family="bernoulli")
    design, block = m.design, m.design.blocks[0]
    d1, w = _derivs(design, *population_fit(design))
    with_bound = _group_estimates(block, d1, w, _at_bound(design))[0][:, 0]
    without = _group_estimates(block, d1, w)[0][:, 0]
    total = np.bincount(block.codes, weights=design.y, minlength=150)
    separated = (total == 0) | (total == 6)  # each group has 6 rows
    assert separated.mean() > 0.5
    assert np.isnan(with_bound[separated]).all() and not np.isnan(with_bound[~separated]).any()
    assert not np.isnan(without).any()


def test_mostly_separated_groups_are_non_centred_and_informative_ones_stay_centred():
    wide = hb.Model("y ~ 1 + (1 | g)", _simulated(4.0), family="bernoulli").design
    assert choose_glm_parameterization(wide, wide.blocks[0]) == ("noncentered",)
    rng = np.random.default_rng(4)  # 60 rows a group, SD 1: few separated, well informed
    g = np.repeat(np.arange(40), 60)
    eta = rng.normal(0.0, 1.0, 40)[g]
    y = (rng.uniform(size=g.size) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    many = hb.Model(
        "y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g.astype(str)}), family="bernoulli"
    ).design
    assert choose_glm_parameterization(many, many.blocks[0]) == ("centered",)


def test_toenail_patients_are_non_centred():
    m = hb.Model(FORMULA, pd.read_csv(DATA, dtype={"patientID": str}), family="bernoulli")
    assert m.parameterization == {"patientID": ("noncentered",)}


@pytest.mark.slow
def test_toenail_default_fit_agrees_with_adaptive_quadrature():
    data = pd.read_csv(DATA, dtype={"patientID": str})
    fit = hb.Model(FORMULA, data, family="bernoulli").fit(
        draws=500, tune=500, chains=2, random_seed=1, progressbar=False
    )
    assert fit.diagnostics.divergences == 0
    post = fit.idata["posterior"]
    for term, value in GLMER_FIXEF.items():
        draws = post["b"].sel(term=term).values
        assert abs(draws.mean() - value) < 0.5 * draws.std(), term
    sd = post["sd|patientID"].values.ravel()
    assert abs(sd.mean() - GLMER_SD) < 0.5 * sd.std()
