"""Several grouping factors' varying intercepts integrated out jointly by one Laplace
approximation, crossed or nested, for any family of
:data:`~hierbayes.density.laplace_rows.LAPLACE_CODES`.

Every factor has one varying intercept, ``u = Λ z`` with ``z ~ N(0, I)`` (``Λ`` the columns'
SDs, one per factor). The factor with the most groups comes first ("A", ``J_A`` groups); the
others' groups follow side by side ("B", ``m`` columns), as in
:mod:`hierbayes.density.crossed_marginal`. With ``η = η0 + Z Λ z`` the approximation is

    F = f(z*) - ½ log det H,   f(z) = Σ_i ℓ_i(η_i) - ½ z'z,   H = I + Λ Z' W Z Λ,

``W = diag(-ℓ'')`` at the joint mode ``z*``. ``H``'s block on A is diagonal
(``D_g = 1 + λ_A² Σ_{i ∈ g} w_i``), its block between A and B sparse (``λ_A λ_h`` times the
weight of the rows a group shares with a B column), so eliminating A leaves the dense Schur
complement ``S = I + Λ_B T Λ_B`` on B, ``T = T_w - Σ_g (λ_A² / D_g) p_g p_g'`` (``T_w``: the
rows' weights between B columns, ``p_g``: group ``g``'s weights with its B partners), formed in
``Σ_g |partners of g|²`` and factorised in ``m³ / 3``. Each Newton step solves ``H d = ∇f`` by
block elimination; ``log det H = Σ log D_g + log det S``.

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
is a function of the point alone. ``S`` is factorised skipping its zeros and inverted only on its
factor's pattern (:mod:`hierbayes.density.laplace_sparse`): for nested factors (each A group
has one partner per B factor) there is no fill and a step costs O(rows + groups); crossed factors
fill ``S`` and cost ``m³ / 3``.

The structure (``A_MCODES``) is an int64 array ``[F, J_A, m, nnz, n, A's covariance index, the
covariance index of each B column (m), the B partners of each A group as CSR pointers (J_A + 1)
and columns (nnz), each row's column in each factor (F x n: A's group, then a B column), each
row's (group, partner) pair in each B factor ((F - 1) x n)]``.
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
from hierbayes.density.effects import chol_solve
from hierbayes.density.laplace import CLOSE, MAX_HALVINGS, MAX_NEWTON, NEWTON_TOL, _own_parameters
from hierbayes.density.laplace_rows import row_pass
from hierbayes.density.laplace_sparse import filled_pattern, selected_inverse, sparse_cholesky
from hierbayes.density.table import farr, iarr
from hierbayes.families.dispatch import loglik_grad

__all__ = ["joint_factor", "joint_laplace_loglik", "joint_modes", "joint_rows", "joint_solve"]


@numba.njit(**JIT)
def _parts(struct):
    """The structure's pieces: ``(F, J_A, m, nnz, n, covA, colcov, ptr, idx, cols, pairs)``."""
    F, JA, m, nnz, n = struct[0], struct[1], struct[2], struct[3], struct[4]
    at = 6
    colcov = struct[at : at + m]
    at += m
    ptr = struct[at : at + JA + 1]
    at += JA + 1
    idx = struct[at : at + nnz]
    at += nnz
    cols = struct[at : at + F * n]
    at += F * n
    pairs = struct[at : at + (F - 1) * n]
    return F, JA, m, nnz, n, struct[5], colcov, ptr, idx, cols, pairs


@numba.njit(**JIT)
def joint_factor(struct, L):
    """Each column's SD: ``λ_A`` then the B columns' (``1 + m``)."""
    m = struct[2]
    lam = np.empty(1 + m)
    lam[0] = L[struct[5]]
    for h in range(m):
        lam[1 + h] = L[struct[6 + h]]
    return lam


