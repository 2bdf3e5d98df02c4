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
