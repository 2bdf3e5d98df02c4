"""The gaussian likelihood with the varying intercepts of crossed factors integrated out jointly,
its gradient, and exact joint conditional draws of the effects, for the compiled kernel.

Every factor has one varying intercept, ``u = λ v`` with ``v ~ N(0, I)`` (``λ`` the factor's SD).
The factor with the most groups comes first ("A", ``J_A`` groups: pupils, students); the others
follow side by side ("B", ``m`` columns: schools, ...). With ``Z = [Z_A, Z_B]``, ``S = Z'Z``,
``Λ = diag(λ)`` and ``t = Z'r`` (``r = y - Wθ``), lme4's ``M = σ² I + Λ S Λ`` is::

    M = [ D      M_AB ]     D = diag(σ² + λ_A² n_g)          (one group of A: its rows)
        [ M_BA   M_BB ]     M_AB[g, h] = λ_A n_gh λ_h        (n_gh: rows of g in column h)

``D`` is diagonal, so eliminating A leaves the dense Schur complement onto B::

    C = σ² I + Λ_B T Λ_B,   T = S_BB - Σ_g (λ_A² / d_g) s_g s_g'

(``s_g``: the counts of group ``g`` in the B columns, nonzero only for its partners), which
costs ``Σ_g |partners of g|²`` to form and ``m³ / 3`` to factorise: for 10,000 pupils in 80
schools a few hundred thousand flops, whatever the number of rows. Then ``log|M| = Σ log d_g +
log|C|``, ``a = M⁻¹ Λ t`` by block elimination, and::

    log p(y) = -½ (n log 2π + (n - J_A - m) log σ² + log|M| + (r'r - t'Λ a) / σ²)

which is the log-density of ``N(Wθ, σ² I + Z Λ² Z')``. The gradient needs only the diagonal of
``M⁻¹`` (from ``C⁻¹``): with ``ΛSΛ M⁻¹ = I - σ² M⁻¹`` and ``M a = Λ t``,

    d/dλ_i = -(1 - σ² M⁻¹_ii - a_i²) / λ_i,   d/dt = Λ a / σ²,
    d/dσ² = -½ ((n - k) / σ² + tr M⁻¹ - (r'r - t'Λ a) / σ⁴ + a'a / σ²)

(``1 - σ² M⁻¹_ii`` is formed without cancellation). Given the parameters, ``v | y ~ N(a, σ²
M⁻¹)``: B's effects from ``N(a_B, σ² C⁻¹)``, then A's given them, ``v_g ~ N((λ_A t_g - M_AB[g]
v_B) / d_g, σ² / d_g)`` (:func:`crossed_draw`).

The structure is an int64 array ``[J_A, m, A's covariance index, nnz, the covariance index of
each B column (m), the partners of each A group as CSR pointers (J_A + 1) and columns (nnz)]``;
the statistics a float64 array ``[n_g (J_A), n_gh per partner (nnz), S_BB (m x m)]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import A_MCODES, A_SS_ZTZ, JIT, LOG_2PI, M_MARG_J, M_NOBS
from hierbayes.density.effects import chol_solve, cholesky
from hierbayes.density.marginal import fixed_backward, fixed_statistics
from hierbayes.density.table import farr, iarr

CROSSED = 3
"""``meta[M_SUFFSTAT]`` of a model whose crossed factors' intercepts are all integrated out."""


@numba.njit(**JIT)
def _schur(struct, stats, lam, sigma2, t, d, T, C, zB):
    """``d_g``, the unscaled Schur complement ``T``, ``C = σ² I + Λ_B T Λ_B`` and the
    right-hand side ``z_B = Λ_B (t_B - Σ_g s_g λ_A² t_g / d_g)`` (for ``λ_A t``)."""
    JA, m, nnz = struct[0], struct[1], struct[3]
    ptr = struct[4 + m : 5 + m + JA]
    idx = struct[5 + m + JA : 5 + m + JA + nnz]
    nA = stats[:JA]
    cnt = stats[JA : JA + nnz]
    SBB = stats[JA + nnz : JA + nnz + m * m]
    lA = lam[0]
    l2 = lA * lA
    for i in range(m):
        zB[i] = t[JA + i]
        for j in range(m):
            T[i, j] = SBB[i * m + j]
    for g in range(JA):
        dg = sigma2 + l2 * nA[g]
        d[g] = dg
        c = l2 / dg
        tg = c * t[g]
        for p1 in range(ptr[g], ptr[g + 1]):
            h1 = idx[p1]
            n1 = cnt[p1]
            zB[h1] -= n1 * tg
            cn1 = c * n1
            for p2 in range(ptr[g], ptr[g + 1]):
                T[h1, idx[p2]] -= cn1 * cnt[p2]
    for i in range(m):
        zB[i] *= lam[1 + i]
        for j in range(m):
            C[i, j] = lam[1 + i] * T[i, j] * lam[1 + j]
        C[i, i] += sigma2


