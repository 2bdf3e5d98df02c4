"""The zero row of a zero-inflated count family, shared by its compiled parts.

A zero-inflated family mixes a structural zero (probability ``zi``) with a count law ``f``:
``P(0) = zi + (1 - zi) f(0)``, ``P(y) = (1 - zi) f(y)`` for ``y > 0``. For ``y = 0``, with
``r = (1 - zi) f(0) / P(0)`` (the probability that a zero is a count's) and ``gₖ`` the k-th
derivative of ``log f(0)`` in ``η``:

``dℓ/dη = r g₁``, ``d²ℓ/dη² = r g₂ + r(1-r) g₁²``,
``d³ℓ/dη³ = r g₃ + 3 r(1-r) g₁ g₂ + (1-2r) r(1-r) g₁³``.
"""

from __future__ import annotations

import math

import numba

from hierbayes.families._math import JIT

__all__ = ["zero_derivs", "zero_row"]


@numba.njit(**JIT)
def zero_row(log_zi, log1m_zi, log_f0):
    """``(log P(0), r)`` from ``log zi``, ``log(1 - zi)`` and ``log f(0)``, without overflow."""
    a = log_zi
    b = log1m_zi + log_f0
    top = max(a, b)
    ll = top + math.log(math.exp(a - top) + math.exp(b - top))
    return ll, math.exp(b - ll)


@numba.njit(**JIT)
def zero_derivs(r, g1, g2, g3):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)`` of ``log P(0)``."""
    v = r * (1.0 - r)
    return (
        r * g1,
        r * g2 + v * g1 * g1,
        r * g3 + 3.0 * v * g1 * g2 + (1.0 - 2.0 * r) * v * g1 * g1 * g1,
    )
