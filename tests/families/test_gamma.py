"""The gamma family's simulator at shapes that round to 0."""

from __future__ import annotations

import warnings

import numpy as np

from hierbayes.families import get_family


def test_a_vanishing_shape_draws_0_without_a_warning():
    # shape 1e-320 (clamped to the smallest float) with mean e^5: the scale mu / shape overflows,
    # and the discarded branch of np.where multiplied 0 by inf
    family = get_family("gamma")
    eta = np.array([5.0, 0.0, -2.0] * 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        y = family.sample(eta, np.random.default_rng(0), {"shape": 1e-320}, None)
        ordinary = family.sample(
            np.full(20_000, 1.0), np.random.default_rng(1), {"shape": 2.0}, None
        )
    assert np.isfinite(y).all() and (y >= 0).all()
    assert (y[::3] == 0).all()  # the limit of mu G / alpha
    # shape 2, mean e: SD e / sqrt(2); the mean within 4 standard errors
    assert abs(ordinary.mean() - np.e) < 4 * np.e / np.sqrt(2) / np.sqrt(20_000)
