"""numba loops over posterior draws: group effects on each row, per-group sums, exact draws.

What follows sampling repeats small computations for every draw (thousands) and every row or
group (up to millions); written as NumPy they build large temporaries. These loops are compiled
once per machine and cached (``cache=True``); this module calls no numba code of other modules,
so its cache is renewed whenever it changes.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["add_effects", "conditional_effects", "fixed_residual_sums", "group_sums"]

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def add_effects(eta, u, codes, Z):
    """``eta[s, i] += Z_i · u[s, codes_i]`` for every draw ``s`` and row ``i``.

    ``eta``: (S, n); ``u``: (S, J, q); ``codes``: (n,); ``Z``: (n, q), or (0, q) for a varying
    intercept (Z = 1).
    """
    S, n = eta.shape
    q = u.shape[2]
    for s in range(S):
        if Z.shape[0] == 0:
            for i in range(n):
                eta[s, i] += u[s, codes[i], 0]
        else:
            for i in range(n):
                acc = 0.0
                for k in range(q):
                    acc += Z[i, k] * u[s, codes[i], k]
                eta[s, i] += acc


@numba.njit(**_JIT)
def group_sums(r, codes, Z, n_groups):
    """Per draw and group, ``Σ_{i in group} Z_i r[s, i]``: (S, J, q) from ``r`` (S, n)."""
    S, n = r.shape
    q = Z.shape[1]
    out = np.zeros((S, n_groups, q))
    for s in range(S):
        for i in range(n):
            g = codes[i]
            for k in range(q):
                out[s, g, k] += Z[i, k] * r[s, i]
    return out


@numba.njit(**_JIT)
def fixed_residual_sums(Zty, ZtX, b, out):
    """``out[s, j] = Z_j'y - Z_j'X b_s``: per draw and group, Z' times the fixed-part residuals.

    ``Zty``: (J, q); ``ZtX``: (J, q, p); ``b``: (S, p); ``out``: (S, J, q), returned.
    """
    S, p = b.shape
    J, q = Zty.shape
    for s in range(S):
        for j in range(J):
            for k in range(q):
                acc = Zty[j, k]
                for c in range(p):
                    acc -= ZtX[j, k, c] * b[s, c]
                out[s, j, k] = acc
    return out


@numba.njit(**_JIT)
def _cholesky(A, q, C):
    for i in range(q):
        for j in range(i + 1):
            acc = A[i, j]
            for k in range(j):
                acc -= C[i, k] * C[j, k]
            if i == j:
                C[i, i] = math.sqrt(acc) if acc > 0.0 else math.nan
            else:
                C[i, j] = acc / C[j, j]
        for j in range(i + 1, q):
            C[i, j] = 0.0


@numba.njit(**_JIT)
def _conditional_small(t, ZtZ, L, sigma, eps, s, out):
    """:func:`conditional_effects` of draw ``s`` in closed form for one or two coefficients."""
    J, q = t.shape[1], t.shape[2]
    sg = sigma[s]
    s2 = sg * sg
    if q == 1:
        l00 = L[s, 0, 0]
        for j in range(J):
            c = math.sqrt(l00 * l00 * ZtZ[j, 0, 0] + s2)
            out[s, j, 0] = l00 * ((l00 * t[s, j, 0] / c + sg * eps[s, j, 0]) / c)
        return
    l00, l10, l11 = L[s, 0, 0], L[s, 1, 0], L[s, 1, 1]
    for j in range(J):
        a00, a01, a11 = ZtZ[j, 0, 0], ZtZ[j, 0, 1], ZtZ[j, 1, 1]
        al00 = a00 * l00 + a01 * l10
        al10 = a01 * l00 + a11 * l10
        al11 = a11 * l11
        e00 = l00 * al00 + l10 * al10
        e11 = l11 * al11
        m00 = e00 + s2
        m01 = l11 * al10
        t0, t1 = t[s, j, 0], t[s, j, 1]
        w0 = l00 * t0 + l10 * t1
        w1 = l11 * t1
        c00 = math.sqrt(m00)
        c10 = m01 / c00
        # c11² = det M / m00, with det M = σ²(σ² + tr L'AL) + det(L)² det(A) free of the
        # cancellation of m11 - c10² when A is singular (one row) and the SDs dwarf σ
        dl = l00 * l11
        det = s2 * (s2 + e00 + e11) + dl * dl * max(a00 * a11 - a01 * a01, 0.0)
        c11 = math.sqrt(det / m00)
        y0 = w0 / c00
        y1 = (w1 - c10 * y0) / c11
        v1 = (y1 + sg * eps[s, j, 1]) / c11
        v0 = (y0 + sg * eps[s, j, 0] - c10 * v1) / c00
        out[s, j, 0] = l00 * v0
        out[s, j, 1] = l10 * v0 + l11 * v1


@numba.njit(**_JIT)
def conditional_effects(t, ZtZ, L, sigma, eps, out):
    """One draw of each group's effects from their gaussian conditional posterior, per draw.

    With ``M = σ² I + L' Z_j'Z_j L`` and ``w = L' t_j`` (``t_j = Z_j' r_j``), ``v ~ N(M⁻¹ w,
    σ² M⁻¹)`` and ``u_j = L v``, using the standard normal ``eps`` (S, J, q). ``t``: (S, J, q);
    ``ZtZ``: (J, q, q); ``L``: (S, q, q) lower Cholesky factors of the effects' covariance;
    ``sigma``: (S,). The draws are written to ``out`` (S, J, q), which is returned.
    """
    S, J, q = t.shape
    M = np.empty((q, q))
    C = np.empty((q, q))
    SL = np.empty((q, q))
    w = np.empty(q)
    y = np.empty(q)
    v = np.empty(q)
    for s in range(S):
        s2 = sigma[s] * sigma[s]
        if q <= 2:
            _conditional_small(t, ZtZ, L, sigma, eps, s, out)
            continue
        for j in range(J):
            for a in range(q):
                for b in range(q):
                    acc = 0.0
                    for k in range(q):
                        acc += ZtZ[j, a, k] * L[s, k, b]
                    SL[a, b] = acc
            for a in range(q):
                for b in range(q):
                    acc = 0.0
                    for k in range(q):
                        acc += L[s, k, a] * SL[k, b]
                    M[a, b] = acc + (s2 if a == b else 0.0)
                acc = 0.0
                for k in range(q):
                    acc += L[s, k, a] * t[s, j, k]
                w[a] = acc
            _cholesky(M, q, C)
            # mean: C C' m = w; noise: C' e = eps, so e ~ N(0, M⁻¹)
            for a in range(q):
                acc = w[a]
                for k in range(a):
                    acc -= C[a, k] * y[k]
                y[a] = acc / C[a, a]
            for a in range(q - 1, -1, -1):
                acc = y[a] + sigma[s] * eps[s, j, a]
                for k in range(a + 1, q):
                    acc -= C[k, a] * v[k]
                v[a] = acc / C[a, a]
            for a in range(q):
                acc = 0.0
                for k in range(a + 1):
                    acc += L[s, a, k] * v[k]
                out[s, j, a] = acc
    return out
