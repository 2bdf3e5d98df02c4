"""Numerically stable scalar helpers shared by the families' compiled log-likelihoods."""

from __future__ import annotations

import math

import numba

__all__ = ["JIT", "digamma", "log1pexp_expit"]

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**JIT)
def log1pexp_expit(v: float) -> tuple[float, float]:
    """``(log(1 + exp(v)), 1 / (1 + exp(-v)))`` from one exponential, stable for any ``v``."""
    e = math.exp(-abs(v))
    if v >= 0.0:
        return v + math.log1p(e), 1.0 / (1.0 + e)
    return math.log1p(e), e / (1.0 + e)


@numba.njit(**JIT)
def digamma(x: float) -> float:
    """ψ(x) for ``x > 0``: recurrence up to 10, then the asymptotic series (relative error
    below 1e-13)."""
    acc = 0.0
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (
        -1.0 / 12.0
        + f * (1.0 / 120.0 + f * (-1.0 / 252.0 + f * (1.0 / 240.0 + f * (-1.0 / 132.0))))
    )
    return acc + math.log(x) - 0.5 / x + series
