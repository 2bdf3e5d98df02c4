"""Covariance factors of the group terms and their group effects, forward and backward (reverse-mode
gradient), for the compiled kernel: ``L = diag(sd) C`` from the unconstrained parameters, and each
group's effects from its centred or non-centred coordinates (see :mod:`hierbayes.density.kernel`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    B_CORRELATED,
    B_COV_AT,
    B_EFF_AT,
    B_HC,
    B_J,
    B_MARGINAL,
    B_OFF_CORR,
    B_OFF_EFF,
    B_OFF_SD,
    B_Q,
    B_SD_AT,
    EXPANDED,
    JIT,
    LOG_2PI,
    M_NBLOCKS,
    M_NDBLOCKS,
    N_GLOBAL,
    P_CHOICE,
    P_HC_COLS,
    P_HC_X,
    P_LAMBDA,
    P_LKJ,
    P_META,
    P_PRIOR_SD,
    PARTIAL,
    PER_BLOCK,
)
from hierbayes.density.effects_partial import partial_backward, partial_forward
from hierbayes.density.effects_q1 import one_coefficient_backward, one_coefficient_forward
from hierbayes.density.expanded import log_prior_signed
from hierbayes.density.prior_density import log_prior_positive
from hierbayes.density.table import farr, iarr

# --- small dense linear algebra -------------------------------------------------------------


@numba.njit(**JIT)
def cholesky(A, q, C):
    """Lower Cholesky factor of the q x q matrix ``A`` into ``C``; False if not positive."""
    for i in range(q):
        for j in range(i + 1):
            s = A[i, j]
            for k in range(j):
                s -= C[i, k] * C[j, k]
            if i == j:
                if s <= 0.0 or not math.isfinite(s):
                    return False
                C[i, i] = math.sqrt(s)
            else:
                C[i, j] = s / C[j, j]
        for j in range(i + 1, q):
            C[i, j] = 0.0
    return True


@numba.njit(**JIT)
def chol_solve(C, b, q, out):
    """Solve ``C C' out = b`` for the lower factor ``C``."""
    for i in range(q):
        s = b[i]
        for k in range(i):
            s -= C[i, k] * out[k]
        out[i] = s / C[i, i]
    for i in range(q - 1, -1, -1):
        s = out[i]
        for k in range(i + 1, q):
            s -= C[k, i] * out[k]
        out[i] = s / C[i, i]


# --- covariance factors -----------------------------------------------------------------------


@numba.njit(**JIT)
def covariances(x, table, meta, grad, sd, C, L):
    """SDs, correlation factors and ``L = diag(sd) C`` of every group term; their log prior."""
    lp = 0.0
    for b in range(meta[M_NBLOCKS] + meta[M_NDBLOCKS]):  # the mean's, then an own parameter's
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        q = bm[B_Q]
        at = bm[B_COV_AT]
        sd_priors = farr(table, base + P_PRIOR_SD)
        choice = iarr(table, base + P_CHOICE)
        for k in range(q):
            pos = bm[B_OFF_SD] + k
            if choice[k] == EXPANDED:  # a signed scale s, sd = |s| (density.expanded)
                lpk, value = log_prior_signed(sd_priors, k, x[pos], grad, pos)
            else:
                lpk, value = log_prior_positive(sd_priors, k, x[pos], grad, pos)
            lp += lpk
            sd[bm[B_SD_AT] + k] = value
        for i in range(q):
            for j in range(q):
                C[at + i * q + j] = 1.0 if i == j else 0.0
        if bm[B_CORRELATED] == 1:
            lkj = farr(table, base + P_LKJ)
            eta = lkj[0]
            lp += lkj[1]
            off = bm[B_OFF_CORR]
            for i in range(1, q):
                start = off + (i * (i - 1)) // 2
                s = 0.0
                for j in range(i):
                    s += x[start + j] * x[start + j]
                norm = math.sqrt(1.0 + s)
                for j in range(i):
                    C[at + i * q + j] = x[start + j] / norm
                C[at + i * q + i] = 1.0 / norm
                # LKJ density with the Jacobian of the row map: -(η + (q - 1)/2) log(1 + |x_i|²)
                lp -= (eta + 0.5 * (q - 1)) * math.log1p(s)
                for j in range(i):
                    grad[start + j] -= (2.0 * eta + q - 1.0) * x[start + j] / (1.0 + s)
        for i in range(q):
            for j in range(q):
                L[at + i * q + j] = sd[bm[B_SD_AT] + i] * C[at + i * q + j]
        for k in range(q):
            if choice[k] == EXPANDED:  # uncorrelated: L_kk = s, signed
                L[at + k * q + k] = x[bm[B_OFF_SD] + k]
    return lp


@numba.njit(**JIT)
def covariance_backward(x, table, meta, grad, sd, C, Lbar):
    """Push the adjoint of every ``L`` back to the log SDs and the correlation rows."""
    for b in range(meta[M_NBLOCKS] + meta[M_NDBLOCKS]):  # the mean's, then an own parameter's
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        q = bm[B_Q]
        at = bm[B_COV_AT]
        choice = iarr(table, base + P_CHOICE)
        for k in range(q):
            if choice[k] == EXPANDED:  # L_kk = s
                grad[bm[B_OFF_SD] + k] += Lbar[at + k * q + k]
                continue
            sdbar = 0.0
            for j2 in range(k + 1):
                sdbar += Lbar[at + k * q + j2] * C[at + k * q + j2]
            grad[bm[B_OFF_SD] + k] += sdbar * sd[bm[B_SD_AT] + k]
        if bm[B_CORRELATED] == 1:
            off = bm[B_OFF_CORR]
            for i in range(1, q):
                start = off + (i * (i - 1)) // 2
                s = 0.0
                for j in range(i):
                    s += x[start + j] * x[start + j]
                norm = math.sqrt(1.0 + s)
                sdi = sd[bm[B_SD_AT] + i]
                dot = 0.0
                for j in range(i + 1):
                    dot += C[at + i * q + j] * Lbar[at + i * q + j] * sdi
                for j in range(i):
                    cbar = Lbar[at + i * q + j] * sdi
                    grad[start + j] += (cbar - C[at + i * q + j] * dot) / norm


