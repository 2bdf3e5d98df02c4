"""The gaussian likelihood with the effects of a chain of nested factors integrated out jointly,
its gradient, and exact conditional draws of the effects, for the compiled kernel.

Factors ``0 (top), 1, ..., D-1 (bottom)`` nest: every group of level ``l`` lies inside one group
of level ``l-1`` (schools in authorities, casks in batches). Level ``l`` has ``q_l`` varying
coefficients (all its terms side by side) with ``u = L_l v``, ``v ~ N(0, I)``. A group ``g`` of
level ``l`` sees the columns of its own level and of its ancestors, ``X = [Z_l, Z_{l-1}, ...,
Z_0]`` (``d_l = q_l + ... + q_0`` columns), through statistics in data units: ``S_g`` (like
``X'X``), ``t_g`` (like ``X'r``). At the bottom they are the rows' own ``X'X`` and ``X'r``.
Integrating out the group's own effects (the first ``q_l`` columns; Woodbury identity and
matrix determinant lemma), with ``M = σ² I + L' S₁₁ L``, ``K = L M⁻¹ L'``::

    S' = S₂₂ - S₂₁ K S₁₂,    t' = t₂ - S₂₁ K t₁,    quad += t₁' K t₁,    logdet += log|M|

leaves the statistics of the columns of its ancestors, and a parent's statistics are the sum of
its children's. Bottom-up over the levels, then::

    log p(y) = -½ (n log 2π + (n - Σ_l J_l q_l) log σ² + logdet + (r'r - quad) / σ²)

which equals the log-density of ``N(W θ, σ² I + Σ_l Z_l T_l Z_l')``. A gradient costs
``Σ_l J_l (d_l² q_l + q_l³)`` whatever the number of rows. The gradient is reverse mode through
the same recursion (top-down). Given the parameters, ``v_g | ancestors' u, y ~ N(M⁻¹ L'(t₁ -
S₁₂ u_anc), σ² M⁻¹)`` with the group's statistics above: :mod:`hierbayes.density.nested_draws`
draws every level top-down.

The tree is an int64 array: ``[D, J_0..J_{D-1}, q_0..q_{D-1}, parents of level 1, ..., parents
of level D-1]`` (a group's parent: its index in the level above). Columns of the leaves'
statistics are ordered bottom level first: level ``l`` occupies ``[col_l, col_l + q_l)`` with
``col_l = q_{l+1} + ... + q_{D-1}``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_MCODES,
    A_SS_ZTZ,
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
    N_GLOBAL,
    P_META,
    PER_BLOCK,
)
from hierbayes.density.effects import chol_solve, cholesky
from hierbayes.density.marginal import fixed_backward, fixed_statistics
from hierbayes.density.nested_q1 import backward_q1, forward_q1
from hierbayes.density.nested_tree import tree_shape
from hierbayes.density.table import farr, iarr

NESTED = 2
"""``meta[M_SUFFSTAT]`` of a model whose factors form a nested chain, all integrated out."""


@numba.njit(**JIT)
def nested_forward(tree, Sleaf, tleaf, LF, sigma2, Sall, tall, Mall, Call):
    """Bottom-up pass: every group's statistics into ``Sall``/``tall``, its ``M⁻¹`` and
    Cholesky factor of ``M`` into ``Mall``/``Call``; returns ``(Σ log|M|, Σ t₁'K t₁, ok)``."""
    D, J, q, d, col, po, so, to, mo, _uo = tree_shape(tree)
    leaf = D - 1
    for k in range(Sleaf.shape[0]):
        Sall[so[leaf] + k] = Sleaf[k]
    for k in range(tleaf.shape[0]):
        tall[to[leaf] + k] = tleaf[k]
    for k in range(so[leaf]):
        Sall[k] = 0.0
    for k in range(to[leaf]):
        tall[k] = 0.0
    qmax = 0
    for lev in range(D):
        qmax = max(qmax, q[lev])
    M = np.empty((qmax, qmax))
    Ch = np.empty((qmax, qmax))
    K = np.empty((qmax, qmax))
    SL = np.empty((qmax, qmax))
    Minv = np.empty((qmax, qmax))
    a = np.empty(qmax)
    unit = np.empty(qmax)
    colv = np.empty(qmax)
    logdet = 0.0
    quad = 0.0
    for lev in range(D - 1, -1, -1):
        ql, dl = q[lev], d[lev]
        e = dl - ql
        c0 = col[lev]
        if ql == 1:  # closed forms
            ld, qd, ok = forward_q1(tree, lev, LF, sigma2, Sall, tall, Mall, Call)
            if not ok:
                return -math.inf, 0.0, False
            logdet += ld
            quad += qd
            continue
        for g in range(J[lev]):
            sb = so[lev] + g * dl * dl
            tb = to[lev] + g * dl
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += Sall[sb + i * dl + k] * LF[c0 + k, c0 + j]
                    SL[i, j] = acc
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += LF[c0 + k, c0 + i] * SL[k, j]
                    M[i, j] = acc + (sigma2 if i == j else 0.0)
            if not cholesky(M, ql, Ch):
                return -math.inf, 0.0, False
            for i in range(ql):
                logdet += 2.0 * math.log(Ch[i, i])
            mb = mo[lev] + g * ql * ql
            for j in range(ql):
                for i in range(ql):
                    unit[i] = 1.0 if i == j else 0.0
                chol_solve(Ch, unit, ql, colv)
                for i in range(ql):
                    Minv[i, j] = colv[i]
            for i in range(ql):
                for j in range(ql):
                    Mall[mb + i * ql + j] = Minv[i, j]
                    Call[mb + i * ql + j] = Ch[i, j]
            # K = L M⁻¹ L'
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += LF[c0 + i, c0 + k] * Minv[k, j]
                    SL[i, j] = acc
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += SL[i, k] * LF[c0 + j, c0 + k]
                    K[i, j] = acc
            for i in range(ql):
                acc = 0.0
                for j in range(ql):
                    acc += K[i, j] * tall[tb + j]
                a[i] = acc
                quad += tall[tb + i] * acc
            if lev == 0:
                continue
            p = tree[po[lev] + g]
            pb = so[lev - 1] + p * e * e
            ptb = to[lev - 1] + p * e
            for f1 in range(e):
                r1 = sb + (ql + f1) * dl
                acc = tall[tb + ql + f1]
                for i in range(ql):
                    acc -= Sall[r1 + i] * a[i]
                tall[ptb + f1] += acc
                for i in range(ql):  # (S₂₁ K) row f1, kept in colv
                    s = 0.0
                    for j in range(ql):
                        s += Sall[r1 + j] * K[j, i]
                    colv[i] = s
                for f2 in range(e):
                    r2 = sb + (ql + f2) * dl
                    s = Sall[r1 + ql + f2]
                    for i in range(ql):
                        s -= colv[i] * Sall[r2 + i]
                    Sall[pb + f1 * e + f2] += s
    return logdet, quad, True


@numba.njit(**JIT)
def nested_backward(tree, LF, sigma2, Sall, tall, Mall, Gall, tbar, LFbar):
    """Top-down reverse pass of :func:`nested_forward` for ``loglik = -½ (logdet - quad / σ²)
    + ...``: writes ``d/dt`` of every group into ``tbar`` (the leaves' are the ones that reach
    θ), adds ``d/dL`` to ``LFbar``; returns the part of ``d/dσ²`` that flows through the
    ``M`` matrices."""
    D, J, q, d, col, po, so, to, mo, _uo = tree_shape(tree)
    c = 0.5 / sigma2
    qmax = 0
    dmax = 0
    for lev in range(D):
        qmax = max(qmax, q[lev])
        dmax = max(dmax, d[lev])
    Minv = np.empty((qmax, qmax))
    K = np.empty((qmax, qmax))
    T1 = np.empty((qmax, qmax))
    T2 = np.empty((qmax, qmax))
    Kbar = np.empty((qmax, qmax))
    Mbar = np.empty((qmax, qmax))
    A = np.empty((qmax, dmax))
    GA = np.empty((dmax, qmax))
    a = np.empty(qmax)
    s = np.empty(qmax)
    s2bar = 0.0
    for lev in range(D):
        ql, dl = q[lev], d[lev]
        e = dl - ql
        c0 = col[lev]
        if ql == 1:  # closed forms
            s2bar += backward_q1(tree, lev, LF, sigma2, Sall, tall, Mall, Gall, tbar, LFbar)
            continue
        for g in range(J[lev]):
            sb = so[lev] + g * dl * dl
            tb = to[lev] + g * dl
            mb = mo[lev] + g * ql * ql
            pb = ptb = 0
            if lev > 0:
                p = tree[po[lev] + g]
                pb = so[lev - 1] + p * e * e
                ptb = to[lev - 1] + p * e
            for i in range(ql):
                for j in range(ql):
                    Minv[i, j] = Mall[mb + i * ql + j]
            for i in range(ql):  # T1 = L M⁻¹
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += LF[c0 + i, c0 + k] * Minv[k, j]
                    T1[i, j] = acc
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += T1[i, k] * LF[c0 + j, c0 + k]
                    K[i, j] = acc
            for i in range(ql):
                acc = 0.0
                for j in range(ql):
                    acc += K[i, j] * tall[tb + j]
                a[i] = acc
            # A = K S₁₂ (q x e); s = S₁₂ t̄'; GA = G' A' (e x q)
            for i in range(ql):
                acc_s = 0.0
                for f in range(e):
                    acc = 0.0
                    for j in range(ql):
                        acc += K[i, j] * Sall[sb + j * dl + ql + f]
                    A[i, f] = acc
                    acc_s += Sall[sb + i * dl + ql + f] * tbar[ptb + f]
                s[i] = acc_s
            for f1 in range(e):
                for i in range(ql):
                    acc = 0.0
                    for f2 in range(e):
                        acc += Gall[pb + f1 * e + f2] * A[i, f2]
                    GA[f1, i] = acc
            # K̄ = c t₁t₁' - sym(s t₁') - S₁₂ G' S₂₁
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for f in range(e):  # (S₁₂ G' S₂₁)_ij
                        inner = 0.0
                        for f2 in range(e):
                            inner += Gall[pb + f * e + f2] * Sall[sb + (ql + f2) * dl + j]
                        acc += Sall[sb + i * dl + ql + f] * inner
                    ti, tj = tall[tb + i], tall[tb + j]
                    Kbar[i, j] = c * ti * tj - 0.5 * (s[i] * tj + ti * s[j]) - acc
            # M̄ = -½ M⁻¹ - M⁻¹ L' K̄ L M⁻¹ = -½ M⁻¹ - T1' K̄ T1
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += Kbar[i, k] * T1[k, j]
                    T2[i, j] = acc  # K̄ L M⁻¹
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += T1[k, i] * T2[k, j]
                    Mbar[i, j] = -0.5 * Minv[i, j] - acc
                s2bar += Mbar[i, i]
            # L̄ += 2 K̄ L M⁻¹ + 2 S₁₁ L M̄
            for i in range(ql):
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        sl = 0.0
                        for m in range(ql):
                            sl += Sall[sb + i * dl + m] * LF[c0 + m, c0 + k]
                        acc += sl * Mbar[k, j]
                    LFbar[c0 + i, c0 + j] += 2.0 * T2[i, j] + 2.0 * acc
            # the group's own adjoints: G (full, symmetric) and t̄
            for i in range(ql):
                acc = 2.0 * c * a[i]
                for f in range(e):
                    acc -= A[i, f] * tbar[ptb + f]
                tbar[tb + i] = acc
            for f in range(e):
                tbar[tb + ql + f] = tbar[ptb + f]
            if lev == D - 1:
                continue  # the leaves' S are data
            for i in range(ql):  # G₁₁ = L M̄ L'
                for j in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        for m in range(ql):
                            acc += LF[c0 + i, c0 + k] * Mbar[k, m] * LF[c0 + j, c0 + m]
                    Gall[sb + i * dl + j] = acc
            for f1 in range(e):
                for i in range(ql):  # G₂₁ = -½ t̄' a' - G' A'
                    v = -0.5 * tbar[ptb + f1] * a[i] - GA[f1, i]
                    Gall[sb + (ql + f1) * dl + i] = v
                    Gall[sb + i * dl + ql + f1] = v
                for f2 in range(e):
                    Gall[sb + (ql + f1) * dl + ql + f2] = Gall[pb + f1 * e + f2]
    return s2bar


@numba.njit(**JIT)
def _factor_chol(table, meta, L, d):
    """The block-diagonal ``L`` of all integrated-out terms (d x d, columns by ``B_MARG_COL``)."""
    LF = np.zeros((d, d))
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(qb):
                    LF[c0 + i, c0 + j] = L[cov + i * qb + j]
    return LF


@numba.njit(**JIT)
def nested_suffstat(x, table, meta, L, sigma2, grad, Lbar):
    """Nested factors all integrated out: the log-likelihood from sufficient statistics, its
    gradient in θ added to ``grad`` and in the ``L`` of each term to ``Lbar``; returns
    ``(log-likelihood, d/dσ²)``."""
    n, d, Jleaf = meta[M_NOBS], meta[M_MARG_Q], meta[M_MARG_J]
    tree = iarr(table, A_MCODES)
    Sleaf = farr(table, A_SS_ZTZ)
    m = Jleaf * d
    th, rr, tleaf = fixed_statistics(x, table, meta, m)
    LF = _factor_chol(table, meta, L, d)
    D, _J, _q, _dl, _col, _po, so, to, mo, uo = tree_shape(tree)
    Sall = np.empty(so[D])
    tall = np.empty(to[D])
    Mall = np.empty(mo[D])
    Call = np.empty(mo[D])
    logdet, quad, ok = nested_forward(tree, Sleaf, tleaf, LF, sigma2, Sall, tall, Mall, Call)
    if not ok:
        return -math.inf, 0.0
    nq = uo[D]
    loglik = -0.5 * (n * LOG_2PI + (n - nq) * math.log(sigma2) + logdet + (rr - quad) / sigma2)
    Gall = np.zeros(so[D])
    tbar = np.zeros(to[D])
    LFbar = np.zeros((d, d))
    s2bar = nested_backward(tree, LF, sigma2, Sall, tall, Mall, Gall, tbar, LFbar)
    s2bar += -0.5 * (n - nq) / sigma2 + 0.5 * (rr - quad) / (sigma2 * sigma2)
    rrbar = -0.5 / sigma2
    lb = to[D - 1]
    fixed_backward(table, meta, th, rrbar, tbar[lb:], m, grad)
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        if bm[B_MARGINAL] == 1:
            qb, c0, cov = bm[B_Q], bm[B_MARG_COL], bm[B_COV_AT]
            for i in range(qb):
                for j in range(i + 1):
                    Lbar[cov + i * qb + j] += LFbar[c0 + i, c0 + j]
    return loglik, s2bar
