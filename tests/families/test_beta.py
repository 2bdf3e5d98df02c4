"""The beta family's simulator: inside the family's support, and its limit as φ -> 0."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from hierbayes.families import get_family


def test_draws_near_0_and_1_stay_inside_the_open_interval():
    # mean 1 - 5e-18 (or 5e-18) with phi 10: most draws round to 1.0 (or 0.0) in float64
    family = get_family("beta")
    rng = np.random.default_rng(0)
    eta = np.array([40.0, -40.0] * 500)
    y = family.sample(eta, rng, {"phi": 10.0}, None)
    assert ((y > 0) & (y < 1)).all()
    assert family.check(y, None) is None  # the family accepts what it simulates
    assert (y[::2] > 0.5).all() and (y[1::2] < 0.5).all()


@pytest.mark.parametrize("eta", [2.0, -3.0])
def test_a_vanishing_precision_draws_the_bernoulli_limit(eta):
    # Beta(μφ, (1 - μ)φ) -> Bernoulli(μ) as φ -> 0; both shapes underflow at φ = 1e-320 (they
    # were clamped to one value, which drew 0 or 1 half each whatever μ)
    family = get_family("beta")
    n = 20_000
    y = family.sample(np.full(n, eta), np.random.default_rng(1), {"phi": 1e-320}, None)
    assert family.check(y, None) is None
    ones = y > 0.5
    assert ((y < 1e-300) | ones).all()
    mu = expit(eta)  # 0.881 and 0.047
    assert abs(ones.mean() - mu) < 4 * np.sqrt(mu * (1 - mu) / n)
    again = family.sample(np.full(n, eta), np.random.default_rng(1), {"phi": 1e-320}, None)
    np.testing.assert_array_equal(y, again)  # one seed, one set of draws


def test_an_ordinary_precision_is_drawn_from_the_beta():
    family = get_family("beta")
    n = 20_000
    y = family.sample(np.full(n, 1.0), np.random.default_rng(2), {"phi": 4.0}, None)
    mu = expit(1.0)
    sd = np.sqrt(mu * (1 - mu) / 5.0)  # variance μ(1 - μ) / (1 + φ)
    assert abs(y.mean() - mu) < 4 * sd / np.sqrt(n)
    assert abs(y.std() / sd - 1) < 0.03
