"""The fixed part of the linear predictor on the distinct rows ("cells") of its few-valued columns.

Most fixed columns of a multilevel model take few values: the intercept, the dummies of factors,
group-level indicators. Over a set ``S`` of such columns the rows take ``K`` distinct value
vectors (the cells); ``Σ_{c∈S} W_ic θ_c`` is then the value of row ``i``'s cell, computed once per
cell, and the gradient's ``Σ_i W_ic η̄_i`` is ``Σ_k W_kc (Σ_{i in cell k} η̄_i)``. Per row that is
one gather (forward) and one scatter-add (backward) in place of ``|S|`` multiply-adds each way;
:func:`choose_cells` takes the cells only where that is cheaper. The other columns keep the
kernel's column loops (:func:`hierbayes.density.kernel._linear_predictor`).

On mlmRev's guImmun (2,159 children; 15 of its 16 columns are the intercept and 0/1 dummies, in
568 cells) the fixed part forward and backward fell from about 5.5 µs to 2.5 µs a gradient
(``benchmarks/gradient_split.py``). The sums run in another order than the column loops', so
values agree with them to rounding (tests/density/test_fixed_cells.py), not to the last bit.

The table holds three arrays from ``meta[M_CELLS]`` on: ``[K, m, the m columns]`` (int64), each
row's cell (int64, ``n``) and the cells' values of those columns, column by column (``m x K``).
"""

from __future__ import annotations

import numba
import numpy as np

from hierbayes.density.codes import (
    A_META,
    B_HC,
    JIT,
    M_CELLS,
    M_NBLOCKS,
    M_NOBS,
    N_GLOBAL,
    P_HC_COLS,
    P_META,
    PER_BLOCK,
)
from hierbayes.density.table import dot, farr, iarr

__all__ = ["cells_backward", "cells_forward", "choose_cells", "pack_cells"]

# a row's gather and scatter-add cost about as much as this many multiply-adds of the column
# loops (both vectorised): measured on guImmun's rows, 1.07 µs per 2,159-row gather against
# 0.17 µs per 2,159-row column (forward plus backward, per column: 2 x 0.085)
GATHER_COST = 6.0


def choose_cells(W: np.ndarray, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns of ``W`` (``n x p``) to sum by cell, each row's cell, and the cells' values.

    Columns are taken in order of their number of distinct values (``skip``: columns left to
    other code); of each prefix, the one that saves most, ``m (n - K) - GATHER_COST n``
    multiply-adds, when it saves any. Empty arrays: none (then the column loops do it all).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W = np.column_stack([np.ones(2000), rng.integers(0, 2, (2000, 6)), rng.normal(size=2000)])
    >>> cols, codes, values = choose_cells(W, np.zeros(8, dtype=bool))
    >>> cols.tolist(), values.shape[1] <= 2**6, bool(np.allclose(values.T[codes], W[:, cols]))
    ([0, 1, 2, 3, 4, 5, 6], True, True)
    >>> choose_cells(W[:, [0, 7]], np.zeros(2, dtype=bool))[0].size     # one dummy-free column
    0
    """
    n, p = W.shape
    none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 0)))
    candidates = [c for c in range(p) if not skip[c]]
    distinct = {c: np.unique(W[:, c], return_inverse=True) for c in candidates}
    candidates = [
        c for c in sorted(candidates, key=lambda c: distinct[c][0].size) if distinct[c][0].size < n
    ]
    # the cells of each prefix from the last one's and the next column's values (rows that
    # hold NaN, which the per-column and whole-row uniques count differently: row by row)
    exact = bool(np.isnan(W[:, candidates]).any())
    cell = np.zeros(n, dtype=np.int64)
    best, best_saving = 0, 0.0
    for m in range(1, len(candidates) + 1):
        if exact:
            K = np.unique(W[:, candidates[:m]], axis=0).shape[0]
        else:
            values, codes = distinct[candidates[m - 1]]
            pairs, cell = np.unique(cell * values.size + codes.ravel(), return_inverse=True)
            K = pairs.size
        saving = m * (n - K) - GATHER_COST * n
        if saving > best_saving:
            best, best_saving = m, saving
        if K > n // 2:  # more columns only add cells
            break
    if best == 0:
        return none
    cols = np.sort(np.asarray(candidates[:best], dtype=np.int64))
    rows, codes = np.unique(W[:, cols], axis=0, return_inverse=True)
    return cols, codes.ravel().astype(np.int64), np.ascontiguousarray(rows.T)


def pack_cells(arrays: list[np.ndarray], W: np.ndarray) -> None:
    """Append the cells of the rows of ``W`` (``n x p``, in the table's row order) to ``arrays``
    (the table's arrays so far: the global ones, then the blocks') and point ``meta[M_CELLS]``
    at them, unless :func:`choose_cells` finds none worth it. Columns that hierarchically centred
    effects hold are left out (the row loops skip them)."""
    meta = arrays[A_META]
    skip = np.zeros(W.shape[1], dtype=bool)
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        hc = arrays[base + P_META][B_HC]
        skip[arrays[base + P_HC_COLS][:hc]] = True
    cols, codes, values = choose_cells(W, skip)
    if cols.size == 0:
        return
    meta[M_CELLS] = len(arrays)
    arrays.append(np.concatenate([[values.shape[1], cols.size], cols]).astype(np.int64))
    arrays.append(codes)
    arrays.append(values.ravel())


@numba.njit(**JIT)
def cells_forward(x, table, meta, eta, done):
    """``η_i += Σ_{c∈S} W_ic θ_c`` by cell; marks the columns of ``S`` in ``done``."""
    head = iarr(table, meta[M_CELLS])
    codes = iarr(table, meta[M_CELLS] + 1)
    values = farr(table, meta[M_CELLS] + 2)
    K, m = head[0], head[1]
    vals = np.zeros(K)
    for j in range(m):
        c = head[2 + j]
        done[c] = True
        tc = x[c]
        off = j * K
        for k in range(K):
            vals[k] += values[off + k] * tc
    for i in range(meta[M_NOBS]):
        eta[i] += vals[codes[i]]


@numba.njit(**JIT)
def cells_backward(table, meta, etabar, grad, done):
    """``grad[c] += Σ_i W_ic η̄_i`` for the columns of ``S``, by cell; marks them in ``done``."""
    head = iarr(table, meta[M_CELLS])
    codes = iarr(table, meta[M_CELLS] + 1)
    values = farr(table, meta[M_CELLS] + 2)
    K, m = head[0], head[1]
    acc = np.zeros(K)
    for i in range(meta[M_NOBS]):
        acc[codes[i]] += etabar[i]
    for j in range(m):
        c = head[2 + j]
        done[c] = True
        grad[c] += dot(values, j * K, acc, K)
