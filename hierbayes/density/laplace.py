"""One grouping factor's effects integrated out by a Laplace approximation, for any family whose
log-likelihood is concave in ``η`` (:data:`hierbayes.families.concave.LAPLACE_CODES`).

With the factor's covariance ``Σ = L L'`` (block-diagonal over its terms) and its effects
``u_g = L z_g``, ``z_g ~ N(0, I)``, group ``g`` contributes

    log ∫ p(y_g | η0 + Z L z) N(z | 0, I) dz  ≈  f_g(z*_g) - ½ log det H_g,

    f_g(z) = Σ_{i ∈ g} ℓ_i(η0_i + Z_i' L z) - ½ z'z,   H_g = I - L' (Σ_{i ∈ g} ℓ''_i Z_i Z_i') L,

at the mode ``z*_g`` of ``f_g`` (the ``q/2 log 2π`` of the Gaussian integral cancels the normal
prior's). The approximation is the same in ``u`` (affine invariance); ``z`` keeps ``H_g``
well-conditioned for every SD, zero included. For a gaussian family it is exact and equals
:mod:`hierbayes.density.marginal`. The idea is INLA's and TMB's; the gradient follows Margossian
et al. (2020, "Hamiltonian Monte Carlo using an adjoint-differentiated Laplace approximation"):
by the implicit function theorem, with ``G = -½ log det H`` and ``v = H⁻¹ ∂G/∂z``,

    dF/dη0_i = ℓ'_i + ½ ℓ'''_i s_i + ℓ''_i Z_i' L v,   s_i = Z_i' L H⁻¹ L' Z_i,
    dF/dL    = Σ_g (Σ_i e_i Z_i) z' + (Σ_i ℓ'_i Z_i) v' + B_g L H⁻¹,   B_g = Σ_i ℓ''_i Z_i Z_i',

(``e_i`` the first line) so one pass over the rows after the modes costs O(rows q²). The
family's own parameters (``σ``, a dispersion, cut-points) enter through ``ℓ`` (the family's own
gradient at the mode) and through ``ℓ'``, ``ℓ''``, whose derivatives in them are taken by a
four-point central difference of the family's ``derivs`` (truncation error O(h⁴), h a
thousandth of the parameter).

Each group's mode is found by Newton's method with step halving, all groups at once (one pass
over the rows per iteration; near the mode, where the Newton decrement is below :data:`CLOSE`, full
steps without the log-likelihood), from zero at every call: the value is a function of the point
alone, bit for bit, so a seed gives the same draws however many chains run at once (a start kept
from an earlier call, shared by chains running in parallel threads, would move the result by
rounding from run to run).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_MCODES,
    A_MZ,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    B_COV_AT,
    B_MARG_COL,
    B_MARGINAL,
    B_Q,
    JIT,
    M_FAMILY,
    M_LAP_J,
    M_LAP_Q,
    M_NBLOCKS,
    M_NOBS,
    M_ORDERED,
    N_GLOBAL,
    P_META,
    PER_BLOCK,
)
from hierbayes.density.effects import chol_solve, cholesky
from hierbayes.density.laplace_rows import row_pass
from hierbayes.density.table import farr, iarr
from hierbayes.families.dispatch import loglik_grad

__all__ = ["NEWTON_TOL", "factor_cholesky", "group_modes", "laplace_loglik", "rows_at"]

NEWTON_TOL = 1e-7
"""A group's mode is found when its Newton step (in ``z``, standard units, relative to
``1 + |z|``) is below this; that step is then taken, which leaves an error of its square."""
CLOSE = 0.05
"""Newton decrement ``g'H⁻¹g`` below which full steps are taken without checking ``f``."""
MAX_NEWTON = 200
MAX_HALVINGS = 60
_STENCIL = ((-2.0, 1.0 / 12.0), (-1.0, -8.0 / 12.0), (1.0, 8.0 / 12.0), (2.0, -1.0 / 12.0))


@numba.njit(**JIT)
def factor_cholesky(table, meta, L):
    """The integrated-out factor's ``L`` (q x q): block-diagonal from its terms'."""
    q = meta[M_LAP_Q]
    LF = np.zeros((q, q))
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(qb):
                    LF[c0 + i, c0 + j] = L[cov + i * qb + j]
    return LF