@numba.njit(**JIT)
def _solve_a(struct, stats, lam, t, d, Ch, zB, a):
    """``a = M⁻¹ Λ t``: B's part from the Schur complement, then A's by back substitution."""
    JA, m, nnz = struct[0], struct[1], struct[3]
    ptr = struct[4 + m : 5 + m + JA]
    idx = struct[5 + m + JA : 5 + m + JA + nnz]
    cnt = stats[JA : JA + nnz]
    aB = np.empty(m)
    chol_solve(Ch, zB, m, aB)
    lA = lam[0]
    for h in range(m):
        a[JA + h] = aB[h]
    for g in range(JA):
        s = t[g]
        for p in range(ptr[g], ptr[g + 1]):
            h = idx[p]
            s -= cnt[p] * lam[1 + h] * aB[h]
        a[g] = lA * s / d[g]


@numba.njit(**JIT)
def _inverse(Ch, m):
    """``(Ch Ch')⁻¹`` from the lower factor."""
    Li = np.zeros((m, m))
    for j in range(m):
        Li[j, j] = 1.0 / Ch[j, j]
        for i in range(j + 1, m):
            s = 0.0
            for k in range(j, i):
                s -= Ch[i, k] * Li[k, j]
            Li[i, j] = s / Ch[i, i]
    Ci = np.empty((m, m))
    for i in range(m):
        for j in range(i + 1):
            s = 0.0
            for k in range(i, m):
                s += Li[k, i] * Li[k, j]
            Ci[i, j] = s
            Ci[j, i] = s
    return Ci


@numba.njit(**JIT)
def crossed_loglik(struct, stats, L, sigma2, t, rr, n, Lbar, tbar):
    """Marginal gaussian log-likelihood with every crossed factor's intercepts integrated out.

    ``t``: ``Z'r`` (A's groups, then B's columns); ``rr``: ``r'r``. Adds ``d/dL`` to ``Lbar``,
    writes ``d/dt`` into ``tbar``; returns ``(log-likelihood, d/dσ², d/d rr)``.
    """
    JA, m, nnz = struct[0], struct[1], struct[3]
    colcov = struct[4 : 4 + m]
    ptr = struct[4 + m : 5 + m + JA]
    idx = struct[5 + m + JA : 5 + m + JA + nnz]
    nA = stats[:JA]
    cnt = stats[JA : JA + nnz]
    k = JA + m
    lam = np.empty(1 + m)
    lam[0] = L[struct[2]]
    for h in range(m):
        lam[1 + h] = L[colcov[h]]
    d = np.empty(JA)
    T = np.empty((m, m))
    C = np.empty((m, m))
    Ch = np.empty((m, m))
    zB = np.empty(m)
    _schur(struct, stats, lam, sigma2, t, d, T, C, zB)
    if not cholesky(C, m, Ch):
        return -math.inf, 0.0, 0.0
    a = np.empty(k)
    _solve_a(struct, stats, lam, t, d, Ch, zB, a)
    lA = lam[0]
    logdet = 0.0
    prod = 1.0  # Σ log d_g as the log of running products: one log per many groups
    quad = 0.0
    asq = 0.0
    for g in range(JA):
        prod *= d[g]
        if not 1e-150 < prod < 1e150:
            logdet += math.log(prod)
            prod = 1.0
        quad += lA * t[g] * a[g]
    logdet += math.log(prod)
    for h in range(m):
        logdet += 2.0 * math.log(Ch[h, h])
        quad += lam[1 + h] * t[JA + h] * a[JA + h]
    for i in range(k):
        asq += a[i] * a[i]
    loglik = -0.5 * (n * LOG_2PI + (n - k) * math.log(sigma2) + logdet + (rr - quad) / sigma2)
    # the diagonal of M⁻¹ and (1 - σ² M⁻¹_ii) / λ_i without cancellation
    Ci = _inverse(Ch, m)
    tr = 0.0
    lbarA = 0.0
    for g in range(JA):
        qg = 0.0
        for p1 in range(ptr[g], ptr[g + 1]):
            h1 = idx[p1]
            v1 = cnt[p1] * lam[1 + h1]
            for p2 in range(ptr[g], ptr[g + 1]):
                h2 = idx[p2]
                qg += v1 * cnt[p2] * lam[1 + h2] * Ci[h1, h2]
        dg = d[g]
        r = lA / (dg * dg)
        tr += 1.0 / dg + lA * r * qg
        # (1 - σ² M⁻¹_gg) / λ_A = λ_A n_g / d_g - σ² λ_A q_g / d_g²
        lbarA -= lA * nA[g] / dg - sigma2 * r * qg - a[g] * a[g] / lA
        tbar[g] = lA * a[g] / sigma2
    Lbar[struct[2]] += lbarA
    for h in range(m):
        tr += Ci[h, h]
        # (1 - σ² C⁻¹_hh) / λ_h = (C⁻¹ Λ_B T)_hh
        s = 0.0
        for j in range(m):
            s += Ci[h, j] * lam[1 + j] * T[j, h]
        lh = lam[1 + h]
        Lbar[colcov[h]] -= s - a[JA + h] * a[JA + h] / lh
        tbar[JA + h] = lh * a[JA + h] / sigma2
    s2bar = -0.5 * ((n - k) / sigma2 + tr - (rr - quad) / (sigma2 * sigma2) + asq / sigma2)
    return loglik, s2bar, -0.5 / sigma2


