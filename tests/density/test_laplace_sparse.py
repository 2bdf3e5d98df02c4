"""The joint Laplace's sparse Schur complement (:mod:`hierbayes.density.laplace_sparse`, its
pattern from :func:`hierbayes.density.laplace_layout.factor_pattern`): the Cholesky factor, the
solves and the selected inverse equal numpy's dense ones, for nested partners (no fill) and
crossed ones (fill)."""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.density.laplace_layout import factor_pattern
from hierbayes.density.laplace_sparse import (
    csc_cholesky,
    csc_logdet,
    csc_selected_inverse,
    csc_solve,
    csc_solve_lt,
)


def _partners(kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """CSR partners of A groups among m B columns: 'nested' (a class and its school: columns
    0-7 classes, 8-10 schools) or 'crossed' (random sets of 1-4 of 9 columns)."""
    if kind == "nested":
        school = np.array([0, 0, 0, 1, 1, 2, 2, 2])
        groups = [[c, 8 + school[c]] for c in rng.integers(0, 8, 30)]
        m = 11
    else:
        m = 9
        groups = [sorted(rng.choice(m, rng.integers(1, 5), replace=False)) for _ in range(25)]
    ptr = np.concatenate([[0], np.cumsum([len(g) for g in groups])]).astype(np.int64)
    return ptr, np.concatenate(groups).astype(np.int64), m


@pytest.mark.parametrize("kind", ["nested", "crossed"])
def test_sparse_factor_solves_and_selected_inverse_equal_dense_ones(kind):
    rng = np.random.default_rng(7)
    ptr, idx, m = _partners(kind, rng)
    S = np.eye(m)
    for g in range(len(ptr) - 1):  # S = I + Σ_g p_g p_g' on the partners' pairs
        p = np.zeros(m)
        p[idx[ptr[g] : ptr[g + 1]]] = rng.uniform(0.2, 1.5, ptr[g + 1] - ptr[g])
        S += np.outer(p, p)
    Lp, Li, Lc, Rp, Rk, Rpos = factor_pattern(ptr, idx, m)
    dense = np.linalg.cholesky(S)
    on = np.zeros((m, m), dtype=bool)
    on[Li, Lc] = True
    assert not np.any(np.abs(dense[~on & np.tri(m, dtype=bool)]) > 1e-12)  # fill is on it
    fill = on & (np.abs(S) == 0.0)  # on the factor's pattern, not on S's
    assert fill.sum() == (0 if kind == "nested" else 4)
    Lx = np.empty(len(Li))
    assert csc_cholesky(S[Li, Lc], Lp, Li, Rp, Rk, Rpos, m, Lx, np.empty(m))
    np.testing.assert_allclose(Lx, dense[Li, Lc], atol=1e-12)
    assert csc_logdet(Lx, Lp, m) == pytest.approx(np.linalg.slogdet(S)[1], abs=1e-12)
    b = rng.normal(size=m)
    x = b.copy()
    csc_solve(Lx, Lp, Li, m, x)
    np.testing.assert_allclose(x, np.linalg.solve(S, b), atol=1e-12)
    x = b.copy()
    csc_solve_lt(Lx, Lp, Li, m, x)
    np.testing.assert_allclose(x, np.linalg.solve(dense.T, b), atol=1e-12)
    Zx = np.empty(len(Li))
    mark = np.full(m, -1, dtype=np.int64)
    csc_selected_inverse(Lx, Lp, Li, m, Zx, mark, np.empty(m))
    np.testing.assert_allclose(Zx, np.linalg.inv(S)[Li, Lc], atol=1e-12)
    assert np.all(mark == -1)


def test_a_matrix_that_is_not_positive_definite_is_refused():
    ptr, idx, m = np.array([0, 2]), np.array([0, 1]), 2
    Lp, Li, Lc, Rp, Rk, Rpos = factor_pattern(ptr, idx, m)
    S = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert not csc_cholesky(S[Li, Lc], Lp, Li, Rp, Rk, Rpos, m, np.empty(3), np.empty(2))
