"""The forward and reverse passes of a one-coefficient group term equal their closed forms.

Non-centred, ``u_j = L ζ_j``: ``d/dζ_j = ū_j L - ζ_j`` and ``L̄ = Σ_j ū_j ζ_j``. Centred, with
``ζ_j = (v_j - Σ_a x_ja β_a) / L`` (the free value ``v`` holds the fixed terms ``β`` under
hierarchical centring): ``d/dv_j = ū_j - ζ_j / L``, ``d/dβ_a = Σ_j ζ_j x_ja / L`` and
``L̄ = Σ_j (ζ_j² - 1) / L``. (The whole kernel's gradient is checked against finite differences
in ``test_kernel.py``.) Also the kernel's dot product of a column of a column-major array.
"""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.density.effects_q1 import one_coefficient_backward, one_coefficient_forward
from hierbayes.density.table import dot

J = 37


@pytest.fixture
def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "zeta": rng.normal(size=J + 5),  # 5 effects of another block first
        "ubar": rng.normal(size=J + 5),
        "L": np.array([9.0, 9.0, 1.7]),  # this block's L_00 at position 2
        "hc_x": rng.normal(size=(J, 2)),
    }


def test_non_centred_effects(arrays: dict[str, np.ndarray]) -> None:
    grad = np.full(50, 0.5)
    Lbar = np.array([0.0, 0.0, 0.25])
    empty = np.zeros(0, dtype=np.int64)
    zeta, ubar = arrays["zeta"], arrays["ubar"]
    one_coefficient_backward(
        grad, J, 5, 10, 2, False, 0, empty, np.zeros(0), arrays["L"], zeta, ubar, Lbar
    )
    expected = 0.5 + ubar[5:] * 1.7 - zeta[5:]
    np.testing.assert_allclose(grad[10 : 10 + J], expected, rtol=1e-14, atol=1e-15)
    assert np.all(np.delete(grad, np.arange(10, 10 + J)) == 0.5)
    assert Lbar[2] == pytest.approx(0.25 + ubar[5:] @ zeta[5:], rel=1e-13)
    assert Lbar[0] == Lbar[1] == 0.0


def test_centred_effects_holding_fixed_terms(arrays: dict[str, np.ndarray]) -> None:
    grad = np.zeros(50)
    Lbar = np.zeros(3)
    hc_cols = np.array([1, 3, 0, 0], dtype=np.int64)  # columns 1 and 3, both in coefficient 0
    zeta, ubar, hc_x = arrays["zeta"], arrays["ubar"], arrays["hc_x"]
    one_coefficient_backward(
        grad, J, 5, 10, 2, True, 2, hc_cols, hc_x.ravel(), arrays["L"], zeta, ubar, Lbar
    )
    z = zeta[5:]
    np.testing.assert_allclose(grad[10 : 10 + J], ubar[5:] - z / 1.7, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(grad[[1, 3]], z @ hc_x / 1.7, rtol=1e-13)
    assert Lbar[2] == pytest.approx(np.sum(z * z - 1.0) / 1.7, rel=1e-13)


def test_dot_of_a_column() -> None:
    rng = np.random.default_rng(0)
    n = 1001  # not a multiple of the vector width
    columns = rng.normal(size=(3, n))
    b = rng.normal(size=n)
    flat = columns.ravel()
    for c in range(3):
        assert dot(flat, c * n, b, n) == pytest.approx(columns[c] @ b, rel=1e-13)


def test_forward_pass_of_one_coefficient(arrays: dict[str, np.ndarray]) -> None:
    """Non-centred ``u = L z``; centred ``ζ = (v - Σ_a x_a β_a) / L`` with ``U = v``; the log
    prior is ``Σ log N(ζ | 0, 1)``, minus ``J log L`` when centred."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=50)
    hc_x = arrays["hc_x"]
    L = arrays["L"]
    norm = -0.5 * np.log(2 * np.pi)
    U, Zeta = np.full(J + 5, 7.0), np.full(J + 5, 7.0)
    empty = np.zeros(0, dtype=np.int64)
    lp = one_coefficient_forward(x, J, 5, 10, 2, False, 0, empty, np.zeros(0), L, U, Zeta)
    z = x[10 : 10 + J]
    np.testing.assert_allclose(U[5:], 1.7 * z, rtol=1e-15)
    np.testing.assert_array_equal(Zeta[5:], z)
    assert np.all(U[:5] == 7.0) and np.all(Zeta[:5] == 7.0)
    assert lp == pytest.approx(np.sum(-0.5 * z * z + norm), rel=1e-13)

    hc_cols = np.array([1, 3, 0, 0], dtype=np.int64)
    lp = one_coefficient_forward(x, J, 5, 10, 2, True, 2, hc_cols, hc_x.ravel(), L, U, Zeta)
    zeta = (z - hc_x @ x[[1, 3]]) / 1.7
    np.testing.assert_array_equal(U[5:], z)
    np.testing.assert_allclose(Zeta[5:], zeta, rtol=1e-13)
    assert lp == pytest.approx(np.sum(-0.5 * zeta**2 + norm) - J * np.log(1.7), rel=1e-13)
