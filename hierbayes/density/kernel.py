"""The log-density of a hierbayes model and its gradient, in numba, compiled once per machine.

One function, :func:`logp_grad`, evaluates every model hierbayes builds: the model's structure
(family, fixed effects, group terms, their parameterisation, priors) is read from integer and
float arrays that :mod:`hierbayes.density.layout` packs, not compiled into the code. So the
machine code is the same for every model and numba caches it on disk (``cache=True``): after the
first fit on a machine, no model compiles anything.

Unconstrained parameters ``x`` (see :class:`hierbayes.density.layout.Layout` for their order):

* ``θ``: the fixed effects, ``[Intercept_c, β]`` (intercept at the predictors' means);
* per group term: ``log sd`` (q values); for correlated terms the rows of the correlation's
  Cholesky factor (row ``i`` holds ``i`` free values ``x_i``; ``C_i = (x_i, 1) / |(x_i, 1)|``);
  and unless the term's factor is integrated out, its group effects, coefficient by coefficient,
  each either centred (``u``) or non-centred (``z``). The centred effects of a term may be
  sampled as ``u`` plus fixed terms (intercepts: ``Intercept_c`` for one term, and the
  group-level predictors constant within its groups; slopes: the fixed slope of the same
  column; hierarchical centring, see :mod:`hierbayes.density.centring`): this takes the ridge
  between those fixed effects and the group effects out of the sampler's way, and those
  columns out of the row loops;
* the family's own parameters on the log scale (``log σ`` for gaussian), a probability on the
  logit scale (the zero-inflation ``logit zi``).

The response's log-likelihood and its derivative in the linear predictor come from the family's
own module, through :func:`hierbayes.families.dispatch.loglik_grad`.

With ``L = diag(sd) C``, coefficient ``k`` of a group has conditional mean
``m_k = Σ_{l<k} L_kl ζ_l`` given the earlier ones; centred: ``u_k ~ N(m_k, L_kk)``,
``ζ_k = (u_k - m_k) / L_kk``; non-centred: ``ζ_k = z_k ~ N(0, 1)``, ``u_k = m_k + L_kk ζ_k``
(as :mod:`hierbayes.build.groups`).
A gaussian factor whose effects are integrated out contributes the marginal likelihood of
:mod:`hierbayes.build.marginal`, from per-group sufficient statistics when it is the only factor.

The gradient is written out by hand (reverse mode); the tests check it against finite
differences, and the log-density against the PyMC model of :mod:`hierbayes.build`.

The kernel's parts live in their own modules: :mod:`~hierbayes.density.codes` (the layout of the
arrays), :mod:`~hierbayes.density.table` (reading them), :mod:`~hierbayes.density.prior_density`
(priors), :mod:`~hierbayes.density.effects` (covariance factors and group effects) and
:mod:`~hierbayes.density.marginal` (the integrated-out gaussian factor); this module holds the
linear predictor, :func:`logp_grad` and nutpie's callbacks.
"""

from __future__ import annotations

import functools
from typing import Any

import numba
import numpy as np
from numba.core import types

from hierbayes.density.agq import agq_loglik
from hierbayes.density.codes import (
    A_CONST,
    A_META,
    A_OFFSET,
    A_PRIOR_FIXED,
    A_PRIOR_FPAR,
    A_TRIALS,
    A_W,
    A_WEIGHTS,
    A_Y,
    B_EFF_AT,
    B_HC,
    B_MARGINAL,
    B_Q,
    JIT,
    M_AGQ,
    M_CELLS,
    M_COV_SIZE,
    M_DPAR,
    M_EFF_SIZE,
    M_FAMILY,
    M_FPAR,
    M_LAP_F,
    M_LAP_Q,
    M_MARG_Q,
    M_NBLOCKS,
    M_NDIM,
    M_NFPAR,
    M_NOBS,
    M_ORDERED,
    M_P,
    M_PAIRS,
    M_SD_SIZE,
    M_SUFFSTAT,
    N_GLOBAL,
    P_CODES,
    P_HC_COLS,
    P_META,
    P_Z,
    PER_BLOCK,
)
from hierbayes.density.crossed_marginal import CROSSED, crossed_suffstat
from hierbayes.density.dpar_density import dpar_loglik
from hierbayes.density.effects import (
    covariance_backward,
    covariances,
    effects_backward,
    effects_forward,
)
from hierbayes.density.fixed_cells import cells_backward, cells_forward
from hierbayes.density.laplace import laplace_loglik
from hierbayes.density.laplace_joint import joint_laplace_loglik
from hierbayes.density.marginal import marginal_rows, marginal_suffstat
from hierbayes.density.nested_marginal import NESTED, nested_suffstat
from hierbayes.density.ordered import ordered_backward, ordered_forward
from hierbayes.density.pairs import rotate_backward, rotate_forward
from hierbayes.density.prior_density import log_prior, log_prior_own
from hierbayes.density.shear import shear_backward, shear_forward
from hierbayes.density.table import dot, farr, iarr
from hierbayes.families.dispatch import loglik_grad

