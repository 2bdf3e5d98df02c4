"""The vectorisable exponential equals ``math.exp`` to a few rounding units."""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.families._fastexp import exp_nonpositive


@numba.njit
def _many(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])
    return out


def test_within_three_rounding_units_of_libm_on_minus_700_to_0():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            -rng.exponential(3.0, 100_000),
            -rng.uniform(0.0, 700.0, 100_000),
            # 0, tiny arguments, both sides of the reduction's half-steps, the floor
            [0.0, -0.0, -1e-300, -1e-17, -math.log(2) / 2, -3 * math.log(2) / 2, -700.0],
        ]
    )
    got = _many(x)
    want = np.exp(x)
    assert np.max(np.abs(got / want - 1.0)) < 3e-16
    assert got[-7] == 1.0


def test_below_the_floor_it_gives_e_to_minus_700():
    got = _many(np.array([-700.0, -745.0, -1e6, -np.inf]))
    assert np.all(got == _many(np.array([-700.0]))[0])
    assert abs(got[0] / math.exp(-700.0) - 1.0) < 3e-16
