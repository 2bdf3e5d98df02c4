"""Reading the table of arrays that the compiled log-density receives from nutpie: one int64 array
of addresses and lengths (:mod:`hierbayes.density.layout` packs it), viewed as numpy arrays
without copying.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic

from hierbayes.density.codes import JIT

# --- reading the table ------------------------------------------------------------------------


@intrinsic
def address_as_pointer(typingctx, address):
    """A ``void *`` from an integer address."""
    sig = types.voidptr(address)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return sig, codegen


@numba.njit(**JIT)
def farr(table, k):
    """Float64 array ``k`` of the table."""
    return numba.carray(address_as_pointer(table[1 + 2 * k]), (table[2 + 2 * k],), np.float64)


@numba.njit(**JIT)
def iarr(table, k):
    """Int64 array ``k`` of the table."""
    return numba.carray(address_as_pointer(table[1 + 2 * k]), (table[2 + 2 * k],), np.int64)


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def dot(a, off, b, n):
    """``Σ_i a[off + i] b[i]`` (reassociated, so it vectorises: on a slice of ``a``, as an
    offset index inside the loop keeps LLVM from vectorising the sum)."""
    col = a[off : off + n]
    s = 0.0
    for i in range(n):
        s += col[i] * b[i]
    return s