@numba.njit(**JIT)
def _factor_lbar(table, meta, LFbar, Lbar):
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(i + 1):
                    Lbar[cov + i * qb + j] += LFbar[c0 + i, c0 + j]


@numba.njit(**JIT)
def rows_at(eta0, codes, Z, LF, z, q, eta):
    """``η = η0 + Z_i' L z_g(i)`` row by row (``Z`` column by column, empty: an intercept)."""
    n = eta0.shape[0]
    J = z.shape[0] // q
    U = np.zeros(J * q)
    for g in range(J):
        for k in range(q):
            acc = 0.0
            for m in range(k + 1):
                acc += LF[k, m] * z[g * q + m]
            U[g * q + k] = acc
    if Z.shape[0] == 0:
        for i in range(n):
            eta[i] = eta0[i] + U[codes[i]]
    else:
        for i in range(n):
            eta[i] = eta0[i]
        for k in range(q):
            off = k * n
            for i in range(n):
                eta[i] += Z[off + i] * U[codes[i] * q + k]


@numba.njit(**JIT)
def _group_sums(codes, Z, q, J, ll, d1, d2, z, f, D, B):
    """Per group: ``f_g = Σ ℓ - ½ z'z``, ``D_g = Σ ℓ' Z_i``, ``B_g = Σ ℓ'' Z_i Z_i'``."""
    n = d1.shape[0]
    with_ll = ll.shape[0] > 0
    for g in range(J):
        s = 0.0
        for k in range(q):
            s += z[g * q + k] * z[g * q + k]
            D[g * q + k] = 0.0
        f[g] = -0.5 * s
        for k in range(q * q):
            B[g * q * q + k] = 0.0
    if Z.shape[0] == 0:
        for i in range(n):
            g = codes[i]
            if with_ll:
                f[g] += ll[i]
            D[g] += d1[i]
            B[g] += d2[i]
    else:
        for i in range(n):
            g = codes[i]
            if with_ll:
                f[g] += ll[i]
            for k in range(q):
                zk = Z[k * n + i]
                D[g * q + k] += d1[i] * zk
                for m in range(k + 1):
                    B[g * q * q + k * q + m] += d2[i] * zk * Z[m * n + i]
        for g in range(J):
            for k in range(q):
                for m in range(k):
                    B[g * q * q + m * q + k] = B[g * q * q + k * q + m]


@numba.njit(**JIT)
def _hessian(B, g, LF, q, H):
    """``H = I - L' B_g L`` (the negative Hessian of ``f_g``) into ``H``."""
    for a in range(q):
        for c in range(q):
            acc = 0.0
            for k in range(q):
                lk = LF[k, a]
                if lk == 0.0:
                    continue
                for m in range(q):
                    acc += lk * B[g * q * q + k * q + m] * LF[m, c]
            H[a, c] = (1.0 if a == c else 0.0) - acc


