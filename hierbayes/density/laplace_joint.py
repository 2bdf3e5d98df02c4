"""Several grouping factors' varying intercepts integrated out jointly by one Laplace
approximation, crossed or nested, for any family of
:data:`~hierbayes.families.concave.LAPLACE_CODES`.

Every factor has one varying intercept, ``u = Λ z`` with ``z ~ N(0, I)`` (``Λ`` the columns'
SDs, one per factor). The factor with the most groups comes first ("A", ``J_A`` groups); the
others' groups follow side by side ("B", ``m`` columns), as in
:mod:`hierbayes.density.crossed_marginal`. With ``η = η0 + Z Λ z`` the approximation is

    F = f(z*) - ½ log det H,   f(z) = Σ_i ℓ_i(η_i) - ½ z'z,   H = I + Λ Z' W Z Λ,

``W = diag(-ℓ'')`` at the joint mode ``z*``. ``H``'s block on A is diagonal
(``D_g = 1 + λ_A² Σ_{i ∈ g} w_i``), its block between A and B sparse (``λ_A λ_h`` times the
weight of the rows a group shares with a B column), so eliminating A leaves the Schur
complement ``S = I + Λ_B T Λ_B`` on B, ``T = T_w - Σ_g (λ_A² / D_g) p_g p_g'`` (``T_w``: the
rows' weights between B columns, ``p_g``: group ``g``'s weights with its B partners), formed in
``Σ_g |partners of g|²`` and factorised in ``m³ / 3`` at most. Each Newton step solves
``H d = ∇f`` by block elimination; ``log det H = Σ log D_g + log det S``.

The gradient follows :mod:`hierbayes.density.laplace` (the implicit function theorem): with
``s_i = Z_i' Λ H⁻¹ Λ Z_i``, ``v = H⁻¹ ½ Λ Z' (ℓ''' ∘ s)`` and ``t_i = Z_i' Λ v``,

    dF/dη0_i = e_i = ℓ'_i + ½ ℓ'''_i s_i + ℓ''_i t_i,
    dF/dλ_c  = z_c (Z'e)_c + v_c (Z'ℓ')_c + (H⁻¹_cc - 1) / λ_c     (per column, summed by factor).

``s_i`` needs ``H⁻¹`` only where rows touch it: A's diagonal, the (group, partner) pairs and
the B block on the pattern of ``S``'s factor, all from the block inverse (``H⁻¹_BB = S⁻¹``,
``H⁻¹_AB = -D⁻¹ H_AB S⁻¹``, ``H⁻¹_gg = 1 / D_g - Σ_h H_gh H⁻¹_gh / D_g``).
``(H⁻¹_cc - 1) / λ_c`` is formed without cancellation (``-(S⁻¹ Λ_B T)_hh`` on B). The
family's own parameters enter as in :func:`hierbayes.density.laplace._own_parameters`.

Newton's method with step halving on ``f`` (concave) runs from zero at every call, so the value
is a function of the point alone (no warm start shared between calls or threads); a step longer
than :data:`MAX_STEP` prior SDs is shortened to it, and the mode is found at a step of
:data:`JOINT_TOL`. ``S``'s pattern depends only on the design, so its factor's pattern (the fill
included) is found once when the layout is built
(:func:`hierbayes.density.laplace_layout.factor_pattern`) and ``T``, ``S``, its factor and the
selected inverse are values on that pattern (:mod:`hierbayes.density.laplace_sparse`), with the
positions of every entry the loops touch precomputed: for nested factors (each A group has one
partner per B factor) there is no fill and a step costs O(rows + groups); crossed factors fill
``S`` and cost ``m³ / 3``. Work arrays are allocated once per call, not per step. On the grouse
ticks (BROOD and LOCATION, 403 rows) one gradient costs 58 µs of CPU, against 123 µs with
``S`` in dense storage and its pattern found at every call (and 11 row passes per mode rather
than 8).

The structure (``A_MCODES``) is an int64 array ``[F, J_A, m, nnz, n, A's covariance index, nL,
nG`` (:data:`HEAD`), ``the covariance index of each B column (m), the B partners of each A group
as CSR pointers (J_A + 1) and columns (nnz), each row's column in each factor (F x n: A's group,
then a B column), each row's (group, partner) pair in each B factor ((F - 1) x n), the factor's
pattern (Lp, Li, Lc, Rp, Rk, Rpos of factor_pattern: m + 1, nL, nL, m + 1, nL - m, nL - m), the
position on it of each pair of an A group's partners (nG, the group's partners p1 in order and
p2 <= p1) and of each pair of a row's B columns ((F - 1)(F - 2) / 2 x n)]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_MCODES,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    JIT,
    M_FAMILY,
    M_NOBS,
    M_ORDERED,
)
from hierbayes.density.laplace import CLOSE, MAX_HALVINGS, MAX_NEWTON, _own_parameters
from hierbayes.density.laplace_rows import row_pass
from hierbayes.density.laplace_sparse import (
    csc_cholesky,
    csc_logdet,
    csc_selected_inverse,
    csc_solve,
)
from hierbayes.density.table import farr, iarr
from hierbayes.families.dispatch import loglik_grad

HEAD = 8
"""Length of the structure's header ``[F, J_A, m, nnz, n, covA, nL, nG]``."""

