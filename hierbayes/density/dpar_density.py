"""A linear predictor for one of the family's own parameters, in the compiled kernel.

With ``sigma="~ x + (1 | g)"`` (brms's distributional parameters) the family's own parameter
``θ_k`` (``σ`` of a gaussian model) varies by row on the log scale:
``log θ_k,i = X_d θ_d + Σ_b Z_b u_b[codes_b]``, with ``θ_d = [Intercept_c, β]`` on the centred
design ``[1, X_d - mean(X_d)]`` (as the mean's, and as :mod:`hierbayes.build.dpar`) and the
sub-model's group terms sampled non-centred with their own SD and LKJ priors. Those terms are
packed as blocks after the mean's (:data:`~hierbayes.density.codes.M_NDBLOCKS`), so their SDs,
correlations and effects go through :mod:`hierbayes.density.effects` with the mean's; this module
adds them into ``log θ_k,i`` instead of ``η``.

The rows' log-likelihood comes from the family's own ``prepare``/``row``
(:mod:`hierbayes.families.dispatch`) with ``θ_k`` replaced row by row, which gives
``dℓ_i/dθ_k`` per row; the chain rule ``dℓ_i/d log θ_k,i = θ_k,i dℓ_i/dθ_k`` then takes it to
``θ_d`` (through ``X_d``) and to the sub-model's group effects. Any family whose ``row`` returns
its own parameters' derivatives compiles here; :data:`DPAR_FAMILIES` lists them by code. A
family with a ``scale_row`` (the row's log-likelihood and derivative in the log of its own
scale, the other parameters prepared once: gaussian, student_t) uses it for that parameter:
``prepare`` once per row costs a log Γ and digamma of ``ν`` for student_t, three times the
rest of the row.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_CONST,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    B_EFF_AT,
    B_Q,
    D_META,
    D_PRIOR,
    D_X,
    JIT,
    M_FAMILY,
    M_FPAR,
    M_NBLOCKS,
    M_NDBLOCKS,
    M_NOBS,
    N_GLOBAL,
    P_CODES,
    P_META,
    P_Z,
    PER_BLOCK,
)
from hierbayes.density.prior_density import log_prior
from hierbayes.density.table import dot, farr, iarr
from hierbayes.families import beta, gamma, gaussian, lognormal, negativebinomial, student_t

__all__ = ["DPAR_FAMILIES", "dpar_base", "dpar_loglik", "dpar_rows"]

DPAR_FAMILIES = frozenset(
    f.CODE for f in (gaussian, student_t, lognormal, gamma, negativebinomial, beta)
)
"""Codes of the families whose own parameter may have a linear predictor in the kernel."""


@numba.njit(**JIT)
def dpar_base(meta):
    """Table index of the parameter's arrays (after every group term's)."""
    return N_GLOBAL + (meta[M_NBLOCKS] + meta[M_NDBLOCKS]) * PER_BLOCK


@numba.njit(**JIT)
def _rows_loop(prepare, row, k, y, eta, ls, trials, weights, theta, tbar):
    has_n = trials.shape[0] > 0
    has_w = weights.shape[0] > 0
    lp = 0.0
    g0 = 0.0
    g1 = 0.0
    for i in range(y.shape[0]):
        value = math.exp(ls[i])
        theta[k] = value
        ll, d1, a, b = row(y[i], eta[i], trials[i] if has_n else 1.0, prepare(theta))
        w = weights[i] if has_w else 1.0
        lp += w * ll
        eta[i] = w * d1
        ls[i] = w * (a if k == 0 else b) * value  # chain rule to log θ_k,i
        g0 += w * a
        g1 += w * b
    if tbar.shape[0] > 0:
        tbar[0] += g0
    if tbar.shape[0] > 1:
        tbar[1] += g1
    return lp


@numba.njit(**JIT)
def _scale_loop(prepare, scale_row, k, y, eta, ls, trials, weights, theta, tbar):
    """As :func:`_rows_loop` for a family's ``scale_row``: the row's log-likelihood with the
    log of its own parameter ``k`` (a scale), the other parameters prepared once."""
    has_n = trials.shape[0] > 0
    has_w = weights.shape[0] > 0
    theta[k] = 1.0
    aux = prepare(theta)
    lp = 0.0
    g0 = 0.0
    g1 = 0.0
    for i in range(y.shape[0]):
        ll, d1, dls, a, b = scale_row(y[i], eta[i], trials[i] if has_n else 1.0, aux, ls[i])
        w = weights[i] if has_w else 1.0
        lp += w * ll
        eta[i] = w * d1
        ls[i] = w * dls
        g0 += w * a
        g1 += w * b
    if tbar.shape[0] > 0:
        tbar[0] += g0
    if tbar.shape[0] > 1:
        tbar[1] += g1
    return lp


@numba.njit(**JIT)
def dpar_rows(code, k, y, eta, ls, trials, weights, theta, tbar):
    """Σ of the rows' log-likelihoods (without constants, times their weights) with own
    parameter ``k`` at ``exp(ls[i])`` in row ``i`` and the others at ``theta``.

    ``η`` is overwritten with ``dℓ/dη``, ``ls`` with ``dℓ/d log θ_k``; the derivatives in
    the other own parameters are added to ``tbar`` (its slot ``k``: meaningless). An unknown
    ``code`` gives NaN.
    """
    if code == gaussian.CODE and k == 0:  # σ: the rows' own scale_row
        fam = (gaussian.prepare, gaussian.scale_row)
        return _scale_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    if code == student_t.CODE and k == 0:
        fam = (student_t.prepare, student_t.scale_row)
        return _scale_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    if code == student_t.CODE:  # ν by row: prepared row by row
        fam = (student_t.prepare, student_t.row)
        return _rows_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    if code == lognormal.CODE:
        fam = (lognormal.prepare, lognormal.row)
        return _rows_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    if code == gamma.CODE:
        fam = (gamma.prepare, gamma.row)
        return _rows_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    if code == negativebinomial.CODE:
        fam = (negativebinomial.prepare, negativebinomial.row)
        return _rows_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    if code == beta.CODE:
        fam = (beta.prepare, beta.row)
        return _rows_loop(*fam, k, y, eta, ls, trials, weights, theta, tbar)
    return np.nan


@numba.njit(**JIT)
def _add_effects(table, meta, U, out, sign):
    """``out += Z_b u_b[codes_b]`` over the parameter's group terms (``sign`` 1), or their
    adjoint ``U += Z_b' out`` per group (``sign`` -1)."""
    n = meta[M_NOBS]
    first = meta[M_NBLOCKS]
    for b in range(first, first + meta[M_NDBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        q, at = bm[B_Q], bm[B_EFF_AT]
        codes = iarr(table, base + P_CODES)
        Z = farr(table, base + P_Z)
        if Z.shape[0] == 0:  # a varying intercept
            for i in range(n):
                if sign > 0:
                    out[i] += U[at + codes[i]]
                else:
                    U[at + codes[i]] += out[i]
            continue
        for kk in range(q):
            off = kk * n
            for i in range(n):
                where = at + codes[i] * q + kk
                if sign > 0:
                    out[i] += Z[off + i] * U[where]
                else:
                    U[where] += Z[off + i] * out[i]


@numba.njit(**JIT)
def dpar_loglik(x, table, meta, U, eta, theta, jac, grad, Ubar):
    """Log-likelihood of the response given ``η`` and the parameter's linear predictor, with
    the prior of ``θ_d``.

    ``theta``/``jac``: the family's other own parameters (natural scale, and their derivative in
    their unconstrained values at ``x[M_FPAR]...``). ``η`` is overwritten with ``dℓ/dη``; the
    gradient in ``θ_d``, the other own parameters and (into ``Ubar``) the parameter's group
    effects is added.
    """
    n = meta[M_NOBS]
    base = dpar_base(meta)
    dm = iarr(table, base + D_META)
    k, nfam, pd, at = dm[0], dm[1], dm[2], dm[3]
    X = farr(table, base + D_X)
    priors = farr(table, base + D_PRIOR)
    lp = 0.0
    ls = np.zeros(n)  # log θ_k per row
    for c in range(pd):
        tc = x[at + c]
        lp += log_prior(priors, c, tc, grad, at + c)
        off = c * n
        for i in range(n):
            ls[i] += X[off + i] * tc
    _add_effects(table, meta, U, ls, 1)
    full = np.zeros(nfam)  # every own parameter, slot k set row by row
    j = 0
    for s in range(nfam):
        if s != k:
            full[s] = theta[j]
            j += 1
    tbar = np.zeros(nfam)
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    lp += farr(table, A_CONST)[0]
    lp += dpar_rows(meta[M_FAMILY], k, y, eta, ls, trials, weights, full, tbar)
    j = 0
    for s in range(nfam):
        if s != k:
            grad[meta[M_FPAR] + j] += tbar[s] * jac[j]
            j += 1
    for c in range(pd):
        grad[at + c] += dot(X, c * n, ls, n)
    _add_effects(table, meta, Ubar, ls, -1)
    return lp