# --- likelihoods ------------------------------------------------------------------------------


@numba.njit(**JIT)
def _in_group_effects(table, meta):
    """Whether each fixed column enters ``η`` through a term's hierarchically centred
    effects (then the row loops skip it)."""
    inside = np.zeros(meta[M_P], dtype=np.bool_)
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        hc = iarr(table, base + P_META)[B_HC]
        if hc > 0:
            cols = iarr(table, base + P_HC_COLS)  # the columns, then their coefficients
            for a in range(hc):
                inside[cols[a]] = True
    return inside


@numba.njit(**JIT)
def _linear_predictor(x, table, meta, U, eta):
    """``η = offset + W θ + Σ_b Z_b u_b[codes_b]`` over the sampled group terms, pass by
    pass."""
    n, p = meta[M_NOBS], meta[M_P]
    W = farr(table, A_W)
    offset = farr(table, A_OFFSET)
    if offset.shape[0] > 0:
        for i in range(n):
            eta[i] = offset[i]
    else:
        for i in range(n):
            eta[i] = 0.0
    inside = _in_group_effects(table, meta)
    if meta[M_CELLS] > 0:  # few-valued columns by cells of rows (density.fixed_cells)
        cells_forward(x, table, meta, eta, inside)
    for c in range(p):
        if inside[c]:
            continue
        tc = x[c]
        off = c * n
        for i in range(n):
            eta[i] += W[off + i] * tc
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        if bm[B_MARGINAL] == 1:
            continue
        q, at = bm[B_Q], bm[B_EFF_AT]
        codes = iarr(table, base + P_CODES)
        Z = farr(table, base + P_Z)
        if Z.shape[0] == 0:
            for i in range(n):
                eta[i] += U[at + codes[i]]
        else:
            for k in range(q):
                off = k * n
                for i in range(n):
                    eta[i] += Z[off + i] * U[at + codes[i] * q + k]


@numba.njit(**JIT)
def _linear_backward(table, meta, etabar, grad, Ubar):
    """Push ``d/dη`` to θ (``grad``) and to the sampled group effects (``Ubar``)."""
    n, p = meta[M_NOBS], meta[M_P]
    W = farr(table, A_W)
    inside = _in_group_effects(table, meta)
    if meta[M_CELLS] > 0:
        cells_backward(table, meta, etabar, grad, inside)
    for c in range(p):
        if not inside[c]:
            grad[c] += dot(W, c * n, etabar, n)
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        if bm[B_MARGINAL] == 1:
            continue
        q, at = bm[B_Q], bm[B_EFF_AT]
        codes = iarr(table, base + P_CODES)
        Z = farr(table, base + P_Z)
        if Z.shape[0] == 0:
            for i in range(n):
                Ubar[at + codes[i]] += etabar[i]
        else:
            for k in range(q):
                off = k * n
                for i in range(n):
                    Ubar[at + codes[i] * q + k] += Z[off + i] * etabar[i]


@numba.njit(**JIT)
def _family_loglik(table, meta, eta, theta, tbar):
    """Log-likelihood of the response given ``η`` (the family's, see
    :mod:`hierbayes.families.dispatch`); ``η`` is overwritten with ``d/dη``, ``d/dθ`` of the
    family's own parameters is added to ``tbar``."""
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    lp = loglik_grad(meta[M_FAMILY], y, eta, trials, weights, theta, tbar)
    return farr(table, A_CONST)[0] + lp


# --- the log-density --------------------------------------------------------------------------


@numba.njit(**JIT)
def logp_grad(x, table, grad):
    """Log posterior density (up to nothing: all constants included) at ``x``; its gradient
    goes into ``grad``. Rotated pairs of nested effects are turned back first
    (:mod:`hierbayes.density.pairs`)."""
    meta = iarr(table, A_META)
    if meta[M_PAIRS] == 0:
        return _logp_grad(x, table, grad)
    pairs = iarr(table, meta[M_PAIRS])
    rotated = np.empty(x.shape[0])
    rotate_forward(x, pairs, rotated)
    lp = _logp_grad(rotated, table, grad)
    rotate_backward(x, rotated, pairs, grad)
    return lp


