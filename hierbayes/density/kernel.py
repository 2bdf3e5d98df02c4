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
  each either centred (``u``) or non-centred (``z``). The centred intercepts of one term may be
  sampled as ``Intercept_c + u`` (hierarchical centring, see
  :func:`hierbayes.density.layout.make_layout`), which takes the ridge between the intercept and
  the effects of a factor with few groups out of the sampler's way;
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
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic

from hierbayes.families.dispatch import loglik_grad

# --- layout of the integer arrays (shared with hierbayes.density.layout) ------------------------

# global integer header (array 0)
M_NDIM = 0
M_FAMILY = 1
M_NOBS = 2
M_P = 3
M_NBLOCKS = 4
M_MARG_Q = 5  # total coefficients of the integrated-out factor (0: none)
M_MARG_J = 6  # its number of groups
M_SUFFSTAT = 7  # 1: the integrated-out factor is the only one (sufficient statistics)
M_FPAR = 8  # position of the family's own parameters (log scale) in x (-1: none)
M_EFF_SIZE = 9  # Σ J q over the sampled (not integrated-out) group terms
M_COV_SIZE = 10  # Σ q² over all group terms
M_SD_SIZE = 11  # Σ q over all group terms
M_NFPAR = 12  # number of the family's own parameters
M_SIZE = 13

# per-block integer header
B_Q = 0
B_J = 1
B_CORRELATED = 2
B_MARGINAL = 3
B_OFF_SD = 4  # position of log sd in x
B_OFF_CORR = 5  # position of the correlation rows in x (-1: none)
B_OFF_EFF = 6  # position of the group effects in x (-1: integrated out)
B_MARG_COL = 7  # first column of the block within the integrated-out factor
B_EFF_AT = 8  # offset of the block's effects in the effects scratch
B_COV_AT = 9  # offset of the block's q x q matrices in the covariance scratch
B_SD_AT = 10  # offset of the block's SDs in the SD scratch
B_HC = 11  # 1: its intercepts are sampled as Intercept_c + u (hierarchical centring)
B_SIZE = 12

# arrays of the table (index k: address at 1 + 2k, length at 2 + 2k)
A_META = 0  # int64 global header
A_Y = 1  # response (n)
A_W = 2  # fixed design [1, X - mean(X)], column by column (p x n)
A_PRIOR_FIXED = 3  # priors of θ (p x 4: code, a, b, c)
A_PRIOR_FPAR = 4  # priors of the family's own parameters (k x 4)
A_TRIALS = 5  # binomial trials (n)
A_CONST = 6  # constants: [0] likelihood normalising constant
A_SS_WTW = 7  # W'W (p x p), sufficient statistics
A_SS_WTY = 8  # W'(y - shift) (p)
A_SS_YTY = 9  # [(y - shift)'(y - shift), shift]
A_SS_ZTZ = 10  # per group Z'Z of the integrated-out factor (J x q x q)
A_SS_ZTW = 11  # per group Z'W, column by column (p x J q)
A_SS_ZTY = 12  # per group Z'(y - shift) (J x q)
A_MCODES = 13  # group codes of the integrated-out factor (n)
A_MZ = 14  # its design columns, column by column (q x n; empty for a varying intercept)
A_OFFSET = 15  # offsets, summed (n; empty: none)
A_WEIGHTS = 16  # likelihood weights (n; empty: none)
N_GLOBAL = 17
# per block b: N_GLOBAL + b * PER_BLOCK + ...
P_META = 0  # int64 block header
P_CHOICE = 1  # int64 per coefficient: 1 centred, 0 non-centred
P_PRIOR_SD = 2  # priors of the SDs (q x 4)
P_LKJ = 3  # [eta, log normalising constant]
P_CODES = 4  # int64 group codes (n)
P_Z = 5  # design columns, column by column (q x n; empty for a varying intercept)
PER_BLOCK = 6

# prior codes: real line
NORMAL = 0
STUDENT_T = 1
CAUCHY = 2
LAPLACE = 3
FLAT = 4
# positive (sampled on the log scale)
HALF_NORMAL = 10
HALF_STUDENT_T = 11
HALF_CAUCHY = 12
EXPONENTIAL = 13
GAMMA = 14
INVERSE_GAMMA = 15
LOG_NORMAL = 16
WEIBULL = 17
HALF_FLAT = 18
# unit interval (sampled on the logit scale): a family's probability parameter
BETA = 20

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

