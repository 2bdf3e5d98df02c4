"""The arrays of the factors integrated out by Laplace (:mod:`hierbayes.density.laplace`, one
factor; :mod:`hierbayes.density.laplace_joint`, several factors' intercepts jointly), for
:func:`hierbayes.density.layout.make_layout`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hierbayes.density import codes as K
from hierbayes.design import Design, GroupBlock

__all__ = ["factor_pattern", "joint_blocks", "joint_structure", "laplace_factor"]


def laplace_factor(
    design: Design,
    names: list[str],
    order: np.ndarray,
    meta: np.ndarray,
    covs: Mapping[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The factor's group codes and columns (column by column; empty for a varying intercept)
    in the layout's row ``order``; its ``q`` and number of groups go into ``meta``. Terms of
    several factors (varying intercepts, ``covs``: each term's covariance index) give the
    structure of :func:`joint_structure` and no columns."""
    from hierbayes.build.marginal import factor_design

    blocks = [b for b in design.blocks if b.name in names]
    if len({b.factor for b in blocks}) > 1:
        assert covs is not None
        return joint_structure(blocks, order, meta, covs), np.zeros(0)
    factor = factor_design(design, names)
    meta[K.M_LAP_Q], meta[K.M_LAP_J] = factor.q, factor.n_groups
    codes = np.ascontiguousarray(factor.codes[order], dtype=np.int64)
    if factor.q == 1 and np.all(factor.Z == 1.0):
        return codes, np.zeros(0)
    return codes, np.ascontiguousarray(factor.Z[order].T, dtype=float).ravel()


def joint_blocks(blocks: list[GroupBlock]) -> list[GroupBlock]:
    """The varying intercepts integrated out jointly in the kernel's order: the factor with the
    most groups first ("A"), then the others by decreasing groups (ties in the model's order).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + (1 | item) + (1 | id)", hb.datasets.load("verbagg"),
    ...              family="bernoulli")
    >>> [b.name for b in joint_blocks(list(m.design.blocks))]
    ['id', 'item']
    """
    return sorted(blocks, key=lambda b: -len(b.levels))


