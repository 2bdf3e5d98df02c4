"""The arrays of the factors integrated out by Laplace (:mod:`hierbayes.density.laplace`, one
factor; :mod:`hierbayes.density.laplace_joint`, several factors' intercepts jointly), for
:func:`hierbayes.density.layout.make_layout`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hierbayes.density import codes as K
from hierbayes.design import Design, GroupBlock

__all__ = ["joint_blocks", "joint_structure", "laplace_factor"]


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
    F = len(ordered)
    head = np.array([F, JA, m, len(uniq), n, covs[ordered[0].name]], dtype=np.int64)
    struct = np.concatenate(
        [head, *colcov, ptr, uniq % m, np.concatenate(cols), pairs.ravel()]
    ).astype(np.int64)
    meta[K.M_LAP_Q], meta[K.M_LAP_J], meta[K.M_LAP_F] = 1, JA + m, F
    return np.ascontiguousarray(struct)
