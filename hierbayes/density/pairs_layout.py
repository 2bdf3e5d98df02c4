"""Which group effects the kernel samples as rotated pairs (:mod:`hierbayes.density.pairs`), and
the draws turned back.

A pair is a group of an expanded varying intercept that holds a single group of another expanded
varying intercept nested in it, e.g. a location with one brood (when both are expanded, as auto
makes them where such groups are the majority: :func:`hierbayes.build.expanded.prefer_expanded`).
Each effect is in at most one pair, upper factors first; none when a factor is integrated out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from hierbayes.density.codes import M_PAIRS
from hierbayes.design import Design

__all__ = ["free_coordinates", "nested_pairs", "unrotate"]


def _candidates(design: Design, parameterization: Mapping[str, tuple[str, ...]], blocks):
    if any(how[0] in ("marginal", "laplace", "agq") for how in parameterization.values() if how):
        return []
    out = []
    for bl in blocks:
        block = bl.block
        if (
            bl.choice == ("expanded",)
            and bl.effects is not None
            and len(block.columns) == 1
            and np.all(block.Z[:, 0] == 1.0)
        ):
            out.append(bl)
    return out


def nested_pairs(
    design: Design, parameterization: Mapping[str, tuple[str, ...]], blocks: Sequence
) -> np.ndarray:
    """Rows ``(sd of upper, sd of lower, upper expanded, lower expanded, a, c)`` (int64,
    flattened) of the pairs of :mod:`hierbayes.density.pairs` among ``blocks`` (the layout's
    :class:`~hierbayes.density.layout.BlockLayout` values)."""
    cands = sorted(_candidates(design, parameterization, blocks), key=lambda b: len(b.block.levels))
    used: set[int] = set()
    rows: list[list[int]] = []
    for lower in cands:
        jb = len(lower.block.levels)
        parents = []
        for upper in cands:
            ja = len(upper.block.levels)
            if ja >= jb:
                continue
            pairs = np.unique(np.stack([lower.block.codes, upper.block.codes]), axis=1)
            if pairs.shape[1] == jb:  # every lower group inside one upper group
                parents.append((ja, upper, pairs))
        if not parents:
            continue
        _, upper, pairs = max(parents, key=lambda t: t[0])  # the level just above
        ja = len(upper.block.levels)
        children = np.bincount(pairs[1], minlength=ja)
        for b, j in zip(pairs[0], pairs[1], strict=True):
            ia, ic = upper.effects.start + int(j), lower.effects.start + int(b)
            if children[j] != 1 or ia in used or ic in used:
                continue
            used.update((ia, ic))
            rows.append([upper.sd.start, lower.sd.start, 1, 1, ia, ic])
    return np.array(rows, dtype=np.int64).ravel()


def unrotate(arrays: Sequence[np.ndarray], X: np.ndarray) -> np.ndarray:
    """Draws ``X`` (S, n_dim) with each pair's ``(a, c)`` turned into ``(z_j, z_b)``, as
    :func:`hierbayes.density.pairs.rotate_forward` does for one point (``arrays``: the
    layout's table arrays)."""
    at = int(arrays[0][M_PAIRS])
    if at == 0:
        return X
    pairs = arrays[at]
    X = np.array(X, dtype=float, copy=True)
    rows = pairs.reshape(-1, 6)
    for su, sl, eu, el, ia, ic in rows:
        l = X[:, su] if eu else np.exp(X[:, su])  # noqa: E741
        m = X[:, sl] if el else np.exp(X[:, sl])
        tau = np.hypot(l, m)
        safe = np.where(tau > 0, tau, 1.0)
        p, q = np.where(tau > 0, l / safe, 1.0), np.where(tau > 0, m / safe, 0.0)
        a, c = X[:, ia].copy(), X[:, ic].copy()
        X[:, ia] = p * a - q * c
        X[:, ic] = q * a + p * c
    return X


def free_coordinates(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Positions in ``x`` of the pairs' ``c``, the rotated coordinate the data do not inform
    (``arrays``: the layout's table arrays)."""
    at = int(arrays[0][M_PAIRS])
    if at == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(arrays[at]).reshape(-1, 6)[:, 5]