def joint_structure(
    blocks: list[GroupBlock], order: np.ndarray, meta: np.ndarray, covs: Mapping[str, int]
) -> np.ndarray:
    """The int64 structure of :mod:`hierbayes.density.laplace_joint` for varying intercepts of
    several factors (rows in the layout's ``order``); ``meta`` gets ``q = 1``, the number of
    effects and of factors."""
    ordered = joint_blocks(blocks)
    n = len(order)
    JA = len(ordered[0].levels)
    cols = [np.asarray(ordered[0].codes, dtype=np.int64)[order]]
    colcov: list[np.ndarray] = []
    offset = 0
    for block in ordered[1:]:
        cols.append(np.asarray(block.codes, dtype=np.int64)[order] + offset)
        colcov.append(np.full(len(block.levels), covs[block.name], dtype=np.int64))
        offset += len(block.levels)
    m = offset
    keys = np.stack([cols[0] * m + c for c in cols[1:]])  # (F - 1, n)
    uniq = np.unique(keys)
    ptr = np.searchsorted(uniq // m, np.arange(JA + 1))
    pairs = np.searchsorted(uniq, keys)
    idx = uniq % m
    F = len(ordered)
    Lp, Li, Lc, Rp, Rk, Rpos = factor_pattern(ptr, idx, m)
    lkeys = Lc * m + Li  # the pattern's entries in storage order (column, then row)
    gpos = np.searchsorted(lkeys, _group_pairs(ptr, idx, m))
    # each row's pairs of B columns (f1 > f2 > 0, in that order), column-major keys
    rkeys = [
        np.minimum(cols[f1], cols[f2]) * m + np.maximum(cols[f1], cols[f2])
        for f1 in range(1, F)
        for f2 in range(1, f1)
    ]
    rpos = np.searchsorted(lkeys, np.concatenate([np.zeros(0, dtype=np.int64), *rkeys]))
    head = np.array(
        [F, JA, m, len(uniq), n, covs[ordered[0].name], len(Li), len(gpos)], dtype=np.int64
    )
    parts = [head, *colcov, ptr, idx, np.concatenate(cols), pairs.ravel()]
    pattern = [Lp, Li, Lc, Rp, Rk, Rpos, gpos, rpos]  # Schur complement (density.laplace_sparse)
    struct = np.concatenate([*parts, *pattern]).astype(np.int64)
    meta[K.M_LAP_Q], meta[K.M_LAP_J], meta[K.M_LAP_F] = 1, JA + m, F
    return np.ascontiguousarray(struct)


def _group_pairs(ptr: np.ndarray, idx: np.ndarray, m: int) -> np.ndarray:
    """``c m + r`` of each pair of B partners of each A group, the group's partners ``p1`` in
    order and ``p2 ≤ p1`` (``r = idx[p1] ≥ c = idx[p2]``): the order of the kernel's loops."""
    sizes = np.diff(ptr)
    out = np.empty(int(np.sum(sizes * (sizes + 1) // 2)), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes * (sizes + 1) // 2)])
    for c in np.unique(sizes[sizes > 0]):
        groups = np.flatnonzero(sizes == c)
        a, b = np.tril_indices(c)  # (0, 0), (1, 0), (1, 1), (2, 0), ...
        partners = idx[ptr[groups][:, None] + np.arange(c)]  # (groups, c)
        keys = partners[:, b] * m + partners[:, a]
        out[(starts[groups][:, None] + np.arange(len(a))).ravel()] = keys.ravel()
    return out


def factor_pattern(ptr: np.ndarray, idx: np.ndarray, m: int) -> tuple[np.ndarray, ...]:
    """The pattern of the Cholesky factor of the Schur complement on B's ``m`` columns, whose
    entries are the pairs of B partners of one A group (CSR ``ptr``, ``idx``), the fill of
    its elimination in the columns' order included.

    Returns the compressed columns ``Lp`` (m + 1), ``Li`` (each column's diagonal, then its rows
    below in increasing order), each entry's column ``Lc``, and each row's entries left of its
    diagonal (``Rp``, m + 1; their columns ``Rk`` and their positions in ``Li``, ``Rpos``), for
    :mod:`hierbayes.density.laplace_sparse`.

    Examples
    --------
    >>> import numpy as np
    >>> # three A groups with partners {0, 2}, {1, 2}, {2}: an arrow into column 2, no fill
    >>> Lp, Li, *_ = factor_pattern(np.array([0, 2, 4, 5]), np.array([0, 2, 1, 2, 2]), 3)
    >>> Lp.tolist(), Li.tolist()
    ([0, 2, 4, 5], [0, 2, 1, 2, 2])
    >>> # partners {0, 1}, {0, 2}: eliminating 0 fills (2, 1)
    >>> Lp, Li, *_ = factor_pattern(np.array([0, 2, 4]), np.array([0, 1, 0, 2]), 3)
    >>> Li.tolist()
    [0, 1, 2, 1, 2, 2]
    """
    below: list[set[int]] = [set() for _ in range(m)]
    sizes = np.diff(ptr)
    for c in np.unique(sizes[sizes > 1]):
        partners = idx[ptr[np.flatnonzero(sizes == c)][:, None] + np.arange(c)]
        a, b = np.tril_indices(c, -1)
        keys = np.unique(partners[:, b] * m + partners[:, a])
        for col, row in zip((keys // m).tolist(), (keys % m).tolist(), strict=True):
            below[col].add(row)
    for k in range(m):  # symbolic elimination: column k's rows fill its parent's column
        if below[k]:
            parent = min(below[k])
            below[parent] |= below[k] - {parent}
    columns = [np.array([k, *sorted(below[k])], dtype=np.int64) for k in range(m)]
    Lp = np.concatenate([[0], np.cumsum([len(c) for c in columns])]).astype(np.int64)
    Li = np.concatenate(columns) if m else np.zeros(0, dtype=np.int64)
    Lc = np.repeat(np.arange(m, dtype=np.int64), np.diff(Lp))
    off = np.ones(len(Li), dtype=bool)
    off[Lp[:-1]] = False
    rows, where = Li[off], np.flatnonzero(off)
    order = np.lexsort((Lc[off], rows))  # by row, then column
    Rp = np.searchsorted(rows[order], np.arange(m + 1)).astype(np.int64)
    return Lp, Li, Lc, Rp, Lc[off][order], where[order]
