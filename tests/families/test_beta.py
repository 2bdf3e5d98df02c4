"""The beta family's simulator stays inside the family's support."""

from __future__ import annotations

import numpy as np

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