@numba.njit(**JIT)
def joint_rows(struct, eta0, lam, z, eta):
    """``η = η0 + Z Λ z`` row by row (``z``: A's groups, then B's columns)."""
    F, JA, _, _, n, _, _, _, _, cols, _ = _parts(struct)
    lA = lam[0]
    for i in range(n):
        eta[i] = eta0[i] + lA * z[cols[i]]
    for f in range(1, F):
        for i in range(n):
            h = cols[f * n + i]
            eta[i] += lam[1 + h] * z[JA + h]


@numba.njit(**JIT)
def _sums(struct, lam, ll, d1, d2, z, grad, D, P, T):
    """``f``, ``∇f`` into ``grad``, ``D_g``, the pair weights ``P`` and ``T_w`` into ``T``."""
    F, JA, m, nnz, n, _, _, _, _, cols, pairs = _parts(struct)
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
    for a in range(m):
        for b in range(m):
            T[a, b] = 0.0
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
            for f2 in range(1, F):
                T[h1, cols[f2 * n + i]] += w
    for g in range(JA):
        grad[g] = lA * grad[g] - z[g]
        D[g] = 1.0 + lA * lA * D[g]
    for h in range(m):
        grad[JA + h] = lam[1 + h] * grad[JA + h] - z[JA + h]
    return f


@numba.njit(**JIT)
def _schur(struct, lam, D, P, T, S):
    """``T ← T_w - Σ_g (λ_A² / D_g) p_g p_g'`` in place and ``S = I + Λ_B T Λ_B``."""
    _, JA, m, _, _, _, _, ptr, idx, _, _ = _parts(struct)
    l2 = lam[0] * lam[0]
    for g in range(JA):  # the lower triangle (partners in increasing order), then mirrored
        c = l2 / D[g]
        for p1 in range(ptr[g], ptr[g + 1]):
            cp = c * P[p1]
            h1 = idx[p1]
            for p2 in range(ptr[g], p1 + 1):
                T[h1, idx[p2]] -= cp * P[p2]
    for a in range(m):
        for b in range(a + 1):
            T[b, a] = T[a, b]
            S[a, b] = lam[1 + a] * T[a, b] * lam[1 + b]
            S[b, a] = S[a, b]
        S[a, a] += 1.0


@numba.njit(**JIT)
def _pattern(struct):
    """The filled pattern of ``S``'s factor: B columns that are partners of one A group (every
    pair of columns a row touches is one), and the fill of their elimination."""
    _, JA, m, _, _, _, _, ptr, idx, _, _ = _parts(struct)
    nz = np.zeros((m, m), dtype=np.bool_)
    for h in range(m):
        nz[h, h] = True
    for g in range(JA):
        for p1 in range(ptr[g], ptr[g + 1]):
            for p2 in range(ptr[g], p1 + 1):
                nz[idx[p1], idx[p2]] = True
    filled_pattern(nz, m)
    return nz


@numba.njit(**JIT)
def joint_solve(struct, lam, D, P, Ch, r, out):
    """``out = H⁻¹ r`` by block elimination (``Ch``: the Cholesky factor of ``S``)."""
    _, JA, m, _, _, _, _, ptr, idx, _, _ = _parts(struct)
    lA = lam[0]
    rB = np.empty(m)
    for h in range(m):
        rB[h] = r[JA + h]
    for g in range(JA):
        c = lA * r[g] / D[g]
        for p in range(ptr[g], ptr[g + 1]):
            h = idx[p]
            rB[h] -= lam[1 + h] * P[p] * c
    xB = np.empty(m)
    chol_solve(Ch, rB, m, xB)
    for h in range(m):
        out[JA + h] = xB[h]
    for g in range(JA):
        s = r[g]
        for p in range(ptr[g], ptr[g + 1]):
            h = idx[p]
            s -= lA * lam[1 + h] * P[p] * xB[h]
        out[g] = s / D[g]


