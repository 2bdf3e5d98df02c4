"""The "piles up at zero" rule on draws whose shape is known: closed-form densities and saved
posterior draws (``benchmarks/sd_at_zero_draws.py`` wrote ``tests/data/sd_posterior_draws.csv``:
1000 random draws of each of three fits' SDs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hierbayes.sd_at_zero import AT_ZERO, density_ratio_at_zero, piles_up_at_zero

_DRAWS = pd.read_csv(Path(__file__).parent / "data" / "sd_posterior_draws.csv")


@pytest.mark.parametrize("spread", [0.6, 0.85, 1.2])
def test_density_ratio_matches_a_truncated_normal(spread):
    # N(1, s) truncated at 0: density at 0 over the mode's is exp(-1 / (2 s^2)) exactly; the
    # kernel estimate's smoothing lowers the mode by ~0.03 (measured), MC error ~0.01 at 20000
    rng = np.random.default_rng(11)
    x = stats.truncnorm.rvs(-1 / spread, np.inf, loc=1, scale=spread, size=20000, random_state=rng)
    assert density_ratio_at_zero(x) == pytest.approx(np.exp(-0.5 / spread**2), abs=0.06)


def test_boundary_is_not_halved():
    # a half-normal's density at 0 is its maximum: reflection keeps the ratio at 1
    x = np.abs(np.random.default_rng(12).normal(0.0, 0.3, 4000))
    assert density_ratio_at_zero(x) == pytest.approx(1.0, abs=0.05)


def test_degenerate_draws():
    assert density_ratio_at_zero(np.zeros(100)) == 1.0
    assert np.isnan(density_ratio_at_zero(np.array([1.0, 2.0])))


def test_bacteria_intercept_sd_is_not_flagged():
    # (1 + week || ID) on MASS's bacteria: median 1.07, q10/q50 0.28 (the earlier rule, < 0.3,
    # fired), but the mode is near the median and the density at 0 half of the mode's
    x = _DRAWS["bacteria_intercept"].to_numpy()
    q10, q50 = np.quantile(x, [0.1, 0.5])
    assert q10 / q50 < 0.3
    assert 0.35 < density_ratio_at_zero(x) < 0.6
    assert not piles_up_at_zero(x)


def test_true_sd_zero_is_flagged_and_true_sd_one_is_not():
    assert density_ratio_at_zero(_DRAWS["sd0_8groups"].to_numpy()) >= AT_ZERO
    assert piles_up_at_zero(_DRAWS["sd0_8groups"].to_numpy())
    assert density_ratio_at_zero(_DRAWS["sd1_20groups"].to_numpy()) < 0.01