# --- group effects ----------------------------------------------------------------------------


@numba.njit(**JIT)
def effects_forward(x, table, meta, L, U, Zeta):
    """What the sampled group terms add to ``η`` (``U``: the effects ``u``, or for hierarchically
    centred effects ``u`` plus the fixed terms they hold) and standardised ``ζ``; their log
    prior."""
    lp = 0.0
    for b in range(meta[M_NBLOCKS] + meta[M_NDBLOCKS]):  # the mean's, then an own parameter's
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        if bm[B_MARGINAL] == 1:
            continue
        q, J = bm[B_Q], bm[B_J]
        at, cov = bm[B_EFF_AT], bm[B_COV_AT]
        off = bm[B_OFF_EFF]
        choice = iarr(table, base + P_CHOICE)
        hc = bm[B_HC]
        hc_cols = iarr(table, base + P_HC_COLS)
        hc_x = farr(table, base + P_HC_X)
        if q == 1 and choice[0] == PARTIAL:  # one weight per group (density.effects_partial)
            lam = farr(table, base + P_LAMBDA)
            lp += partial_forward(x, J, at, off, cov, lam, L, U, Zeta)
            continue
        if q == 1:  # the same, in loops the compiler vectorises (density.effects_q1)
            hold = (hc, hc_cols, hc_x)
            lp += one_coefficient_forward(x, J, at, off, cov, choice[0] == 1, *hold, L, U, Zeta)
            continue
        for k in range(q):
            lkk = L[cov + k * q + k]
            centred = choice[k] == 1
            log_lkk = math.log(lkk) if centred else 0.0
            for j in range(J):
                m = 0.0
                for j2 in range(k):
                    m += L[cov + k * q + j2] * Zeta[at + j * q + j2]
                value = x[off + k * J + j]
                if centred:
                    # U enters η; with hierarchical centring the free value is U = u + the fixed
                    # terms it holds (the group's values), whose columns the row loops skip
                    U[at + j * q + k] = value
                    for a in range(hc):
                        if hc_cols[hc + a] == k:
                            value -= hc_x[j * hc + a] * x[hc_cols[a]]
                    zeta = (value - m) / lkk
                    lp -= log_lkk
                else:
                    zeta = value
                    U[at + j * q + k] = m + lkk * zeta
                Zeta[at + j * q + k] = zeta
                lp -= 0.5 * zeta * zeta + 0.5 * LOG_2PI
    return lp


@numba.njit(**JIT)
def effects_backward(table, meta, grad, L, U, Zeta, Ubar, Lbar):
    """Reverse of :func:`effects_forward` given ``Ubar`` (d log-likelihood / d u)."""
    for b in range(meta[M_NBLOCKS] + meta[M_NDBLOCKS]):  # the mean's, then an own parameter's
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        if bm[B_MARGINAL] == 1:
            continue
        q, J = bm[B_Q], bm[B_J]
        at, cov = bm[B_EFF_AT], bm[B_COV_AT]
        off = bm[B_OFF_EFF]
        choice = iarr(table, base + P_CHOICE)
        hc = bm[B_HC]
        hc_cols = iarr(table, base + P_HC_COLS)
        hc_x = farr(table, base + P_HC_X)
        if q == 1 and choice[0] == PARTIAL:  # one weight per group (density.effects_partial)
            lam = farr(table, base + P_LAMBDA)
            partial_backward(grad, J, at, off, cov, lam, L, Zeta, Ubar, Lbar)
            continue
        if q == 1:  # the same, with the adjoints in registers (density.effects_q1)
            one_coefficient_backward(
                grad, J, at, off, cov, choice[0] == 1, hc, hc_cols, hc_x, L, Zeta, Ubar, Lbar
            )
            continue
        zbar = np.zeros(q)
        for j in range(J):
            for k in range(q):
                zbar[k] = 0.0
            for k in range(q - 1, -1, -1):
                lkk = L[cov + k * q + k]
                zeta = Zeta[at + j * q + k]
                ubar = Ubar[at + j * q + k]
                zbar[k] -= zeta  # standard normal density of ζ
                if choice[k] == 1:
                    # ζ = (u - m) / L_kk, density also has -log L_kk
                    grad[off + k * J + j] += ubar + zbar[k] / lkk
                    for a in range(hc):  # u = free value - the fixed terms it holds
                        if hc_cols[hc + a] == k:
                            grad[hc_cols[a]] -= zbar[k] / lkk * hc_x[j * hc + a]
                    mbar = -zbar[k] / lkk
                    Lbar[cov + k * q + k] += -zbar[k] * zeta / lkk - 1.0 / lkk
                else:
                    # u = m + L_kk ζ
                    mbar = ubar
                    Lbar[cov + k * q + k] += ubar * zeta
                    zbar[k] += ubar * lkk
                    grad[off + k * J + j] += zbar[k]
                for j2 in range(k):
                    Lbar[cov + k * q + j2] += mbar * Zeta[at + j * q + j2]
                    zbar[j2] += mbar * L[cov + k * q + j2]