MAX_STEP = 3.0
"""Longest Newton step in any effect (standard units: prior SDs); a longer one is scaled down to
it. From zero, the first full step overshoots where a log link's weights are small (on the grouse
ticks up to 16 prior SDs, halved three times); scaled, the mode takes 8 row passes rather than
11 (grouse ticks, VerbAgg: 7 to 6, with :data:`JOINT_TOL`)."""
MAX_CAPPED = 10_000
"""Shortened steps allowed beyond the Newton budget: modes up to 30,000 prior SDs from zero."""

JOINT_TOL = 1e-5
"""The mode is found when the Newton step (relative to ``1 + |z|``) is below this; that step is
then taken, which leaves an error of order its square (about 1e-10 on the grouse ticks and
VerbAgg), far below what the value (stationary at the mode) or the gradient would show."""

__all__ = ["joint_factor", "joint_laplace_loglik", "joint_modes", "joint_rows", "joint_solve"]


@numba.njit(**JIT)
def _parts(struct):
    """The structure's pieces: ``(F, J_A, m, nnz, n, covA, colcov, ptr, idx, cols, pairs, Lp,
    Li, Lc, Rp, Rk, Rpos, gpos, rpos)``."""
    F, JA, m, nnz, n = struct[0], struct[1], struct[2], struct[3], struct[4]
    nL, nG = struct[6], struct[7]
    at = HEAD
    colcov = struct[at : at + m]
    at += m
    ptr = struct[at : at + JA + 1]
    at += JA + 1
    idx = struct[at : at + nnz]
    at += nnz
    cols = struct[at : at + F * n]
    at += F * n
    pairs = struct[at : at + (F - 1) * n]
    at += (F - 1) * n
    Lp = struct[at : at + m + 1]
    at += m + 1
    Li = struct[at : at + nL]
    at += nL
    Lc = struct[at : at + nL]
    at += nL
    Rp = struct[at : at + m + 1]
    at += m + 1
    Rk = struct[at : at + nL - m]
    at += nL - m
    Rpos = struct[at : at + nL - m]
    at += nL - m
    gpos = struct[at : at + nG]
    at += nG
    rpos = struct[at : at + (F - 1) * (F - 2) // 2 * n]
    return (
        F, JA, m, nnz, n, struct[5], colcov, ptr, idx, cols, pairs,
        Lp, Li, Lc, Rp, Rk, Rpos, gpos, rpos,
    )  # fmt: skip


@numba.njit(**JIT)
def joint_factor(struct, L):
    """Each column's SD: ``λ_A`` then the B columns' (``1 + m``)."""
    m = struct[2]
    lam = np.empty(1 + m)
    lam[0] = L[struct[5]]
    for h in range(m):
        lam[1 + h] = L[struct[HEAD + h]]
    return lam


@numba.njit(**JIT)
def joint_rows(struct, eta0, lam, z, eta):
    """``η = η0 + Z Λ z`` row by row (``z``: A's groups, then B's columns)."""
    F, JA, n = struct[0], struct[1], struct[4]
    cols = _parts(struct)[9]
    lA = lam[0]
    for i in range(n):
        eta[i] = eta0[i] + lA * z[cols[i]]
    for f in range(1, F):
        for i in range(n):
            h = cols[f * n + i]
            eta[i] += lam[1 + h] * z[JA + h]


@numba.njit(**JIT)
def _sums(struct, lam, ll, d1, d2, z, grad, D, P, Tx):
    """``f``, ``∇f`` into ``grad``, ``D_g``, the pair weights ``P`` and ``T_w`` into ``Tx`` (on
    the factor's pattern)."""
    F, JA, m, nnz, n, _, _, _, _, cols, pairs, Lp, _, _, _, _, _, _, rpos = _parts(struct)
    lA = lam[0]
    f = 0.0
    for k in range(JA + m):
        f -= 0.5 * z[k] * z[k]
        grad[k] = 0.0
    if ll.shape[0] > 0:
        for i in range(n):
            f += ll[i]
    for g in range(JA):
        D[g] = 0.0
    for p in range(nnz):
        P[p] = 0.0
    for q in range(Tx.shape[0]):
        Tx[q] = 0.0
    for i in range(n):
        g = cols[i]
        grad[g] += d1[i]
        D[g] -= d2[i]
    for f1 in range(1, F):
        for i in range(n):
            h1 = cols[f1 * n + i]
            w = -d2[i]
            grad[JA + h1] += d1[i]
            P[pairs[(f1 - 1) * n + i]] += w
            Tx[Lp[h1]] += w
    for k in range(rpos.shape[0] // max(n, 1)):  # each pair of a row's B columns, once
        for i in range(n):
            Tx[rpos[k * n + i]] -= d2[i]
    for g in range(JA):
        grad[g] = lA * grad[g] - z[g]
        D[g] = 1.0 + lA * lA * D[g]
    for h in range(m):
        grad[JA + h] = lam[1 + h] * grad[JA + h] - z[JA + h]
    return f


@numba.njit(**JIT)
def _schur(struct, lam, D, P, Tx, Sx):
    """``T ← T_w - Σ_g (λ_A² / D_g) p_g p_g'`` in place and ``S = I + Λ_B T Λ_B``, both on the
    factor's pattern."""
    _, JA, m, _, _, _, _, ptr, _, _, _, Lp, Li, _, _, _, _, gpos, _ = _parts(struct)
    l2 = lam[0] * lam[0]
    q = 0
    for g in range(JA):  # the lower triangle (partners in increasing order)
        c = l2 / D[g]
        for p1 in range(ptr[g], ptr[g + 1]):
            cp = c * P[p1]
            for p2 in range(ptr[g], p1 + 1):
                Tx[gpos[q]] -= cp * P[p2]
                q += 1
    for j in range(m):
        for r in range(Lp[j], Lp[j + 1]):
            Sx[r] = lam[1 + Li[r]] * Tx[r] * lam[1 + j]
        Sx[Lp[j]] += 1.0


@numba.njit(**JIT)
def joint_solve(struct, lam, D, P, Lx, r, out, rB):
    """``out = H⁻¹ r`` by block elimination (``Lx``: the Cholesky factor of ``S`` on its
    pattern; ``rB``: m floats of work space)."""
    _, JA, m, _, _, _, _, ptr, idx, _, _, Lp, Li, _, _, _, _, _, _ = _parts(struct)
    lA = lam[0]
    for h in range(m):
        rB[h] = r[JA + h]
    for g in range(JA):
        c = lA * r[g] / D[g]
        for p in range(ptr[g], ptr[g + 1]):
            h = idx[p]
            rB[h] -= lam[1 + h] * P[p] * c
    csc_solve(Lx, Lp, Li, m, rB)
    for h in range(m):
        out[JA + h] = rB[h]
    for g in range(JA):
        s = r[g]
        for p in range(ptr[g], ptr[g + 1]):
            h = idx[p]
            s -= lA * lam[1 + h] * P[p] * rB[h]
        out[g] = s / D[g]


@numba.njit(**JIT)
def joint_modes(code, y, eta0, trials, weights, theta, struct, lam, z):
    """The joint mode of ``f`` by Newton's method with step halving from ``z`` (updated in
    place); every work array is allocated once per call.

    Returns ``(converged, f, grad, D, P, T, S's Cholesky factor, ll, d1, d2, d3, η)`` at the
    mode (``T``: the Schur complement before scaling; it and the factor as values on the
    factor's pattern, :mod:`hierbayes.density.laplace_sparse`).
    """
    _, JA, m, nnz, n, _, _, _, _, _, _, Lp, Li, _, Rp, Rk, Rpos, _, _ = _parts(struct)
    nL = Li.shape[0]
    k = JA + m
    ll = np.empty(n)
    d1 = np.empty(n)
    d2 = np.empty(n)
    d3 = np.empty(n)
    eta = np.empty(n)
    grad = np.empty(k)
    D = np.empty(JA)
    P = np.empty(nnz)
    T = np.empty(nL)
    S = np.empty(nL)
    Ch = np.empty(nL)
    work = np.empty(m)
    step = np.zeros(k)
    zprev = z.copy()
    d = np.empty(k)
    none = np.empty(0)
    fprev = -np.inf
    halvings = 0
    close = False
    iterations = 0
    capped = 0  # steps shortened to MAX_STEP do not count: a far mode takes |z*| / MAX_STEP more
    while iterations < MAX_NEWTON + MAX_HALVINGS + capped:
        iterations += 1
        joint_rows(struct, eta0, lam, z, eta)
        if not row_pass(code, y, eta, trials, weights, theta, none if close else ll, d1, d2, d3):
            return False, 0.0, grad, D, P, T, Ch, ll, d1, d2, d3, eta
        f = _sums(struct, lam, none if close else ll, d1, d2, z, grad, D, P, T)
        if not close:
            worse = not (f >= fprev - 1e-12 * (1.0 + abs(fprev)))
            if worse and math.isfinite(fprev):
                if halvings >= MAX_HALVINGS:
                    return False, f, grad, D, P, T, Ch, ll, d1, d2, d3, eta
                halvings += 1
                for j in range(k):
                    step[j] *= 0.5
                    z[j] = zprev[j] + step[j]
                continue
            if not math.isfinite(f):
                return False, f, grad, D, P, T, Ch, ll, d1, d2, d3, eta
            fprev = f
        halvings = 0
        _schur(struct, lam, D, P, T, S)
        if not csc_cholesky(S, Lp, Li, Rp, Rk, Rpos, m, Ch, work):
            return False, f, grad, D, P, T, Ch, ll, d1, d2, d3, eta
        joint_solve(struct, lam, D, P, Ch, grad, d, work)
        big = 0.0
        longest = 0.0
        decrement = 0.0
        for j in range(k):
            big = max(big, abs(d[j]) / (1.0 + abs(z[j])))
            longest = max(longest, abs(d[j]))
            decrement += grad[j] * d[j]
        scale = min(1.0, MAX_STEP / longest) if longest > 0.0 else 1.0
        if scale < 1.0 and capped < MAX_CAPPED:
            capped += 1
        for j in range(k):
            zprev[j] = z[j]
            step[j] = scale * d[j]
            z[j] += step[j]
        close = decrement < CLOSE
        if big < JOINT_TOL:  # with this last step taken: its error is of order step²
            joint_rows(struct, eta0, lam, z, eta)
            row_pass(code, y, eta, trials, weights, theta, ll, d1, d2, d3)
            f = _sums(struct, lam, ll, d1, d2, z, grad, D, P, T)
            _schur(struct, lam, D, P, T, S)
            if not csc_cholesky(S, Lp, Li, Rp, Rk, Rpos, m, Ch, work):
                return False, f, grad, D, P, T, Ch, ll, d1, d2, d3, eta
            return True, f, grad, D, P, T, Ch, ll, d1, d2, d3, eta
    return False, 0.0, grad, D, P, T, Ch, ll, d1, d2, d3, eta


@numba.njit(**JIT)
def joint_laplace_loglik(table, meta, L, theta, eta, tbar, Lbar):
    """The joint Laplace marginal log-likelihood (without the family's constant) given ``η``
    without the factors' effects (``η0``).

    ``η`` is overwritten with ``d/dη0``; ``d/dθ`` of the family's own parameters is added to
    ``tbar`` and ``d/dλ`` of each factor to ``Lbar``. A point where the mode is not found (or
    ``S`` is not positive definite) gives ``-inf``.
    """
    code = meta[M_FAMILY]
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    struct = iarr(table, A_MCODES)
    parts = _parts(struct)
    F, JA, m, nnz, n, covA, colcov, ptr, idx, cols, pairs = parts[:11]
    Lp, Li, gpos, rpos = parts[11], parts[12], parts[17], parts[18]
    k = JA + m
    lam = joint_factor(struct, L)
    z = np.zeros(k)  # from zero at every call: deterministic
    eta0 = eta.copy()
    ok, f, _, D, P, T, Ch, _, d1, d2, d3, etaf = joint_modes(
        code, y, eta0, trials, weights, theta, struct, lam, z
    )
    if not ok:
        for i in range(meta[M_NOBS]):
            eta[i] = 0.0
        return -math.inf
    lA = lam[0]
    logdet = 0.0
    prod = 1.0  # Σ log D_g as the log of running products: one log per many groups
    for g in range(JA):
        prod *= D[g]
        if not 1e-150 < prod < 1e150:
            logdet += math.log(prod)
            prod = 1.0
    logdet += math.log(prod) + csc_logdet(Ch, Lp, m)
    value = f - 0.5 * logdet
    # the entries of H⁻¹ rows touch: S⁻¹ on its factor's pattern, the pairs' H⁻¹_gh, A's
    # diagonal
    Ci = np.empty(Li.shape[0])
    mark = np.full(m, -1, dtype=np.int64)
    work = np.empty(m)
    csc_selected_inverse(Ch, Lp, Li, m, Ci, mark, work)
    HiAB = np.zeros(nnz)
    HiAA = np.empty(JA)
    Wg = np.zeros(JA)  # A's groups' weights (D_g = 1 + λ_A² W_g)
    for i in range(n):
        Wg[cols[i]] -= d2[i]
    q = 0
    for g in range(JA):
        # Σ_p1 λ_h1 P_p1 S⁻¹[h1, h2] for each partner h2, from the pairs p2 ≤ p1
        for p1 in range(ptr[g], ptr[g + 1]):
            h1 = idx[p1]
            for p2 in range(ptr[g], p1 + 1):
                c = Ci[gpos[q]]
                q += 1
                HiAB[p2] += lam[1 + h1] * P[p1] * c
                if p2 != p1:
                    HiAB[p1] += lam[1 + idx[p2]] * P[p2] * c
        acc = 0.0
        for p2 in range(ptr[g], ptr[g + 1]):
            HiAB[p2] *= -lA / D[g]
            acc += lam[1 + idx[p2]] * P[p2] * HiAB[p2]
        # (H⁻¹_gg - 1) / λ_A without cancellation, kept in HiAA for dF/dλ_A
        HiAA[g] = -(lA * Wg[g] + acc) / D[g]
    # s_i = Z_i' Λ H⁻¹ Λ Z_i
    s = np.empty(n)
    for i in range(n):
        g = cols[i]
        hgg = 1.0 + lA * HiAA[g]  # H⁻¹_gg
        acc = lA * lA * hgg
        for f1 in range(1, F):
            h1 = cols[f1 * n + i]
            acc += 2.0 * lA * lam[1 + h1] * HiAB[pairs[(f1 - 1) * n + i]]
            acc += lam[1 + h1] * lam[1 + h1] * Ci[Lp[h1]]
        s[i] = acc
    r = 0
    for f1 in range(1, F):  # each pair of a row's B columns, both ways
        for f2 in range(1, f1):
            for i in range(n):
                h1 = cols[f1 * n + i]
                h2 = cols[f2 * n + i]
                s[i] += 2.0 * lam[1 + h1] * lam[1 + h2] * Ci[rpos[r * n + i]]
            r += 1
    # ∂G/∂z = ½ Λ Z' (ℓ''' ∘ s), v = H⁻¹ ∂G/∂z
    c3 = np.zeros(k)
    for i in range(n):
        c3[cols[i]] += d3[i] * s[i]
        for f1 in range(1, F):
            c3[JA + cols[f1 * n + i]] += d3[i] * s[i]
    for g in range(JA):
        c3[g] *= 0.5 * lA
    for h in range(m):
        c3[JA + h] *= 0.5 * lam[1 + h]
    v = np.empty(k)
    joint_solve(struct, lam, D, P, Ch, c3, v, work)
    # e_i = ℓ' + ½ ℓ''' s_i + ℓ'' t_i, t_i = Z_i' Λ v; per column Σ e, Σ ℓ'
    t = np.empty(n)
    E = np.zeros(k)
    G1 = np.zeros(k)
    for i in range(n):
        g = cols[i]
        acc = lA * v[g]
        for f1 in range(1, F):
            h = cols[f1 * n + i]
            acc += lam[1 + h] * v[JA + h]
        t[i] = acc
        ei = d1[i] + 0.5 * d3[i] * s[i] + d2[i] * acc
        eta[i] = ei
        E[g] += ei
        G1[g] += d1[i]
        for f1 in range(1, F):
            h = cols[f1 * n + i]
            E[JA + h] += ei
            G1[JA + h] += d1[i]
    lbar = 0.0
    for g in range(JA):
        lbar += z[g] * E[g] + v[g] * G1[g] + HiAA[g]
    Lbar[covA] += lbar
    # (S⁻¹_hh - 1) / λ_h = -(S⁻¹ Λ_B T)_hh, over the pattern (T is zero off it)
    ST = np.zeros(m)
    for j in range(m):
        for q in range(Lp[j], Lp[j + 1]):
            h = Li[q]
            c = Ci[q] * T[q]
            if h == j:
                ST[j] += c * lam[1 + j]
            else:
                ST[h] += c * lam[1 + j]
                ST[j] += c * lam[1 + h]
    for h in range(m):
        Lbar[colcov[h]] += z[JA + h] * E[JA + h] + v[JA + h] * G1[JA + h] - ST[h]
    if theta.shape[0] > 0:
        rest = etaf.copy()
        loglik_grad(code, y, rest, trials, weights, theta, tbar)  # ∂ℓ/∂θ at the mode
        _own_parameters(code, y, etaf, trials, weights, theta, meta[M_ORDERED] == 1, s, t, tbar)
    return value
