"""Rotated coordinates for the effects of a group and its one nested group, for the compiled
kernel (:mod:`hierbayes.density.pairs_layout` finds the pairs).

When a group ``j`` of an upper factor holds a single group ``b`` of a factor nested in it (a
location with one brood), the data inform only the sum ``u_j + u_b = l z_j + m z_b`` of their
effects (``l``, ``m``: the two terms' scales ``L_kk``, signed for expanded terms). The posterior
of ``(z_j, z_b)`` is then a ridge whose direction turns with the ratio of the two SDs, which the
sampler's diagonal mass matrix cannot follow. The kernel samples instead the rotated pair

    a = (l z_j + m z_b) / τ,    c = (-m z_j + l z_b) / τ,    τ = sqrt(l² + m²),

so ``u_j + u_b = τ a`` and ``c`` is free of the data. The rotation is orthonormal for every
``(l, m)``: ``(a, c)`` has the same standard normal prior and the map has Jacobian 1, so the
model is unchanged. :func:`rotate_forward` turns ``x`` (with ``a``, ``c``) into the ``x`` of the
kernel's other modules (with ``z_j``, ``z_b``); :func:`rotate_backward` takes the gradient back.

A row of ``pairs`` (6 int64): position of the upper term's SD coordinate in ``x``, of the lower
term's, whether each is expanded (``s``; else ``log sd``), and the positions of ``a`` and ``c``.
"""

from __future__ import annotations

import math

import numba

from hierbayes.density.codes import JIT

__all__ = ["rotate_backward", "rotate_forward"]

PAIR_WIDTH = 6


@numba.njit(**JIT)
def _scale(x, pos, expanded):
    return x[pos] if expanded == 1 else math.exp(x[pos])


@numba.njit(**JIT)
def rotate_forward(x, pairs, out):
    """``out``: ``x`` with each pair's ``(a, c)`` turned into ``(z_j, z_b)``."""
    for i in range(x.shape[0]):
        out[i] = x[i]
    for r in range(pairs.shape[0] // PAIR_WIDTH):
        row = r * PAIR_WIDTH
        l = _scale(x, pairs[row], pairs[row + 2])  # noqa: E741
        m = _scale(x, pairs[row + 1], pairs[row + 3])
        tau = math.sqrt(l * l + m * m)
        if tau == 0.0:
            continue
        p, q = l / tau, m / tau
        a, c = x[pairs[row + 4]], x[pairs[row + 5]]
        out[pairs[row + 4]] = p * a - q * c
        out[pairs[row + 5]] = q * a + p * c


@numba.njit(**JIT)
def rotate_backward(x, rotated, pairs, grad):
    """Turn ``grad`` (in the coordinates of ``rotated``) into the gradient in ``x``, in place."""
    for r in range(pairs.shape[0] // PAIR_WIDTH):
        row = r * PAIR_WIDTH
        l = _scale(x, pairs[row], pairs[row + 2])  # noqa: E741
        m = _scale(x, pairs[row + 1], pairs[row + 3])
        tau2 = l * l + m * m
        if tau2 == 0.0:
            continue
        tau = math.sqrt(tau2)
        p, q = l / tau, m / tau
        ia, ic = pairs[row + 4], pairs[row + 5]
        g_j, g_b = grad[ia], grad[ic]
        # d z_j / d l = m z_b / τ², d z_b / d l = -m z_j / τ²; d/dm: -l z_b / τ², l z_j / τ²
        w = (g_j * rotated[ic] - g_b * rotated[ia]) / tau2
        grad[ia] = p * g_j + q * g_b
        grad[ic] = -q * g_j + p * g_b
        grad[pairs[row]] += m * w * (1.0 if pairs[row + 2] == 1 else l)
        grad[pairs[row + 1]] -= l * w * (1.0 if pairs[row + 3] == 1 else m)