@numba.njit(**JIT)
def joint_modes(code, y, eta0, trials, weights, theta, struct, lam, z):
    """The joint mode of ``f`` by Newton's method with step halving from ``z`` (updated in
    place).

    Returns ``(converged, f, grad, D, P, T, S's Cholesky factor, ll, d1, d2, d3, η)`` at the
    mode (``T``: the Schur complement before scaling).
    """
    _, JA, m, nnz, n, _, _, _, _, _, _ = _parts(struct)
    k = JA + m
    ll = np.empty(n)
    d1 = np.empty(n)
    d2 = np.empty(n)
    d3 = np.empty(n)
    eta = np.empty(n)
    grad = np.empty(k)
    D = np.empty(JA)
    P = np.empty(nnz)
    T = np.empty((m, m))
    S = np.empty((m, m))
    Ch = np.empty((m, m))
    step = np.zeros(k)
    zprev = z.copy()
    d = np.empty(k)
    none = np.empty(0)
    fprev = -np.inf
    halvings = 0
    close = False
    for _ in range(MAX_NEWTON + MAX_HALVINGS):
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
        if not sparse_cholesky(S, m, Ch):
            return False, f, grad, D, P, T, Ch, ll, d1, d2, d3, eta
        joint_solve(struct, lam, D, P, Ch, grad, d)
        big = 0.0
        decrement = 0.0
        for j in range(k):
            big = max(big, abs(d[j]) / (1.0 + abs(z[j])))
            decrement += grad[j] * d[j]
            zprev[j] = z[j]
            step[j] = d[j]
            z[j] += d[j]
        close = decrement < CLOSE
        if big < NEWTON_TOL:  # with this last step taken: its error is of order step²
            joint_rows(struct, eta0, lam, z, eta)
            row_pass(code, y, eta, trials, weights, theta, ll, d1, d2, d3)
            f = _sums(struct, lam, ll, d1, d2, z, grad, D, P, T)
            _schur(struct, lam, D, P, T, S)
            if not sparse_cholesky(S, m, Ch):
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
    F, JA, m, nnz, n, covA, colcov, ptr, idx, cols, pairs = _parts(struct)
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
    logdet += math.log(prod)
    for h in range(m):
        logdet += 2.0 * math.log(Ch[h, h])
    value = f - 0.5 * logdet
    # the entries of H⁻¹ rows touch: S⁻¹, the pairs' H⁻¹_gh, A's diagonal
    Ci = selected_inverse(Ch, _pattern(struct), m)  # S⁻¹ where rows touch it
    HiAB = np.empty(nnz)
    HiAA = np.empty(JA)
    Wg = np.zeros(JA)  # A's groups' weights (D_g = 1 + λ_A² W_g)
    for i in range(n):
        Wg[cols[i]] -= d2[i]
    for g in range(JA):
        acc = 0.0
        for p2 in range(ptr[g], ptr[g + 1]):
            h2 = idx[p2]
            s = 0.0
            for p1 in range(ptr[g], ptr[g + 1]):
                h1 = idx[p1]
                s += lam[1 + h1] * P[p1] * Ci[h1, h2]
            HiAB[p2] = -lA * s / D[g]
            acc += lam[1 + h2] * P[p2] * HiAB[p2]
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
            for f2 in range(1, F):
                h2 = cols[f2 * n + i]
                acc += lam[1 + h1] * lam[1 + h2] * Ci[h1, h2]
        s[i] = acc
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
    joint_solve(struct, lam, D, P, Ch, c3, v)
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
    for h in range(m):
        # (S⁻¹_hh - 1) / λ_h = -(S⁻¹ Λ_B T)_hh
        acc = 0.0
        for j in range(m):
            acc += Ci[h, j] * lam[1 + j] * T[j, h]
        Lbar[colcov[h]] += z[JA + h] * E[JA + h] + v[JA + h] * G1[JA + h] - acc
    if theta.shape[0] > 0:
        work = etaf.copy()
        loglik_grad(code, y, work, trials, weights, theta, tbar)  # ∂ℓ/∂θ at the mode
        _own_parameters(code, y, etaf, trials, weights, theta, meta[M_ORDERED] == 1, s, t, tbar)
    return value
