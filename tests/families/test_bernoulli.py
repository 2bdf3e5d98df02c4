"""The bernoulli family's block row loop (one ``log`` per block of rows) equals the row-by-row
sum of :func:`hierbayes.families.bernoulli.row` and an exact-summed NumPy reference."""

from __future__ import annotations

import math

import numpy as np

from hierbayes.families import bernoulli
from hierbayes.families.dispatch import loglik_grad


def _case(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # typical rows, far tails (e^{-|η|} below the series' threshold) and η = 0 exactly
    eta = np.concatenate([rng.normal(0.0, 2.0, n), rng.uniform(-60.0, 60.0, 50), [0.0, -0.0]])
    y = (rng.random(eta.shape[0]) < 0.5).astype(float)
    return y, eta


def test_block_loop_equals_the_row_loop_and_numpy():
    """Over several blocks (2,100 rows, blocks of 512): the sum within 1e-13 relative of the
    exactly summed NumPy terms, each ``dℓ/dη`` within 1e-15 of ``y - expit(η)``, and the
    weighted row loop's (unit weights: ``math.exp``) within two rounding units."""
    y, eta = _case(2_100, 1)
    d1 = eta.copy()
    total = bernoulli.grad_loop(y, d1)
    terms = y * eta - np.logaddexp(0.0, eta)
    exact = math.fsum(terms)
    assert abs(total - exact) <= 1e-13 * np.abs(terms).sum()
    np.testing.assert_allclose(d1, y - 1.0 / (1.0 + np.exp(-eta)), rtol=0, atol=1e-15)

    rows = eta.copy()  # unit weights take the generic loop over bernoulli.row
    by_row = loglik_grad(
        bernoulli.CODE, y, rows, np.zeros(0), np.ones(len(y)), np.zeros(0), np.zeros(0)
    )
    assert abs(total - by_row) <= 1e-13 * np.abs(terms).sum()
    np.testing.assert_allclose(d1, rows, rtol=0, atol=4.5e-16)  # 2 ulp of values up to 1


def test_kernel_dispatch_takes_the_block_loop_for_unweighted_rows():
    """``loglik_grad`` without weights gives the block loop's numbers exactly."""
    y, eta = _case(700, 2)
    a, b = eta.copy(), eta.copy()
    total = loglik_grad(bernoulli.CODE, y, a, np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    assert total == bernoulli.grad_loop(y, b)
    np.testing.assert_array_equal(a, b)


def test_an_empty_response_sums_to_zero():
    assert bernoulli.grad_loop(np.zeros(0), np.zeros(0)) == 0.0
