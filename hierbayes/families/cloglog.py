"""bernoulli and binomial with the cloglog link: ``p = 1 - exp(-exp(η))``.

One compiled row function serves both families (bernoulli is binomial with n = 1); the
link's stable pieces are in :mod:`hierbayes.families.links`, the Python side in
:mod:`hierbayes.families.binary`.
"""

from __future__ import annotations

import numba

from hierbayes.families import bernoulli, binomial
from hierbayes.families._math import JIT
from hierbayes.families.binary import variant
from hierbayes.families.links import binary_derivs, binary_row, cloglog_derivs, cloglog_log

__all__ = ["BERNOULLI", "BERNOULLI_CODE", "BINOMIAL", "BINOMIAL_CODE", "derivs", "prepare", "row"]

BERNOULLI_CODE = 12
BINOMIAL_CODE = 14


@numba.njit(**JIT)
def prepare(theta):
    """No own parameter: an empty tuple."""
    return ()


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, 0, 0)`` with ``ℓ = y log p + (n - y) log(1 - p)``."""
    a, a1, b, b1 = cloglog_log(eta)
    ll, d = binary_row(y, n, a, a1, b, b1)
    return ll, d, 0.0, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    a1, a2, a3, b1, b2, b3 = cloglog_derivs(eta)
    return binary_derivs(y, n, a1, a2, a3, b1, b2, b3)


BERNOULLI = variant(bernoulli.FAMILY, "cloglog", BERNOULLI_CODE)
BINOMIAL = variant(binomial.FAMILY, "cloglog", BINOMIAL_CODE)
