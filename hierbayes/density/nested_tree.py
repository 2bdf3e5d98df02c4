"""The shape of a chain of nested factors as the compiled kernel stores it: an int64 array
``[D, J_0..J_{D-1}, q_0..q_{D-1}, parents of level 1, ..., parents of level D-1]`` (see
:mod:`hierbayes.density.nested_marginal`), read into the levels' sizes and the offsets of their
scratch arrays.
"""

from __future__ import annotations

import numba
import numpy as np

from hierbayes.density.codes import (
    JIT,
)


@numba.njit(**JIT)
def tree_shape(tree):
    """Levels, groups and coefficients per level, ``d_l``, ``col_l``, where each level's parents
    start in ``tree``, and the offsets of each level's ``S`` (J d²), ``t`` (J d), ``M`` (J q²)
    and effects (J q) in flat scratch arrays; the last entry of each offset array is the size."""
    D = tree[0]
    J = tree[1 : 1 + D]
    q = tree[1 + D : 1 + 2 * D]
    d = np.zeros(D, np.int64)
    col = np.zeros(D, np.int64)
    acc = 0
    for lev in range(D):
        acc += q[lev]
        d[lev] = acc
    for lev in range(D):
        col[lev] = acc - d[lev]
    po = np.zeros(D, np.int64)
    off = 1 + 2 * D
    for lev in range(1, D):
        po[lev] = off
        off += J[lev]
    so = np.zeros(D + 1, np.int64)
    to = np.zeros(D + 1, np.int64)
    mo = np.zeros(D + 1, np.int64)
    uo = np.zeros(D + 1, np.int64)
    for lev in range(D):
        so[lev + 1] = so[lev] + J[lev] * d[lev] * d[lev]
        to[lev + 1] = to[lev] + J[lev] * d[lev]
        mo[lev + 1] = mo[lev] + J[lev] * q[lev] * q[lev]
        uo[lev + 1] = uo[lev] + J[lev] * q[lev]
    return D, J, q, d, col, po, so, to, mo, uo
