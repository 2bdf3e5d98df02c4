"""Cholesky factor, triangular solves and selected inverse of the Schur complement of
:mod:`hierbayes.density.laplace_joint`, in compressed columns on a pattern fixed at build time.

The Schur complement ``S`` left after eliminating the factor with the most groups has a
sparsity pattern that depends only on the design (which columns share a group of that factor),
so its factor's pattern, the fill included, is computed once when the layout is built
(:func:`hierbayes.density.laplace_layout.factor_pattern`) and kept in the structure. ``S``, its
factor ``L`` and the selected inverse are stored as values aligned with that pattern: column
``j``'s entries at ``Lp[j]`` to ``Lp[j + 1]``, the diagonal first, then the rows below it in
increasing order (``Li``). Where the factors nest (pupils in classes in schools) there is no
fill and every step costs ``O(nnz)``; crossed factors fill the pattern and cost the dense
``m³ / 3``.

The factorisation is left-looking: column ``j`` gathers the updates of the columns ``k < j``
with ``L[j, k] ≠ 0`` (row ``j``'s pattern: ``Rp``, ``Rk``, and ``Rpos``, the position of
``L[j, k]`` in column ``k``) in a dense work vector. The gradient needs the inverse only on the
factor's pattern (the entries rows touch lie on it), which Takahashi's recursion gives from the
factor in the factorisation's cost (Takahashi, Fagan & Chin 1973; the "selected inversion" of
INLA). The pattern is symbolic, so an entry that cancels to zero is still inverted.
"""

from __future__ import annotations

import math

import numba

from hierbayes.density.codes import JIT

__all__ = ["csc_cholesky", "csc_logdet", "csc_selected_inverse", "csc_solve", "csc_solve_lt"]


@numba.njit(**JIT)
def csc_cholesky(Sx, Lp, Li, Rp, Rk, Rpos, m, Lx, work):
    """The lower Cholesky factor of the symmetric ``S`` (values ``Sx`` on the pattern) into
    ``Lx``; ``work``: m floats. False if ``S`` is not positive definite."""
    for j in range(m):
        for q in range(Lp[j], Lp[j + 1]):
            work[Li[q]] = Sx[q]
        for r in range(Rp[j], Rp[j + 1]):
            k = Rk[r]
            q0 = Rpos[r]
            ljk = Lx[q0]
            for q in range(q0, Lp[k + 1]):
                work[Li[q]] -= Lx[q] * ljk
        d = work[j]
        if not (d > 0.0 and math.isfinite(d)):
            return False
        d = math.sqrt(d)
        Lx[Lp[j]] = d
        for q in range(Lp[j] + 1, Lp[j + 1]):
            Lx[q] = work[Li[q]] / d
    return True


@numba.njit(**JIT)
def csc_logdet(Lx, Lp, m):
    """``log det S = 2 Σ log L_jj``."""
    out = 0.0
    for j in range(m):
        out += 2.0 * math.log(Lx[Lp[j]])
    return out


@numba.njit(**JIT)
def csc_solve_lt(Lx, Lp, Li, m, x):
    """``x ← L'⁻¹ x`` in place."""
    for j in range(m - 1, -1, -1):
        s = x[j]
        for q in range(Lp[j] + 1, Lp[j + 1]):
            s -= Lx[q] * x[Li[q]]
        x[j] = s / Lx[Lp[j]]


@numba.njit(**JIT)
def csc_solve(Lx, Lp, Li, m, x):
    """``x ← S⁻¹ x = L'⁻¹ L⁻¹ x`` in place."""
    for j in range(m):
        xj = x[j] / Lx[Lp[j]]
        x[j] = xj
        for q in range(Lp[j] + 1, Lp[j + 1]):
            x[Li[q]] -= Lx[q] * xj
    csc_solve_lt(Lx, Lp, Li, m, x)


@numba.njit(**JIT)
def csc_selected_inverse(Lx, Lp, Li, m, Zx, mark, s):
    """``S⁻¹`` on the factor's pattern into ``Zx`` (aligned with ``Lx``) by Takahashi's
    recursion from the last column; ``mark`` (m ints, all -1, left so) and ``s`` (m floats):
    work space.

    Column ``j``'s rows below the diagonal form a clique of the filled pattern, so every
    ``S⁻¹[r, c]`` the recursion reads for them lies on it: in column ``c``, found by marking
    column ``j``'s rows.
    """
    for j in range(m - 1, -1, -1):
        q0 = Lp[j] + 1
        c = Lp[j + 1] - q0
        for a in range(c):
            mark[Li[q0 + a]] = a
            s[a] = 0.0
        for b in range(c):
            cb = Li[q0 + b]
            lb = Lx[q0 + b]
            s[b] += Zx[Lp[cb]] * lb
            for q in range(Lp[cb] + 1, Lp[cb + 1]):
                a = mark[Li[q]]
                if a >= 0:  # rows of column j below row cb: S⁻¹[r, cb] both ways
                    s[a] += Zx[q] * lb
                    s[b] += Zx[q] * Lx[q0 + a]
        ljj = Lx[Lp[j]]
        acc = 0.0
        for a in range(c):
            Zx[q0 + a] = -s[a] / ljj
            acc += Zx[q0 + a] * Lx[q0 + a]
            mark[Li[q0 + a]] = -1
        Zx[Lp[j]] = (1.0 / ljj - acc) / ljj
