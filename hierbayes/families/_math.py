"""Numerically stable scalar helpers shared by the families' compiled log-likelihoods."""

from __future__ import annotations

import math

import numba

__all__ = ["JIT", "digamma", "log1pexp_expit"]

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**JIT)
def log1pexp_expit(v: float) -> tuple[float, float]:
    """``(log(1 + exp(v)), 1 / (1 + exp(-v)))`` from one exponential, stable for any ``v``.

    ``log(1 + e)`` with ``e = exp(-|v|)`` is taken as ``log`` of the rounded ``1 + e`` (off by
    at most 1.2e-16, a relative 1.2e-12 for ``e > 1e-4``) and below that as its series (relative
    error under 3e-13): ``log`` costs half of ``log1p``, which was half of a bernoulli
    log-density's gradient.
    """
    e = math.exp(-abs(v))
    t = 1.0 + e
    tail = math.log(t) if e > 1e-4 else e * (1.0 - e * (0.5 - e / 3.0))
    if v >= 0.0:
        return v + tail, 1.0 / t
    return tail, e / t


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
