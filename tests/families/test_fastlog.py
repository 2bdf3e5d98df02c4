"""The vectorisable ``log(1 + e)`` equals ``math.log1p`` to two rounding units on [e^-700, 1]."""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.families._fastlog import log1p_unit


@numba.njit
def _many(e: np.ndarray) -> np.ndarray:
    out = np.empty_like(e)
    for i in range(e.shape[0]):
        out[i] = log1p_unit(e[i])
    return out


def test_within_two_rounding_units_of_libm_on_0_to_1():
    rng = np.random.default_rng(0)
    e = np.concatenate(
        [
            rng.uniform(0.0, 1.0, 100_000),
            np.exp(-rng.uniform(0.0, 700.0, 100_000)),  # a softplus's tail e^{-|v|}
            [1.0, 0.5, 1e-4, 1e-17, 1e-300],
        ]
    )
    got = _many(e)
    want = np.log1p(e)
    assert np.max(np.abs(got / want - 1.0)) < 4.5e-16  # two rounding units
    assert abs(got[-5] / math.log(2.0) - 1.0) < 3e-16


def test_zero_gives_zero():
    assert _many(np.array([0.0]))[0] == 0.0
