"""The negative binomial's summed gradient loop and its pointwise loop equal its row function.

:func:`hierbayes.families.negativebinomial.grad_loop` sums the counts' ``log Γ`` and ``ψ`` terms
by value and takes ``log(φ + μ)`` from a vectorised softplus; it must give what
:func:`~hierbayes.families.negativebinomial.row` gives row by row, for small and large shapes,
large linear predictors, and the responses it hands back to :func:`row` (large counts).
"""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.families.negativebinomial import _row_by_row, grad_loop, prepare, row, rows_loop

RNG = np.random.default_rng(11)


def _both(y, eta, phi):
    theta = np.array([phi])
    d_fast, t_fast = eta.copy(), np.zeros(1)
    d_rows, t_rows = eta.copy(), np.zeros(1)
    lp_fast = grad_loop(y, d_fast, theta, t_fast)
    lp_rows = _row_by_row(y, d_rows, theta, t_rows)
    return (lp_fast, d_fast, t_fast[0]), (lp_rows, d_rows, t_rows[0])


@pytest.mark.parametrize("phi", [0.02, 0.4, 2.3, 40.0, 5e3])
def test_equals_the_rows_summed(phi):
    y = RNG.negative_binomial(1.5, 0.2, 500).astype(float)
    eta = RNG.normal(1.5, 1.5, 500)
    eta[:3] = [-30.0, 0.0, 40.0]  # far into both tails of the softplus
    (lp, d1, dphi), (lp_r, d1_r, dphi_r) = _both(y, eta, phi)
    assert lp == pytest.approx(lp_r, rel=1e-13)
    np.testing.assert_allclose(d1, d1_r, rtol=1e-13, atol=1e-12)
    # dℓ/dφ: a sum of terms of both signs; compare on the scale of its largest term
    scale = np.abs(y).sum() / phi + y.size
    assert abs(dphi - dphi_r) < 1e-13 * scale


def test_the_shape_derivative_is_the_derivative_of_the_sum():
    y = RNG.poisson(4.0, 200).astype(float)
    eta = RNG.normal(1.2, 0.7, 200)
    h = 1e-6
    (_, _, dphi), _ = _both(y, eta, 1.7)
    up = grad_loop(y, eta.copy(), np.array([1.7 + h]), np.zeros(1))
    down = grad_loop(y, eta.copy(), np.array([1.7 - h]), np.zeros(1))
    assert dphi == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_large_counts_go_row_by_row_with_the_same_result():
    y = np.array([0.0, 3.0, 1e6, 12.0])  # 1e6 > 2n + 64: no table of a million values
    eta = np.array([0.1, 1.0, 13.5, 2.0])
    (lp, d1, dphi), (lp_r, d1_r, dphi_r) = _both(y, eta, 3.0)
    assert (lp, dphi) == (lp_r, dphi_r)
    np.testing.assert_array_equal(d1, d1_r)


@pytest.mark.parametrize("top", [40.0, 1e6])  # a table of values; row by row
def test_pointwise_rows_equal_the_row_function(top):
    y = np.append(RNG.negative_binomial(2.0, 0.3, 60).astype(float), top)
    theta = np.array([[0.05], [1.3], [300.0]])
    eta = RNG.normal(1.0, 2.0, (3, y.size))
    weights = RNG.uniform(0.0, 2.0, y.size)
    const = RNG.normal(0.0, 1.0, y.size)
    out = eta.copy()
    rows_loop(y, out, weights, theta, const)
    want = [
        [const[i] + row(y[i], eta[s, i], 1.0, prepare(theta[s]))[0] for i in range(y.size)]
        for s in range(3)
    ]
    want = np.array(want) * weights
    np.testing.assert_allclose(out, want, rtol=1e-12)
