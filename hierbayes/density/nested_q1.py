"""One level of the nested recursion of :mod:`hierbayes.density.nested_marginal` whose groups have
one varying coefficient: the closed forms (no Cholesky factor), forward and backward.
"""

from __future__ import annotations

import math

import numba

from hierbayes.density.codes import (
    JIT,
)
from hierbayes.density.nested_tree import tree_shape


@numba.njit(**JIT)
def forward_q1(tree, lev, LF, sigma2, Sall, tall, Mall, Call):
    """Level ``lev`` of :func:`nested_forward` when it has one coefficient (scalars;
    log-determinants as logs of running products)."""
    _D, J, _q, d, col, po, so, to, mo, _uo = tree_shape(tree)
    logdet = 0.0
    quad = 0.0
    dl = d[lev]
    e = dl - 1
    lf = LF[col[lev], col[lev]]
    l2 = lf * lf
    prod = 1.0
    for g in range(J[lev]):
        sb = so[lev] + g * dl * dl
        tb = to[lev] + g * dl
        m = sigma2 + l2 * Sall[sb]
        if not m > 0.0:
            return -math.inf, 0.0, False
        prod *= m
        if not 1e-150 < prod < 1e150:
            logdet += math.log(prod)
            prod = 1.0
        k = l2 / m
        Mall[mo[lev] + g] = 1.0 / m
        Call[mo[lev] + g] = math.sqrt(m)
        t1 = tall[tb]
        a = k * t1
        quad += t1 * a
        if lev == 0:
            continue
        p = tree[po[lev] + g]
        pb = so[lev - 1] + p * e * e
        ptb = to[lev - 1] + p * e
        for f1 in range(e):
            s1 = Sall[sb + f1 + 1]
            tall[ptb + f1] += tall[tb + 1 + f1] - s1 * a
            ks1 = k * s1
            r1 = sb + (1 + f1) * dl + 1
            for f2 in range(e):
                Sall[pb + f1 * e + f2] += Sall[r1 + f2] - ks1 * Sall[sb + 1 + f2]
    logdet += math.log(prod)
    return logdet, quad, True


@numba.njit(**JIT)
def backward_q1(tree, lev, LF, sigma2, Sall, tall, Mall, Gall, tbar, LFbar):
    """Level ``lev`` of :func:`nested_backward` when it has one coefficient."""
    D, J, _q, d, col, po, so, to, mo, _uo = tree_shape(tree)
    c = 0.5 / sigma2
    s2bar = 0.0
    dl = d[lev]
    e = dl - 1
    c0 = col[lev]
    lf = LF[c0, c0]
    l2 = lf * lf
    lbar = 0.0
    for g in range(J[lev]):
        sb = so[lev] + g * dl * dl
        tb = to[lev] + g * dl
        minv = Mall[mo[lev] + g]
        k = l2 * minv
        t1 = tall[tb]
        a = k * t1
        pb = ptb = 0
        if lev > 0:
            p = tree[po[lev] + g]
            pb = so[lev - 1] + p * e * e
            ptb = to[lev - 1] + p * e
        s = 0.0
        sgs = 0.0
        for f1 in range(e):
            s1 = Sall[sb + 1 + f1]
            s += s1 * tbar[ptb + f1]
            acc = 0.0
            for f2 in range(e):
                acc += Gall[pb + f1 * e + f2] * Sall[sb + 1 + f2]
            sgs += s1 * acc
            if lev < D - 1:
                Gall[sb + (1 + f1) * dl] = acc  # G' S₂₁, finished below
        kbar = c * t1 * t1 - s * t1 - sgs
        lm = lf * minv
        mbar = -0.5 * minv - lm * lm * kbar
        s2bar += mbar
        lbar += 2.0 * kbar * lm + 2.0 * Sall[sb] * lf * mbar
        tbar[tb] = 2.0 * c * a - k * s
        for f in range(e):
            tbar[tb + 1 + f] = tbar[ptb + f]
        if lev == D - 1:
            continue
        Gall[sb] = l2 * mbar
        for f1 in range(e):
            v = -0.5 * tbar[ptb + f1] * a - k * Gall[sb + (1 + f1) * dl]
            Gall[sb + (1 + f1) * dl] = v
            Gall[sb + 1 + f1] = v
            for f2 in range(e):
                Gall[sb + (1 + f1) * dl + 1 + f2] = Gall[pb + f1 * e + f2]
    LFbar[c0, c0] += lbar
    return s2bar