@numba.njit(**JIT)
def crossed_suffstat(x, table, meta, L, sigma2, grad, Lbar):
    """Crossed factors' intercepts all integrated out: the log-likelihood from sufficient
    statistics, its gradient in θ added to ``grad`` and in each SD to ``Lbar``; returns
    ``(log-likelihood, d/dσ²)``."""
    k = meta[M_MARG_J]
    struct = iarr(table, A_MCODES)
    stats = farr(table, A_SS_ZTZ)
    th, rr, t = fixed_statistics(x, table, meta, k)
    tbar = np.empty(k)
    loglik, s2bar, rrbar = crossed_loglik(struct, stats, L, sigma2, t, rr, meta[M_NOBS], Lbar, tbar)
    if not math.isfinite(loglik):
        return -math.inf, 0.0
    fixed_backward(table, meta, th, rrbar, tbar, k, grad)
    return loglik, s2bar


@numba.njit(**JIT)
def crossed_draw(struct, stats, lam, sigma2, t, eps, v):
    """One exact draw of ``v`` (A's groups, then B's columns) from ``N(M⁻¹ Λ t, σ² M⁻¹)`` given
    the SDs ``lam`` (A's, then each B column's) and ``t = Z'r``; ``eps``: standard normals."""
    JA, m, nnz = struct[0], struct[1], struct[3]
    ptr = struct[4 + m : 5 + m + JA]
    idx = struct[5 + m + JA : 5 + m + JA + nnz]
    cnt = stats[JA : JA + nnz]
    d = np.empty(JA)
    T = np.empty((m, m))
    C = np.empty((m, m))
    Ch = np.empty((m, m))
    zB = np.empty(m)
    _schur(struct, stats, lam, sigma2, t, d, T, C, zB)
    if not cholesky(C, m, Ch):
        return False
    aB = np.empty(m)
    chol_solve(Ch, zB, m, aB)
    sigma = math.sqrt(sigma2)
    # v_B = a_B + σ Ch'⁻¹ ε_B
    e = np.empty(m)
    for i in range(m - 1, -1, -1):
        s = eps[JA + i]
        for k in range(i + 1, m):
            s -= Ch[k, i] * e[k]
        e[i] = s / Ch[i, i]
    for h in range(m):
        v[JA + h] = aB[h] + sigma * e[h]
    lA = lam[0]
    for g in range(JA):
        s = t[g]
        for p in range(ptr[g], ptr[g + 1]):
            h = idx[p]
            s -= cnt[p] * lam[1 + h] * v[JA + h]
        v[g] = lA * s / d[g] + sigma * eps[g] / math.sqrt(d[g])
    return True


@numba.njit(**JIT)
def crossed_draws(struct, stats, lams, sigma, t, eps, out):
    """:func:`crossed_draw` for each posterior draw ``s``: SDs ``lams[s]``, ``σ = sigma[s]``,
    ``t[s]``; effects ``u = λ v`` into ``out[s]``. Returns False if a draw's ``C`` is not
    positive definite."""
    k = t.shape[1]
    v = np.empty(k)
    JA = struct[0]
    for s in range(t.shape[0]):
        if not crossed_draw(struct, stats, lams[s], sigma[s] * sigma[s], t[s], eps[s], v):
            return False
        for g in range(JA):
            out[s, g] = lams[s, 0] * v[g]
        for h in range(k - JA):
            out[s, JA + h] = lams[s, 1 + h] * v[JA + h]
    return True
