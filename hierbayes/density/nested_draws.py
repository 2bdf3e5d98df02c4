"""Exact conditional draws of the effects of a chain of nested factors, top level first: given the
parameters, ``v_g | ancestors' u, y ~ N(M⁻¹ L'(t₁ - S₁₂ u_anc), σ² M⁻¹)`` with the group's
statistics (see :mod:`hierbayes.density.nested_marginal`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    JIT,
)
from hierbayes.density.nested_marginal import nested_forward
from hierbayes.density.nested_tree import tree_shape


@numba.njit(**JIT)
def nested_draws(tree, Sleaf, Xty, XtX, b, LFs, sigma, eps, out):
    """One exact conditional draw of every level's effects per posterior draw.

    ``Sleaf`` (J d²), ``Xty`` (J d) and ``XtX`` (J d, p): the leaves' statistics with the
    design's own fixed columns ``X``; ``b`` (S, p): fixed effects; ``LFs`` (S, d, d): the
    block-diagonal ``L``; ``sigma`` (S); ``eps`` (S, Σ J_l q_l) standard normal. ``out`` gets
    ``u`` level by level (top first), group by group, in each level's column order.
    """
    D, J, q, dl, col, po, so, to, mo, uo = tree_shape(tree)
    S = b.shape[0]
    p = b.shape[1]
    m = Xty.shape[0]
    tleaf = np.empty(m)
    Sall = np.empty(so[D])
    tall = np.empty(to[D])
    Mall = np.empty(mo[D])
    Call = np.empty(mo[D])
    qmax = 0
    for lev in range(D):
        qmax = max(qmax, q[lev])
    rhs = np.empty(qmax)
    mean = np.empty(qmax)
    v = np.empty(qmax)
    for s in range(S):
        for r in range(m):
            acc = Xty[r]
            for c in range(p):
                acc -= XtX[r, c] * b[s, c]
            tleaf[r] = acc
        LF = LFs[s]
        sigma2 = sigma[s] * sigma[s]
        _, _, ok = nested_forward(tree, Sleaf, tleaf, LF, sigma2, Sall, tall, Mall, Call)
        if not ok:
            for k in range(uo[D]):
                out[s, k] = math.nan
            continue
        for lev in range(D):
            ql, d = q[lev], dl[lev]
            c0 = col[lev]
            for g in range(J[lev]):
                sb = so[lev] + g * d * d
                tb = to[lev] + g * d
                mb = mo[lev] + g * ql * ql
                # rhs = L'(t₁ - S₁₂ u_anc), ancestors' u level by level upwards
                for i in range(ql):
                    acc = tall[tb + i]
                    f = ql
                    node = g
                    for up in range(lev - 1, -1, -1):
                        node = tree[po[up + 1] + node]
                        base = uo[up] + node * q[up]
                        for k in range(q[up]):
                            acc -= Sall[sb + i * d + f + k] * out[s, base + k]
                        f += q[up]
                    mean[i] = acc
                for i in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += LF[c0 + k, c0 + i] * mean[k]
                    rhs[i] = acc
                for i in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += Mall[mb + i * ql + k] * rhs[k]
                    mean[i] = acc
                # v = mean + σ C^{-T} ε (C C' = M)
                for i in range(ql - 1, -1, -1):
                    acc = eps[s, uo[lev] + g * ql + i]
                    for k in range(i + 1, ql):
                        acc -= Call[mb + k * ql + i] * v[k]
                    v[i] = acc / Call[mb + i * ql + i]
                for i in range(ql):
                    v[i] = mean[i] + sigma[s] * v[i]
                for i in range(ql):
                    acc = 0.0
                    for k in range(ql):
                        acc += LF[c0 + i, c0 + k] * v[k]
                    out[s, uo[lev] + g * ql + i] = acc
