"""The gaussian likelihood with one factor's group effects integrated out, and its gradient, for the
compiled kernel: per group from sufficient statistics when the factor is the only one, otherwise
from the rows (the closed forms of :mod:`hierbayes.build.marginal`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_MCODES,
    A_MZ,
    A_SS_WTW,
    A_SS_WTY,
    A_SS_YTY,
    A_SS_ZTW,
    A_SS_ZTY,
    A_SS_ZTZ,
    A_Y,
    B_COV_AT,
    B_MARG_COL,
    B_MARGINAL,
    B_Q,
    JIT,
    LOG_2PI,
    M_MARG_J,
    M_MARG_Q,
    M_NBLOCKS,
    M_NOBS,
    M_P,
    N_GLOBAL,
    P_META,
    PER_BLOCK,
)
from hierbayes.density.effects import chol_solve, cholesky
from hierbayes.density.table import dot, farr, iarr

# the two-coefficient closed form rejects a point whose rounding could move the log-density by
# more than QUAD_TOL (a bound: float64's epsilon times the terms of each quadratic form); a
# shift of 0.1 changes a NUTS acceptance probability by about a tenth
QUAD_EPS = 2.220446049250313e-16
QUAD_TOL = 0.1


# --- the integrated-out factor -------------------------------------------------------------


@numba.njit(**JIT)
def groups_q1(S, t, lf, sigma2, J, tbar):
    """Per-group terms of :func:`marginal_loglik` for one coefficient: returns
    ``(Σ log|M_j| - w_j'M_j⁻¹w_j / σ², d/dσ² of it, d/dL of it)``."""
    F = 0.0
    s2bar = 0.0
    lbar = 0.0
    prod = 1.0  # Σ log m_j as the log of running products: one log per many groups
    for g in range(J):
        s = S[g]
        m = sigma2 + lf * lf * s
        a = lf * t[g] / m
        quad = lf * t[g] * a
        G = 1.0 / m + a * a / sigma2
        prod *= m
        if not 1e-150 < prod < 1e150:
            F += math.log(prod)
            prod = 1.0
        F -= quad / sigma2
        s2bar -= 0.5 * (G + quad / (sigma2 * sigma2))
        lbar -= s * lf * G - t[g] * a / sigma2
        tbar[g] = lf * a / sigma2
    return F + math.log(prod), s2bar, lbar


@numba.njit(**JIT)
def groups_q2(S, t, LF, sigma2, J, tbar, LFbar):
    """Per-group terms of :func:`marginal_loglik` for two coefficients, in closed form."""
    l11, l21, l22 = LF[0, 0], LF[1, 0], LF[1, 1]
    F = 0.0
    s2bar = 0.0
    b11 = b21 = b22 = 0.0
    inv = 1.0 / sigma2
    prod = 1.0  # Σ log det M_j as the log of running products: one log per many groups
    err = 0.0
    for g in range(J):
        s11, s12, s22 = S[4 * g], S[4 * g + 1], S[4 * g + 3]
        t1, t2 = t[2 * g], t[2 * g + 1]
        # SL = S L
        sl11 = s11 * l11 + s12 * l21
        sl12 = s12 * l22
        sl21 = s12 * l11 + s22 * l21
        sl22 = s22 * l22
        # M = L'SL + σ² I; det M = σ²(σ² + tr L'SL) + det(L)² det(S), a sum of terms of one
        # sign, stays exact where m11 m22 - m12² loses every digit: S (nearly) singular (one
        # row, or a slope constant within the group) and SDs that dwarf σ.
        e11 = l11 * sl11 + l21 * sl21
        m12 = l11 * sl12 + l21 * sl22
        e22 = l22 * sl22
        m11, m22 = e11 + sigma2, e22 + sigma2
        dl = l11 * l22
        det_s = max(s11 * s22 - s12 * s12, 0.0)
        det = sigma2 * (sigma2 + e11 + e22) + dl * dl * det_s
        if not det > 0.0:
            return -math.inf, 0.0
        idet = 1.0 / det
        i11, i12, i22 = m22 * idet, -m12 * idet, m11 * idet
        w1 = l11 * t1 + l21 * t2
        w2 = l22 * t2
        a1 = i11 * w1 + i12 * w2
        a2 = i12 * w1 + i22 * w2
        quad = w1 * a1 + w2 * a2
        # rounding bound of quad = (m22 w1² - 2 m12 w1 w2 + m11 w2²) / det
        err += (m22 * w1 * w1 + 2.0 * abs(m12 * w1 * w2) + m11 * w2 * w2) * idet
        g11 = i11 + a1 * a1 * inv
        g12 = i12 + a1 * a2 * inv
        g22 = i22 + a2 * a2 * inv
        prod *= det
        if not 1e-150 < prod < 1e150:
            F += math.log(prod)
            prod = 1.0
        F -= quad * inv
        s2bar -= 0.5 * (g11 + g22 + quad * inv * inv)
        # d loglik / d L = -(S L G - t a' / σ²), lower entries
        b11 -= sl11 * g11 + sl12 * g12 - t1 * a1 * inv
        b21 -= sl21 * g11 + sl22 * g12 - t2 * a1 * inv
        b22 -= sl21 * g12 + sl22 * g22 - t2 * a2 * inv
        tbar[2 * g] = (l11 * a1) * inv
        tbar[2 * g + 1] = (l21 * a1 + l22 * a2) * inv
    if 0.5 * QUAD_EPS * err * inv > QUAD_TOL:
        # far in the tails (σ tiny next to the SDs, with singular groups) the quadratic forms
        # cancel beyond float precision: a point the sampler must reject, not a wrong value
        return -math.inf, 0.0
    LFbar[0, 0] += b11
    LFbar[1, 0] += b21
    LFbar[1, 1] += b22
    return F + math.log(prod), s2bar


@numba.njit(**JIT)
def groups_general(S, t, LF, sigma2, q, J, tbar, LFbar):
    """Per-group terms of :func:`marginal_loglik` for any number of coefficients (Cholesky)."""
    SL = np.empty((q, q))
    M = np.empty((q, q))
    Ch = np.empty((q, q))
    Minv = np.empty((q, q))
    w = np.empty(q)
    a = np.empty(q)
    e = np.empty(q)
    col = np.empty(q)
    F = 0.0
    s2bar = 0.0
    for g in range(J):
        s0 = g * q * q
        for i in range(q):
            for j in range(q):
                acc = 0.0
                for k in range(q):
                    acc += S[s0 + i * q + k] * LF[k, j]
                SL[i, j] = acc
        for i in range(q):
            for j in range(q):
                acc = 0.0
                for k in range(q):
                    acc += LF[k, i] * SL[k, j]
                M[i, j] = acc + (sigma2 if i == j else 0.0)
            acc = 0.0
            for k in range(q):
                acc += LF[k, i] * t[g * q + k]
            w[i] = acc
        if not cholesky(M, q, Ch):
            return -math.inf, 0.0
        logdet = 0.0
        for i in range(q):
            logdet += 2.0 * math.log(Ch[i, i])
        chol_solve(Ch, w, q, a)
        quad = 0.0
        for i in range(q):
            quad += w[i] * a[i]
        for j in range(q):
            for i in range(q):
                e[i] = 1.0 if i == j else 0.0
            chol_solve(Ch, e, q, col)
            for i in range(q):
                Minv[i, j] = col[i]
        F += logdet - quad / sigma2
        trG = 0.0
        for i in range(q):
            trG += Minv[i, i] + a[i] * a[i] / sigma2
        s2bar -= 0.5 * (trG + quad / (sigma2 * sigma2))
        # d loglik / d L = -(S L G - t a' / σ²), G = M⁻¹ + a a' / σ²
        for i in range(q):
            for j in range(q):
                acc = 0.0
                for k in range(q):
                    acc += SL[i, k] * (Minv[k, j] + a[k] * a[j] / sigma2)
                LFbar[i, j] -= acc - t[g * q + i] * a[j] / sigma2
            acc = 0.0
            for k in range(q):
                acc += LF[i, k] * a[k]
            tbar[g * q + i] = acc / sigma2
    return F, s2bar


@numba.njit(**JIT)
def marginal_loglik(table, meta, L, sigma2, t, rr, Lbar, tbar):
    """Marginal gaussian log-likelihood with the factor's effects integrated out.

    ``t`` (J x q): per-group ``Z_j' r_j``; ``rr``: ``r'r``. Adds ``d/dL`` to ``Lbar`` (lower
    blocks of each marginal term) and writes ``d/dt`` into ``tbar``; returns ``(log-likelihood,
    d/dσ², d/d rr)``.
    """
    n = meta[M_NOBS]
    q, J = meta[M_MARG_Q], meta[M_MARG_J]
    S = farr(table, A_SS_ZTZ)
    # the factor's L: block-diagonal from its terms
    LF = np.zeros((q, q))
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(qb):
                    LF[c0 + i, c0 + j] = L[cov + i * qb + j]
    LFbar = np.zeros((q, q))
    if q == 1:
        F, s2bar, lbar = groups_q1(S, t, LF[0, 0], sigma2, J, tbar)
        LFbar[0, 0] = lbar
    elif q == 2:
        F, s2bar = groups_q2(S, t, LF, sigma2, J, tbar, LFbar)
    else:
        F, s2bar = groups_general(S, t, LF, sigma2, q, J, tbar, LFbar)
    if not math.isfinite(F):
        return -math.inf, 0.0, 0.0
    dof = n - J * q
    loglik = -0.5 * (n * LOG_2PI + dof * math.log(sigma2) + F + rr / sigma2)
    s2bar -= 0.5 * (dof / sigma2 - rr / (sigma2 * sigma2))
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(i + 1):
                    Lbar[cov + i * qb + j] += LFbar[c0 + i, c0 + j]
    return loglik, s2bar, -0.5 / sigma2


@numba.njit(**JIT)
def marginal_suffstat(x, table, meta, L, sigma2, grad, Lbar):
    """Integrated-out factor alone: the likelihood from sufficient statistics (Mode A)."""
    m = meta[M_MARG_J] * meta[M_MARG_Q]
    th, rr, t = fixed_statistics(x, table, meta, m)
    tbar = np.empty(m)
    loglik, s2bar, rrbar = marginal_loglik(table, meta, L, sigma2, t, rr, Lbar, tbar)
    fixed_backward(table, meta, th, rrbar, tbar, m, grad)
    return loglik, s2bar


@numba.njit(**JIT)
def fixed_statistics(x, table, meta, m):
    """``(θ - shift, r'r, Z'r)`` from sufficient statistics, with ``r = y - Wθ``: the residual
    sum of squares and the ``m`` cross products of the integrated-out columns with it."""
    p = meta[M_P]
    WtW = farr(table, A_SS_WTW)
    Wty = farr(table, A_SS_WTY)
    yty = farr(table, A_SS_YTY)
    ZtW = farr(table, A_SS_ZTW)
    Zty = farr(table, A_SS_ZTY)
    th = np.empty(p)
    for c in range(p):
        th[c] = x[c]
    if p > 0:
        th[0] -= yty[1]  # the response is centred by `shift` when there is an intercept
    rr = yty[0]
    for c in range(p):
        acc = 0.0
        for d in range(p):
            acc += WtW[c * p + d] * th[d]
        rr += th[c] * acc - 2.0 * th[c] * Wty[c]
    t = np.empty(m)
    for r in range(m):
        t[r] = Zty[r]
    for c in range(p):  # ZtW is stored column by column: (p, m)
        tc = th[c]
        off = c * m
        for r in range(m):
            t[r] -= ZtW[off + r] * tc
    return th, rr, t


@numba.njit(**JIT)
def fixed_backward(table, meta, th, rrbar, tbar, m, grad):
    """Add to ``grad`` the derivative in θ through ``r'r`` (``rrbar``) and ``Z'r`` (``tbar``)."""
    p = meta[M_P]
    WtW = farr(table, A_SS_WTW)
    Wty = farr(table, A_SS_WTY)
    ZtW = farr(table, A_SS_ZTW)
    for c in range(p):
        acc = 0.0
        for d in range(p):
            acc += WtW[c * p + d] * th[d]
        grad[c] += rrbar * (2.0 * acc - 2.0 * Wty[c]) - dot(ZtW, c * m, tbar, m)


@numba.njit(**JIT)
def marginal_rows(table, meta, L, sigma2, eta, Lbar):
    """Integrated-out factor beside sampled ones: residuals row by row. ``η`` is overwritten
    with ``d/dη``."""
    n, q, J = meta[M_NOBS], meta[M_MARG_Q], meta[M_MARG_J]
    y = farr(table, A_Y)
    codes = iarr(table, A_MCODES)
    Z = farr(table, A_MZ)
    t = np.zeros(J * q)
    rr = 0.0
    for i in range(n):
        r = y[i] - eta[i]
        eta[i] = r  # the residual, kept for the backward pass
        rr += r * r
    if Z.shape[0] == 0:
        for i in range(n):
            t[codes[i]] += eta[i]
    else:
        for k in range(q):
            off = k * n
            for i in range(n):
                t[codes[i] * q + k] += Z[off + i] * eta[i]
    tbar = np.empty(J * q)
    loglik, s2bar, rrbar = marginal_loglik(table, meta, L, sigma2, t, rr, Lbar, tbar)
    # d/dη = -d/dr, r-bar_i = 2 r_i d/d(r'r) + Z_i t-bar_g(i)
    if Z.shape[0] == 0:
        for i in range(n):
            eta[i] = -(2.0 * eta[i] * rrbar + tbar[codes[i]])
    else:
        for i in range(n):
            eta[i] = -2.0 * eta[i] * rrbar
        for k in range(q):
            off = k * n
            for i in range(n):
                eta[i] -= Z[off + i] * tbar[codes[i] * q + k]
    return loglik, s2bar