@numba.njit(**JIT)
def _logp_grad(x, table, grad):
    """:func:`logp_grad` in the kernel's own coordinates."""
    meta = iarr(table, A_META)
    p = meta[M_P]
    for i in range(grad.shape[0]):
        grad[i] = 0.0
    lp = 0.0
    fixed_priors = farr(table, A_PRIOR_FIXED)
    for c in range(p):
        lp += log_prior(fixed_priors, c, x[c], grad, c)
    spos = meta[M_FPAR]
    nf = meta[M_NFPAR]
    theta = np.empty(nf)
    jac = np.empty(nf)
    fpriors = farr(table, A_PRIOR_FPAR)
    ordered = meta[M_ORDERED] == 1  # cut-points: one ordered vector (density.ordered)
    if ordered:
        lp += ordered_forward(fpriors, x, spos, theta, grad)
    for k in range(0 if ordered else nf):
        lps, theta[k], jac[k] = log_prior_own(fpriors, k, x[spos + k], grad, spos + k)
        lp += lps
    sigma = theta[0] if nf > 0 else 1.0  # σ of a gaussian model
    ncov = meta[M_COV_SIZE]
    sd = np.empty(meta[M_SD_SIZE])
    C = np.empty(ncov)
    L = np.empty(ncov)
    Lbar = np.zeros(ncov)
    lp += covariances(x, table, meta, grad, sd, C, L)
    Lraw, lp_shear = shear_forward(x, table, meta, L, grad, Lbar)  # sheared terms (density.shear)
    lp += lp_shear
    neff = meta[M_EFF_SIZE]
    U = np.empty(neff)
    Zeta = np.empty(neff)
    Ubar = np.zeros(neff)
    lp += effects_forward(x, table, meta, L, U, Zeta)
    if meta[M_MARG_Q] > 0 and meta[M_SUFFSTAT] >= 1:
        if meta[M_SUFFSTAT] == NESTED:  # nested factors integrated out together
            loglik, s2bar = nested_suffstat(x, table, meta, L, sigma * sigma, grad, Lbar)
        elif meta[M_SUFFSTAT] == CROSSED:  # crossed intercepts integrated out together
            loglik, s2bar = crossed_suffstat(x, table, meta, L, sigma * sigma, grad, Lbar)
        else:
            loglik, s2bar = marginal_suffstat(x, table, meta, L, sigma * sigma, grad, Lbar)
        lp += loglik
        grad[spos] += s2bar * 2.0 * sigma * sigma
    else:
        eta = np.empty(meta[M_NOBS])
        _linear_predictor(x, table, meta, U, eta)
        if meta[M_MARG_Q] > 0:
            loglik, s2bar = marginal_rows(table, meta, L, sigma * sigma, eta, Lbar)
            grad[spos] += s2bar * 2.0 * sigma * sigma
        elif meta[M_DPAR] > 0:  # an own parameter varies by row (density.dpar_density)
            loglik = dpar_loglik(x, table, meta, U, eta, theta, jac, grad, Ubar)
        else:
            tbar = np.zeros(nf)
            if meta[M_LAP_Q] > 0:  # one factor integrated out by Laplace (density.laplace)
                loglik = farr(table, A_CONST)[0]
                if meta[M_LAP_F] > 0:  # several factors jointly (density.laplace_joint)
                    loglik += joint_laplace_loglik(table, meta, L, theta, eta, tbar, Lbar)
                elif meta[M_AGQ] > 0:  # by adaptive Gauss-Hermite quadrature (density.agq)
                    loglik += agq_loglik(table, meta, L, theta, eta, tbar, Lbar)
                else:
                    loglik += laplace_loglik(table, meta, L, theta, eta, tbar, Lbar)
            else:
                loglik = _family_loglik(table, meta, eta, theta, tbar)
            if ordered:
                ordered_backward(x, spos, tbar, grad)
            for k in range(0 if ordered else nf):
                grad[spos + k] += tbar[k] * jac[k]
        lp += loglik
        _linear_backward(table, meta, eta, grad, Ubar)
    effects_backward(table, meta, grad, L, U, Zeta, Ubar, Lbar)
    shear_backward(table, meta, L, Lraw, Lbar)
    covariance_backward(x, table, meta, grad, sd, C, Lbar)
    return lp


# --- nutpie's C callbacks (here, so that numba's cache of them is renewed with the kernel's) ---

_LOGP_SIG = types.int64(
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)
_EXPAND_SIG = types.int64(
    types.uint64,
    types.uint64,
    types.CPointer(types.double),
    types.CPointer(types.double),
    types.voidptr,
)


@numba.njit(cache=True, nogil=True)
def _user_table(user_data):
    head = numba.carray(user_data, (1,), np.int64)
    return numba.carray(user_data, (1 + 2 * head[0],), np.int64)


def _logp_callback(dim, x_, out_, logp_, user_data):  # pragma: no cover - called by nutpie
    table = _user_table(user_data)
    if dim != iarr(table, A_META)[M_NDIM]:
        return -1
    x = numba.carray(x_, (dim,))
    out = numba.carray(out_, (dim,))
    value = logp_grad(x, table, out)
    logp_[0] = value
    for i in range(dim):
        if not np.isfinite(out[i]):
            return 3
    if not np.isfinite(value):
        return 4
    return 0


def _expand_callback(dim, expanded, x_, out_, user_data):  # pragma: no cover - called by nutpie
    if dim != expanded:
        return -1
    for i in range(dim):
        out_[i] = x_[i]
    return 0


@functools.cache
def callbacks() -> tuple[Any, Any]:
    """nutpie's log-density and expand callbacks (compiled, or loaded from numba's cache, on the
    first call rather than on import)."""
    return (
        numba.cfunc(_LOGP_SIG, cache=True, nogil=True)(_logp_callback),
        numba.cfunc(_EXPAND_SIG, cache=True, nogil=True)(_expand_callback),
    )
