"""Ordinal predictions' helpers and the cut-points' prior draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import ArgumentError
from hierbayes.predict.ordinal import ordered_prior_draws


@pytest.fixture(scope="module")
def model() -> hb.Model:
    rng = np.random.default_rng(3)
    n = 60
    data = pd.DataFrame(
        {
            "y": rng.integers(1, 6, n),
            "x": rng.normal(2.0, 1.0, n),
            "g": rng.choice(["a", "b", "c"], n),
        }
    )
    return hb.Model("y ~ x + (1 | g)", data, family="cumulative")


def test_prior_draws_of_the_cut_points_are_ordered_order_statistics(model):
    prior = model.prior_predictive(draws=4000, random_seed=1)
    draws = prior["prior"]
    cut = draws["cutpoints"].values[0]
    assert list(draws["cutpoints"]["cutpoint"].values) == ["1|2", "2|3", "3|4", "4|5"]
    assert (np.diff(cut, axis=1) > 0).all()
    # centred at the mean of x: shifted back by mean(x) b
    centred = cut - (draws["b"].values[0] @ model.design.X.mean(axis=0))[:, None]
    # the smallest of 4 exchangeable StudentT(3, 0, 2.5) draws: P(min <= 0) = 1 - 0.5^4
    below = (centred[:, 0] <= 0).mean()
    assert below == pytest.approx(1 - 0.5**4, abs=4.5 * np.sqrt(0.9375 * 0.0625 / 4000))
    # and the largest: P(max <= 2.5) = F(1)^4 under t3
    p = stats.t(3).cdf(1.0) ** 4
    assert (centred[:, 3] <= 2.5).mean() == pytest.approx(p, abs=4.5 * np.sqrt(p * (1 - p) / 4000))
    y = prior["prior_predictive"]["y"].values
    assert set(np.unique(y)) <= {1, 2, 3, 4, 5}


def test_different_priors_per_cut_point_keep_the_increasing_draws():
    rng = np.random.default_rng(0)
    locations = np.array([-1.0, 0.0, 1.0])

    def draw(m):
        return rng.normal(locations, 1.0, size=(m, 3))

    c = ordered_prior_draws(draw, 2000, "cutpoints", exchangeable=False)
    assert c.shape == (2000, 3) and (np.diff(c, axis=1) > 0).all()
    # the restriction pulls the first down and the last up, symmetrically
    assert c[:, 0].mean() < -1.0 < 1.0 < c[:, 2].mean()
    assert c[:, 0].mean() == pytest.approx(-c[:, 2].mean(), abs=0.1)

    def backwards(m):
        return rng.normal([5.0, 0.0, -5.0], 0.1, size=(m, 3))

    with pytest.raises(ArgumentError, match=r"'cutpoints' rarely give increasing cut-points"):
        ordered_prior_draws(backwards, 10, "cutpoints", exchangeable=False)