@numba.njit(**JIT)
def group_modes(code, y, eta0, trials, weights, theta, codes, Z, LF, q, J, z):
    """Each group's mode of ``f_g``, by Newton's method with step halving from ``z`` (updated in
    place).

    Returns ``(converged, f, D, B, ll, d1, d2, d3, η)``: the per-group sums of
    :func:`_group_sums` and the rows' values at the modes.
    """
    n = eta0.shape[0]
    ll = np.empty(n)
    d1 = np.empty(n)
    d2 = np.empty(n)
    d3 = np.empty(n)
    eta = np.empty(n)
    f = np.empty(J)
    D = np.empty(J * q)
    B = np.empty(J * q * q)
    fprev = np.full(J, -np.inf)
    zprev = z.copy()
    step = np.zeros(J * q)
    halvings = np.zeros(J, dtype=np.int64)
    done = np.zeros(J, dtype=np.bool_)
    close = np.zeros(J, dtype=np.bool_)  # Newton decrement small: full steps, no f needed
    none = np.empty(0)
    H = np.empty((q, q))
    Ch = np.empty((q, q))
    grad = np.empty(q)
    d = np.empty(q)
    for _ in range(MAX_NEWTON):
        rows_at(eta0, codes, Z, LF, z, q, eta)
        need = False  # the log-likelihood, for a step that may overshoot
        for g in range(J):
            need = need or not (done[g] or close[g])
        if not row_pass(code, y, eta, trials, weights, theta, ll if need else none, d1, d2, d3):
            return False, f, D, B, ll, d1, d2, d3, eta
        _group_sums(codes, Z, q, J, ll if need else none, d1, d2, z, f, D, B)
        left = 0
        for g in range(J):
            if done[g]:
                continue
            fg = f[g] if need else np.inf
            worse = not (fg >= fprev[g] - 1e-12 * (1.0 + abs(fprev[g])))
            if worse and halvings[g] < MAX_HALVINGS and math.isfinite(fprev[g]):
                halvings[g] += 1
                for k in range(q):
                    step[g * q + k] *= 0.5
                    z[g * q + k] = zprev[g * q + k] + step[g * q + k]
                left += 1
                continue
            if need and not math.isfinite(fg):
                return False, f, D, B, ll, d1, d2, d3, eta
            fprev[g] = fg if need else -np.inf
            halvings[g] = 0
            for k in range(q):
                zprev[g * q + k] = z[g * q + k]
                acc = -z[g * q + k]
                for m in range(q):
                    acc += LF[m, k] * D[g * q + m]
                grad[k] = acc
            _hessian(B, g, LF, q, H)
            if not cholesky(H, q, Ch):
                return False, f, D, B, ll, d1, d2, d3, eta
            chol_solve(Ch, grad, q, d)
            big = 0.0
            decrement = 0.0
            for k in range(q):
                big = max(big, abs(d[k]) / (1.0 + abs(z[g * q + k])))
                decrement += grad[k] * d[k]
            close[g] = decrement < CLOSE
            for k in range(q):
                step[g * q + k] = d[k]
                z[g * q + k] += d[k]
            if big < NEWTON_TOL:
                done[g] = True  # with this last step taken: its error is of order step²
            else:
                left += 1
        if left == 0:  # the rows at the final modes
            rows_at(eta0, codes, Z, LF, z, q, eta)
            row_pass(code, y, eta, trials, weights, theta, ll, d1, d2, d3)
            _group_sums(codes, Z, q, J, ll, d1, d2, z, f, D, B)
            return True, f, D, B, ll, d1, d2, d3, eta
    return False, f, D, B, ll, d1, d2, d3, eta


