"""A factor nested in another: its between-group variance is measured within the upper groups.

On lme4's Arabidopsis (24 genotypes in 9 populations, negative binomial), the genotypes'
estimates vary across all genotypes by the populations' effects too (SD 0.55 against the
genotypes' own 0.16, glmmTMB). Counted as the genotypes' variance, that made them look well
informed (centred, in a funnel with their SD) and, counted as the lower level's variance in the
populations' nested information, the populations look weak (non-centred): the default fit's
first run had 92 divergences (R-hat 1.08) and was sampled again the other way round.
Reference numbers: ``Rscript tests/reference_arabidopsis.R`` (glmmTMB 1.1, nbinom2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build.glm_choice import _between_variance, _within_variance

DATA = Path(__file__).parents[1] / "data" / "arabidopsis.csv"
FORMULA = "total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen)"
TMB_FIXEF = {
    "Intercept": 2.65264,
    "nutrient[T.8]": 1.52133,
    "amd[T.unclipped]": 0.606123,
    "rack[T.2]": -0.975944,
    "status[T.Petri.Plate]": -0.0982441,
    "status[T.Transplant]": -0.190773,
    "nutrient[T.8]:amd[T.unclipped]": -0.509434,
}
TMB_SHAPE = 0.616139


def _data() -> pd.DataFrame:
    return pd.read_csv(DATA, dtype={"nutrient": str, "rack": str, "gen": str, "popu": str})


def test_within_variance_removes_the_upper_groups_effects():
    """Closed form: estimates = upper effect + own effect, no sampling noise."""
    upper = np.repeat([-2.0, -1.0, 0.0, 1.0, 2.0], 4)
    own = np.tile([-0.3, -0.1, 0.1, 0.3], 5)
    parent = np.repeat(np.arange(5), 4)
    within = _within_variance(upper + own, np.zeros(20), parent)
    assert within == pytest.approx(np.sum(own**2) / (20 - 5))  # 0.2 / 3 per dof
    assert _between_variance(upper + own, np.zeros(20)) > 30 * within  # the upper SD dominates
    # sampling variance is subtracted; no upper factor gives the plain moment estimate
    assert _within_variance(upper + own, np.full(20, 0.05), parent) == pytest.approx(within - 0.05)
    assert _within_variance(own, np.zeros(20), None) == _between_variance(own, np.zeros(20))


def test_arabidopsis_centres_the_populations_not_the_genotypes():
    m = hb.Model(FORMULA, _data(), family="negativebinomial")
    assert m.parameterization == {"popu": ("centered",), "gen": ("noncentered",)}


@pytest.mark.slow
def test_arabidopsis_default_fit_is_clean_first_time_and_agrees_with_glmmtmb():
    fit = hb.Model(FORMULA, _data(), family="negativebinomial").fit(
        draws=500, tune=500, chains=2, random_seed=1, progressbar=False
    )
    notes = " ".join(fit.diagnostics.notes)
    assert "first run failed" not in notes
    assert fit.diagnostics.divergences == 0
    post = fit.idata["posterior"]
    for term, value in TMB_FIXEF.items():
        draws = post["b"].sel(term=term).values
        # the posterior mean of a fixed effect within half a posterior SD of the ML estimate
        assert abs(draws.mean() - value) < 0.5 * draws.std(), term
    shape = post["shape"].values
    assert abs(shape.mean() - TMB_SHAPE) < 0.5 * shape.std()


def test_an_upper_factor_that_does_not_vary_the_coefficient_leaves_its_spread_in() -> None:
    """Populations that vary only a slope leave their intercept differences (SD 1.5) in the
    genotypes' intercepts: measured across all genotypes they are well informed (centred); the
    same data with the populations' intercepts in the model measure the genotypes' own SD (0.2)
    within populations (non-centred)."""
    rng = np.random.default_rng(0)
    pop = np.repeat(np.arange(8), 16)
    gen = np.repeat(np.arange(32), 4)
    x = rng.normal(size=pop.size)
    eta = rng.normal(0, 1.5, 8)[pop] + rng.normal(0, 0.2, 32)[gen] + 0.3 * x
    data = pd.DataFrame(
        {
            "y": rng.poisson(np.exp(-0.5 + eta)),
            "pop": [f"p{i}" for i in pop],
            "gen": [f"g{i}" for i in gen],
            "x": x,
        }
    )
    slope_only = hb.Model("y ~ 1 + x + (0 + x | pop) + (1 | gen)", data, family="poisson")
    both = hb.Model("y ~ 1 + x + (1 | pop) + (1 | gen)", data, family="poisson")
    assert slope_only.parameterization["gen"] == ("centered",)
    assert both.parameterization["gen"] == ("noncentered",)
