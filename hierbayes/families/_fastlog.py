"""``log(1 + e)`` for ``0 ≤ e ≤ 1`` in plain arithmetic, so that LLVM vectorises the loops that
call it (the companion of :mod:`hierbayes.families._fastexp`).

numba compiles ``math.log1p`` to a call of the C library, one row at a time; a loop that calls
it is never vectorised. :func:`log1p_unit` is ``2 atanh(z)`` with ``z = e / (2 + e)`` (so
``0 ≤ z ≤ 1/3``), its odd series to ``z^33``: the first term left out is under
``z × 9^-17 / 35 < 2e-18`` relative, so the result is within two rounding units of
``math.log1p`` for ``e`` down to ``e^-700`` (a subnormal ``e`` may give 0;
tests/families/test_fastlog.py). One division and 17 multiply-adds: about 1 ns a value in a
vectorised loop.

Functions calling it should not be compiled with numba's ``fastmath`` when they also call
:func:`~hierbayes.families._fastexp.exp_nonpositive`.
"""

from __future__ import annotations

import numba

__all__ = ["log1p_unit"]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def log1p_unit(e: float) -> float:
    """``log(1 + e)`` for ``0 ≤ e ≤ 1`` (a softplus's tail ``log(1 + e^{-|v|})``).

    Examples
    --------
    >>> import math
    >>> abs(log1p_unit(0.3) / math.log1p(0.3) - 1) < 1e-15
    True
    >>> log1p_unit(0.0)
    0.0
    """
    z = e / (2.0 + e)
    z2 = z * z
    p = 1.0 / 33.0
    p = 1.0 / 31.0 + z2 * p
    p = 1.0 / 29.0 + z2 * p
    p = 1.0 / 27.0 + z2 * p
    p = 1.0 / 25.0 + z2 * p
    p = 1.0 / 23.0 + z2 * p
    p = 1.0 / 21.0 + z2 * p
    p = 1.0 / 19.0 + z2 * p
    p = 1.0 / 17.0 + z2 * p
    p = 1.0 / 15.0 + z2 * p
    p = 1.0 / 13.0 + z2 * p
    p = 1.0 / 11.0 + z2 * p
    p = 1.0 / 9.0 + z2 * p
    p = 1.0 / 7.0 + z2 * p
    p = 1.0 / 5.0 + z2 * p
    p = 1.0 / 3.0 + z2 * p
    p = 1.0 + z2 * p
    return 2.0 * z * p