@numba.njit(**JIT)
def laplace_loglik(table, meta, L, theta, eta, tbar, Lbar):
    """Σ over the factor's groups of the Laplace marginal log-likelihood (without the family's
    constant), given ``η`` without the factor (``η0``).

    ``η`` is overwritten with ``d/dη0``; ``d/dθ`` of the family's own parameters (natural scale)
    is added to ``tbar`` and ``d/dL`` of the factor's terms to ``Lbar``. A point where a mode
    is not found (or its Hessian is not positive) gives ``-inf``.
    """
    n, q, J, code = meta[M_NOBS], meta[M_LAP_Q], meta[M_LAP_J], meta[M_FAMILY]
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    codes = iarr(table, A_MCODES)
    Z = farr(table, A_MZ)
    LF = factor_cholesky(table, meta, L)
    z = np.zeros(J * q)  # from zero at every call: deterministic (see the module's docstring)
    eta0 = eta.copy()
    ok, f, D, B, _, d1, d2, d3, etaf = group_modes(
        code, y, eta0, trials, weights, theta, codes, Z, LF, q, J, z
    )
    if not ok:
        for i in range(n):
            eta[i] = 0.0
        return -math.inf
    H = np.empty((q, q))
    Ch = np.empty((q, q))
    P = np.empty((J, q, q))
    Q = np.empty((J, q, q))
    e = np.empty(q)
    col = np.empty(q)
    F = 0.0
    for g in range(J):
        _hessian(B, g, LF, q, H)
        if not cholesky(H, q, Ch):
            for i in range(n):
                eta[i] = 0.0
            return -math.inf
        logdet = 0.0
        for k in range(q):
            logdet += 2.0 * math.log(Ch[k, k])
        F += f[g] - 0.5 * logdet
        for j in range(q):
            for k in range(q):
                e[k] = 1.0 if k == j else 0.0
            chol_solve(Ch, e, q, col)
            for k in range(q):
                P[g, k, j] = col[k]
        # Q = L P L'
        for a in range(q):
            for c in range(q):
                acc = 0.0
                for k in range(q):
                    for m in range(q):
                        acc += LF[a, k] * P[g, k, m] * LF[c, m]
                Q[g, a, c] = acc
    # s_i = Z_i' Q Z_i; ∂G/∂z = ½ L' Σ ℓ'''_i s_i Z_i
    s = np.empty(n)
    c3 = np.zeros(J * q)
    if Z.shape[0] == 0:
        for i in range(n):
            g = codes[i]
            s[i] = Q[g, 0, 0]
            c3[g] += d3[i] * s[i]
    else:
        for i in range(n):
            g = codes[i]
            acc = 0.0
            for a in range(q):
                za = Z[a * n + i]
                for c in range(q):
                    acc += za * Q[g, a, c] * Z[c * n + i]
            s[i] = acc
            for a in range(q):
                c3[g * q + a] += d3[i] * acc * Z[a * n + i]
    v = np.empty(J * q)
    Lv = np.empty(J * q)
    for g in range(J):
        for a in range(q):
            acc = 0.0
            for k in range(q):
                acc += LF[k, a] * c3[g * q + k]
            e[a] = 0.5 * acc
        for a in range(q):
            acc = 0.0
            for k in range(q):
                acc += P[g, a, k] * e[k]
            v[g * q + a] = acc
        for a in range(q):
            acc = 0.0
            for k in range(q):
                acc += LF[a, k] * v[g * q + k]
            Lv[g * q + a] = acc
    # e_i = ℓ' + ½ ℓ''' s_i + ℓ'' Z_i' L v; t_i = Z_i' L v
    t = np.empty(n)
    E = np.zeros(J * q)
    if Z.shape[0] == 0:
        for i in range(n):
            g = codes[i]
            t[i] = Lv[g]
            ei = d1[i] + 0.5 * d3[i] * s[i] + d2[i] * t[i]
            eta[i] = ei
            E[g] += ei
    else:
        for i in range(n):
            g = codes[i]
            acc = 0.0
            for a in range(q):
                acc += Z[a * n + i] * Lv[g * q + a]
            t[i] = acc
            ei = d1[i] + 0.5 * d3[i] * s[i] + d2[i] * acc
            eta[i] = ei
            for a in range(q):
                E[g * q + a] += ei * Z[a * n + i]
    # dF/dL = Σ_g E_g z' + D_g v' + B_g L P
    LFbar = np.zeros((q, q))
    for g in range(J):
        for a in range(q):
            for c in range(q):
                acc = E[g * q + a] * z[g * q + c] + D[g * q + a] * v[g * q + c]
                for k in range(q):
                    bl = 0.0
                    for m in range(q):
                        bl += B[g * q * q + a * q + m] * LF[m, k]
                    acc += bl * P[g, k, c]
                LFbar[a, c] += acc
    _factor_lbar(table, meta, LFbar, Lbar)
    nf = theta.shape[0]
    if nf > 0:
        work = etaf.copy()
        loglik_grad(code, y, work, trials, weights, theta, tbar)  # ∂ℓ/∂θ at the modes
        _own_parameters(code, y, etaf, trials, weights, theta, meta[M_ORDERED] == 1, s, t, tbar)
    return F


@numba.njit(**JIT)
def _own_parameters(code, y, eta, trials, weights, theta, ordered, s, t, tbar):
    """Add ``Σ_i ½ s_i ∂ℓ''_i/∂θ + t_i ∂ℓ'_i/∂θ`` (four-point central differences in θ)."""
    n = y.shape[0]
    nf = theta.shape[0]
    ll = np.empty(n)
    d1 = np.empty(n)
    d2 = np.empty(n)
    d3 = np.empty(n)
    moved = theta.copy()
    for k in range(nf):
        h = 1e-3 * max(abs(theta[k]), 1.0)  # a cut-point near 0 keeps a usable step
        if ordered:  # cut-points stay ordered
            if k > 0:
                h = min(h, 0.25 * (theta[k] - theta[k - 1]))
            if k < nf - 1:
                h = min(h, 0.25 * (theta[k + 1] - theta[k]))
        acc = 0.0
        for at, c in _STENCIL:
            moved[k] = theta[k] + at * h
            row_pass(code, y, eta, trials, weights, moved, ll, d1, d2, d3)
            part = 0.0
            for i in range(n):
                part += 0.5 * s[i] * d2[i] + t[i] * d1[i]
            acc += c * part
        moved[k] = theta[k]
        tbar[k] += acc / h
