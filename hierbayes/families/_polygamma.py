"""ψ₁ and ψ₂ (trigamma, tetragamma) for the compiled derivatives of the beta family."""

from __future__ import annotations

import numba

from hierbayes.families._math import JIT

__all__ = ["tetragamma", "trigamma"]


@numba.njit(**JIT)
def trigamma(x: float) -> float:
    """ψ₁(x) for ``x > 0``: recurrence up to 16, then the asymptotic series (relative error
    below 1e-13)."""
    acc = 0.0
    while x < 16.0:
        acc += 1.0 / (x * x)
        x += 1.0
    f = 1.0 / (x * x)
    tail = 1.0 / 6.0 + f * (-1.0 / 30.0 + f * (1.0 / 42.0 + f * (-1.0 / 30.0 + f * 5.0 / 66.0)))
    return acc + 1.0 / x + 0.5 * f + f / x * tail


@numba.njit(**JIT)
def tetragamma(x: float) -> float:
    """ψ₂(x) for ``x > 0``: recurrence up to 16, then the asymptotic series (relative error
    below 1e-13)."""
    acc = 0.0
    while x < 16.0:
        acc -= 2.0 / (x * x * x)
        x += 1.0
    f = 1.0 / (x * x)
    tail = 0.5 + f * (-1.0 / 6.0 + f * (1.0 / 6.0 + f * (-3.0 / 10.0 + f * 5.0 / 6.0)))
    return acc - f - f / x - f * f * tail
