"""Cholesky factor and selected inverse of the Schur complement of
:mod:`hierbayes.density.laplace_joint`, in dense storage but skipping its zeros.

Where the factors nest (pupils in classes in schools), the Schur complement left after
eliminating the factor with the most groups is itself sparse and its factor has no fill, so a
right-looking factorisation that skips zero multipliers costs ``Σ_k nnz(column k)²`` rather than
``m³ / 3``; crossed factors fill it and the cost is the dense one. The gradient needs the inverse
only on the factor's pattern (the entries rows touch lie on it), which Takahashi's recursion
gives in the same ``Σ_k nnz(column k)²`` from the factor (Takahashi, Fagan & Chin 1973; the
"selected inversion" of INLA). The pattern is symbolic (:func:`filled_pattern`), so an entry that
cancels to zero is still inverted.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import JIT

__all__ = ["filled_pattern", "selected_inverse", "sparse_cholesky"]


@numba.njit(**JIT)
def sparse_cholesky(A, m, L):
    """Lower Cholesky factor of the m x m matrix ``A`` into ``L`` (right-looking, skipping zero
    multipliers); False if ``A`` is not positive definite."""
    for i in range(m):
        for j in range(m):
            L[i, j] = A[i, j] if j <= i else 0.0
    rows = np.empty(m, dtype=np.int64)
    for k in range(m):
        d = L[k, k]
        if not (d > 0.0 and math.isfinite(d)):
            return False
        d = math.sqrt(d)
        L[k, k] = d
        cnt = 0
        for i in range(k + 1, m):
            if L[i, k] != 0.0:
                L[i, k] /= d
                rows[cnt] = i
                cnt += 1
        for a in range(cnt):
            i = rows[a]
            lik = L[i, k]
            for b in range(a + 1):
                j = rows[b]
                L[i, j] -= lik * L[j, k]
    return True


@numba.njit(**JIT)
def filled_pattern(nz, m):
    """The pattern of the Cholesky factor of a matrix whose lower pattern is ``nz`` (m x m
    booleans, updated in place with the fill)."""
    rows = np.empty(m, dtype=np.int64)
    for k in range(m):
        cnt = 0
        for i in range(k + 1, m):
            if nz[i, k]:
                rows[cnt] = i
                cnt += 1
        for a in range(cnt):
            for b in range(a + 1):
                nz[rows[a], rows[b]] = True


@numba.njit(**JIT)
def selected_inverse(L, nz, m):
    """``(L L')⁻¹`` on the filled pattern ``nz`` of ``L`` and the diagonal (symmetric; zero
    elsewhere), by Takahashi's recursion from the last column."""
    Z = np.zeros((m, m))
    rows = np.empty(m, dtype=np.int64)
    for j in range(m - 1, -1, -1):
        cnt = 0
        for i in range(j + 1, m):
            if nz[i, j]:
                rows[cnt] = i
                cnt += 1
        ljj = L[j, j]
        for a in range(cnt):
            i = rows[a]
            s = 0.0
            for b in range(cnt):
                s += Z[i, rows[b]] * L[rows[b], j]
            Z[i, j] = -s / ljj
        s = 0.0
        for a in range(cnt):
            i = rows[a]
            Z[j, i] = Z[i, j]
            s += Z[i, j] * L[i, j]
        Z[j, j] = (1.0 / ljj - s) / ljj
    return Z