# the two-coefficient closed form rejects a point whose rounding could move the log-density by
# more than QUAD_TOL (a bound: float64's epsilon times the terms of each quadratic form); a
# shift of 0.1 changes a NUTS acceptance probability by about a tenth
QUAD_EPS = 2.220446049250313e-16
QUAD_TOL = 0.1


# --- reading the table ------------------------------------------------------------------------


@intrinsic
def _address_as_pointer(typingctx, address):
    """A ``void *`` from an integer address."""
    sig = types.voidptr(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


@numba.njit(**_JIT)
def farr(table, k):
    """Float64 array ``k`` of the table."""
    return numba.carray(_address_as_pointer(table[1 + 2 * k]), (table[2 + 2 * k],), np.float64)


@numba.njit(**_JIT)
def iarr(table, k):
    """Int64 array ``k`` of the table."""
    return numba.carray(_address_as_pointer(table[1 + 2 * k]), (table[2 + 2 * k],), np.int64)


# --- priors -----------------------------------------------------------------------------------


@numba.njit(**_JIT)
def prior_logp(code, a, b, c, x):
    """Log density of a prior at ``x`` and its derivative in ``x``."""
    if code == NORMAL:
        z = (x - a) / b
        return -0.5 * z * z - math.log(b) - 0.5 * _LOG_2PI, -z / b
    if code == STUDENT_T:  # nu = a, mu = b, sigma = c
        z = (x - b) / c
        lp = (
            math.lgamma(0.5 * (a + 1.0))
            - math.lgamma(0.5 * a)
            - 0.5 * math.log(a * math.pi)
            - math.log(c)
            - 0.5 * (a + 1.0) * math.log1p(z * z / a)
        )
        return lp, -(a + 1.0) * z / (c * (a + z * z))
    if code == CAUCHY:  # alpha = a, beta = b
        z = (x - a) / b
        return -_LOG_PI - math.log(b) - math.log1p(z * z), -2.0 * z / (b * (1.0 + z * z))
    if code == LAPLACE:  # mu = a, b = b
        d = x - a
        return -math.log(2.0 * b) - abs(d) / b, -math.copysign(1.0, d) / b if d != 0 else 0.0
    if code == FLAT or code == HALF_FLAT:
        return 0.0, 0.0
    if code == HALF_NORMAL:  # sigma = a
        z = x / a
        return 0.5 * math.log(2.0 / math.pi) - math.log(a) - 0.5 * z * z, -z / a
    if code == HALF_STUDENT_T:  # nu = a, sigma = b
        z = x / b
        lp = (
            _LOG_2
            + math.lgamma(0.5 * (a + 1.0))
            - math.lgamma(0.5 * a)
            - 0.5 * math.log(a * math.pi)
            - math.log(b)
            - 0.5 * (a + 1.0) * math.log1p(z * z / a)
        )
        return lp, -(a + 1.0) * z / (b * (a + z * z))
    if code == HALF_CAUCHY:  # beta = a
        z = x / a
        return _LOG_2 - _LOG_PI - math.log(a) - math.log1p(z * z), -2.0 * z / (a * (1.0 + z * z))
    if code == EXPONENTIAL:  # lam = a
        return math.log(a) - a * x, -a
    if code == GAMMA:  # alpha = a, beta = b
        return a * math.log(b) - math.lgamma(a) + (a - 1.0) * math.log(x) - b * x, (a - 1.0) / x - b
    if code == INVERSE_GAMMA:  # alpha = a, beta = b
        return a * math.log(b) - math.lgamma(a) - (a + 1.0) * math.log(x) - b / x, (
            -(a + 1.0) / x + b / (x * x)
        )
    if code == LOG_NORMAL:  # mu = a, sigma = b
        lx = math.log(x)
        z = (lx - a) / b
        return -lx - math.log(b) - 0.5 * _LOG_2PI - 0.5 * z * z, -(1.0 + z / b) / x
    if code == WEIBULL:  # alpha = a, beta = b
        r = x / b
        ra = r**a
        return math.log(a) - math.log(b) + (a - 1.0) * math.log(r) - ra, (a - 1.0) / x - (
            a * ra / x
        )
    return math.nan, math.nan


@numba.njit(**_JIT)
def _log_prior(priors, k, value, grad, pos):
    """Add prior ``k`` (a row of ``priors``) of a real parameter; return its log density."""
    lp, d = prior_logp(
        int(priors[4 * k]), priors[4 * k + 1], priors[4 * k + 2], priors[4 * k + 3], value
    )
    grad[pos] += d
    return lp


@numba.njit(**_JIT)
def _log_prior_positive(priors, k, v, grad, pos):
    """Prior ``k`` of a positive parameter sampled as ``v = log(value)``, with the Jacobian.

    Returns ``(log density, value)``."""
    value = math.exp(v)
    lp, d = prior_logp(
        int(priors[4 * k]), priors[4 * k + 1], priors[4 * k + 2], priors[4 * k + 3], value
    )
    grad[pos] += d * value + 1.0
    return lp + v, value


@numba.njit(**_JIT)
def _log_prior_own(priors, k, v, grad, pos):
    """Prior ``k`` of a family's own parameter, with the Jacobian of its transform: a
    probability (prior code ``BETA``, ``a = α``, ``b = β``) sampled as ``v = logit(value)``,
    any other positive parameter as ``v = log(value)``.

    Returns ``(log density, value, d value / d v)``."""
    if int(priors[4 * k]) != BETA:
        lp, value = _log_prior_positive(priors, k, v, grad, pos)
        return lp, value, value
    a, b = priors[4 * k + 1], priors[4 * k + 2]
    log_p = -math.log1p(math.exp(-v)) if v >= 0.0 else v - math.log1p(math.exp(v))
    log_q = log_p - v  # log(1 - value)
    value = math.exp(log_p)
    norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    # log Beta(value | a, b) + log(value (1 - value)), and its derivative in v
    grad[pos] += a * (1.0 - value) - b * value
    return norm + a * log_p + b * log_q, value, value * math.exp(log_q)


# --- small dense linear algebra -------------------------------------------------------------


@numba.njit(**_JIT)
def _cholesky(A, q, C):
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


@numba.njit(**_JIT)
def _chol_solve(C, b, q, out):
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


@numba.njit(**_JIT)
def _covariances(x, table, meta, grad, sd, C, L):
    """SDs, correlation factors and ``L = diag(sd) C`` of every group term; their log prior."""
    lp = 0.0
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        q = bm[B_Q]
        at = bm[B_COV_AT]
        sd_priors = farr(table, base + P_PRIOR_SD)
        for k in range(q):
            pos = bm[B_OFF_SD] + k
            lpk, value = _log_prior_positive(sd_priors, k, x[pos], grad, pos)
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
    return lp


@numba.njit(**_JIT)
def _covariance_backward(x, table, meta, grad, sd, C, Lbar):
    """Push the adjoint of every ``L`` back to the log SDs and the correlation rows."""
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        q = bm[B_Q]
        at = bm[B_COV_AT]
        for k in range(q):
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


@numba.njit(**_JIT)
def _effects_forward(x, table, meta, L, U, Zeta):
    """Group effects ``u`` (and standardised ``ζ``) of the sampled group terms; their log prior."""
    lp = 0.0
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        if bm[B_MARGINAL] == 1:
            continue
        q, J = bm[B_Q], bm[B_J]
        at, cov = bm[B_EFF_AT], bm[B_COV_AT]
        off = bm[B_OFF_EFF]
        choice = iarr(table, base + P_CHOICE)
        for k in range(q):
            lkk = L[cov + k * q + k]
            centred = choice[k] == 1
            log_lkk = math.log(lkk)
            for j in range(J):
                m = 0.0
                for j2 in range(k):
                    m += L[cov + k * q + j2] * Zeta[at + j * q + j2]
                value = x[off + k * J + j]
                if centred:
                    if k == 0 and bm[B_HC] == 1:
                        value -= x[0]  # the free value is Intercept_c + u
                    zeta = (value - m) / lkk
                    U[at + j * q + k] = value
                    lp -= log_lkk
                else:
                    zeta = value
                    U[at + j * q + k] = m + lkk * zeta
                Zeta[at + j * q + k] = zeta
                lp -= 0.5 * zeta * zeta + 0.5 * _LOG_2PI
    return lp


@numba.njit(**_JIT)
def _effects_backward(table, meta, grad, L, U, Zeta, Ubar, Lbar):
    """Reverse of :func:`_effects_forward` given ``Ubar`` (d log-likelihood / d u)."""
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        if bm[B_MARGINAL] == 1:
            continue
        q, J = bm[B_Q], bm[B_J]
        at, cov = bm[B_EFF_AT], bm[B_COV_AT]
        off = bm[B_OFF_EFF]
        choice = iarr(table, base + P_CHOICE)
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
                    d = ubar + zbar[k] / lkk
                    grad[off + k * J + j] += d
                    if k == 0 and bm[B_HC] == 1:
                        grad[0] -= d  # u = free value - Intercept_c
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


# --- the integrated-out factor -------------------------------------------------------------


@numba.njit(**_JIT)
def _groups_q1(S, t, lf, sigma2, J, tbar):
    """Per-group terms of :func:`_marginal` for one coefficient: returns
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


@numba.njit(**_JIT)
def _groups_q2(S, t, LF, sigma2, J, tbar, LFbar):
    """Per-group terms of :func:`_marginal` for two coefficients, in closed form."""
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


@numba.njit(**_JIT)
def _groups_general(S, t, LF, sigma2, q, J, tbar, LFbar):
    """Per-group terms of :func:`_marginal` for any number of coefficients (Cholesky)."""
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
        if not _cholesky(M, q, Ch):
            return -math.inf, 0.0
        logdet = 0.0
        for i in range(q):
            logdet += 2.0 * math.log(Ch[i, i])
        _chol_solve(Ch, w, q, a)
        quad = 0.0
        for i in range(q):
            quad += w[i] * a[i]
        for j in range(q):
            for i in range(q):
                e[i] = 1.0 if i == j else 0.0
            _chol_solve(Ch, e, q, col)
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


@numba.njit(**_JIT)
def _marginal(table, meta, L, sigma2, t, rr, Lbar, tbar):
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
        F, s2bar, lbar = _groups_q1(S, t, LF[0, 0], sigma2, J, tbar)
        LFbar[0, 0] = lbar
    elif q == 2:
        F, s2bar = _groups_q2(S, t, LF, sigma2, J, tbar, LFbar)
    else:
        F, s2bar = _groups_general(S, t, LF, sigma2, q, J, tbar, LFbar)
    if not math.isfinite(F):
        return -math.inf, 0.0, 0.0
    dof = n - J * q
    loglik = -0.5 * (n * _LOG_2PI + dof * math.log(sigma2) + F + rr / sigma2)
    s2bar -= 0.5 * (dof / sigma2 - rr / (sigma2 * sigma2))
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(i + 1):
                    Lbar[cov + i * qb + j] += LFbar[c0 + i, c0 + j]
    return loglik, s2bar, -0.5 / sigma2


# --- likelihoods ------------------------------------------------------------------------------


@numba.njit(**_JIT)
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
    for c in range(p):
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


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _dot(a, off, b, n):
    """``Σ_i a[off + i] b[i]`` (reassociated, so it vectorises)."""
    s = 0.0
    for i in range(n):
        s += a[off + i] * b[i]
    return s


@numba.njit(**_JIT)
def _linear_backward(table, meta, etabar, grad, Ubar):
    """Push ``d/dη`` to θ (``grad``) and to the sampled group effects (``Ubar``)."""
    n, p = meta[M_NOBS], meta[M_P]
    W = farr(table, A_W)
    for c in range(p):
        grad[c] += _dot(W, c * n, etabar, n)
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


@numba.njit(**_JIT)
def _family_loglik(table, meta, eta, theta, tbar):
    """Log-likelihood of the response given ``η`` (the family's, see
    :mod:`hierbayes.families.dispatch`); ``η`` is overwritten with ``d/dη``, ``d/dθ`` of the
    family's own parameters is added to ``tbar``."""
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    lp = loglik_grad(meta[M_FAMILY], y, eta, trials, weights, theta, tbar)
    return farr(table, A_CONST)[0] + lp


@numba.njit(**_JIT)
def _marginal_suffstat(x, table, meta, L, sigma2, grad, Lbar):
    """Integrated-out factor alone: the likelihood from sufficient statistics (Mode A)."""
    p, q, J = meta[M_P], meta[M_MARG_Q], meta[M_MARG_J]
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
    m = J * q
    t = np.empty(m)
    for r in range(m):
        t[r] = Zty[r]
    for c in range(p):  # ZtW is stored column by column: (p, J q)
        tc = th[c]
        off = c * m
        for r in range(m):
            t[r] -= ZtW[off + r] * tc
    tbar = np.empty(m)
    loglik, s2bar, rrbar = _marginal(table, meta, L, sigma2, t, rr, Lbar, tbar)
    for c in range(p):
        acc = 0.0
        for d in range(p):
            acc += WtW[c * p + d] * th[d]
        grad[c] += rrbar * (2.0 * acc - 2.0 * Wty[c]) - _dot(ZtW, c * m, tbar, m)
    return loglik, s2bar


@numba.njit(**_JIT)
def _marginal_rows(table, meta, L, sigma2, eta, Lbar):
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
    loglik, s2bar, rrbar = _marginal(table, meta, L, sigma2, t, rr, Lbar, tbar)
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


# --- the log-density --------------------------------------------------------------------------


@numba.njit(**_JIT)
def logp_grad(x, table, grad):
    """Log posterior density (up to nothing: all constants included) at ``x``; its gradient
    goes into ``grad``."""
    meta = iarr(table, A_META)
    p = meta[M_P]
    for i in range(grad.shape[0]):
        grad[i] = 0.0
    lp = 0.0
    fixed_priors = farr(table, A_PRIOR_FIXED)
    for c in range(p):
        lp += _log_prior(fixed_priors, c, x[c], grad, c)
    spos = meta[M_FPAR]
    nf = meta[M_NFPAR]
    theta = np.empty(nf)
    jac = np.empty(nf)
    fpriors = farr(table, A_PRIOR_FPAR)
    for k in range(nf):
        lps, theta[k], jac[k] = _log_prior_own(fpriors, k, x[spos + k], grad, spos + k)
        lp += lps
    sigma = theta[0] if nf > 0 else 1.0  # σ of a gaussian model
    ncov = meta[M_COV_SIZE]
    sd = np.empty(meta[M_SD_SIZE])
    C = np.empty(ncov)
    L = np.empty(ncov)
    Lbar = np.zeros(ncov)
    lp += _covariances(x, table, meta, grad, sd, C, L)
    neff = meta[M_EFF_SIZE]
    U = np.empty(neff)
    Zeta = np.empty(neff)
    Ubar = np.zeros(neff)
    lp += _effects_forward(x, table, meta, L, U, Zeta)
    if meta[M_MARG_Q] > 0 and meta[M_SUFFSTAT] == 1:
        loglik, s2bar = _marginal_suffstat(x, table, meta, L, sigma * sigma, grad, Lbar)
        lp += loglik
        grad[spos] += s2bar * 2.0 * sigma * sigma
    else:
        eta = np.empty(meta[M_NOBS])
        _linear_predictor(x, table, meta, U, eta)
        if meta[M_MARG_Q] > 0:
            loglik, s2bar = _marginal_rows(table, meta, L, sigma * sigma, eta, Lbar)
            grad[spos] += s2bar * 2.0 * sigma * sigma
        else:
            tbar = np.zeros(nf)
            loglik = _family_loglik(table, meta, eta, theta, tbar)
            for k in range(nf):
                grad[spos + k] += tbar[k] * jac[k]
        lp += loglik
        _linear_backward(table, meta, eta, grad, Ubar)
    _effects_backward(table, meta, grad, L, U, Zeta, Ubar, Lbar)
    _covariance_backward(x, table, meta, grad, sd, C, Lbar)
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
