"""Numerically stable scalar helpers shared by the families' compiled log-likelihoods."""

from __future__ import annotations

import math

import numba

__all__ = ["JIT", "log1pexp_expit"]

JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**JIT)
def log1pexp_expit(v: float) -> tuple[float, float]:
    """``(log(1 + exp(v)), 1 / (1 + exp(-v)))`` from one exponential, stable for any ``v``."""
    e = math.exp(-abs(v))
    if v >= 0.0:
        return v + math.log1p(e), 1.0 / (1.0 + e)
    return math.log1p(e), e / (1.0 + e)
