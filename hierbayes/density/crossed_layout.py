"""Sufficient statistics of crossed factors integrated out jointly, packed for the kernel
(:mod:`hierbayes.density.crossed_marginal`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hierbayes.density import codes as K
from hierbayes.density.crossed_marginal import CROSSED
from hierbayes.design import Design

__all__ = ["crossed_statistics"]


def crossed_statistics(
    design: Design,
    crossed: Any,
    W: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray | None,
    has_intercept: bool,
    meta: np.ndarray,
    suff: dict[str, np.ndarray],
    covs: dict[str, int],
) -> np.ndarray:
    """Fill ``meta`` and ``suff`` for a :class:`~hierbayes.build.crossed_marginal.CrossedDesign`
    (``covs``: each term's covariance index) and return the int64 structure.

    ``suff["ztz"]`` holds the float statistics of the structure; ``ztw``/``zty`` the cross
    products of every column of ``Z`` with ``W`` and with ``y - shift``.
    """
    p = W.shape[1]
    meta[K.M_MARG_Q], meta[K.M_MARG_J], meta[K.M_SUFFSTAT] = 1, crossed.k, CROSSED
    y_off = y - offset if offset is not None else y
    shift = float(y_off.mean()) if has_intercept else 0.0
    yc = y_off - shift
    struct, stats = crossed.structure([covs[b.name] for b in crossed.blocks])
    suff["wtw"] = (W.T @ W).ravel()
    suff["wty"] = W.T @ yc
    suff["yty"] = np.array([yc @ yc, shift])
    suff["ztz"] = stats
    suff["ztw"] = np.ascontiguousarray(crossed.cross(W).reshape(crossed.k, p).T).ravel()
    suff["zty"] = crossed.cross(yc[:, None]).ravel()
    return struct
