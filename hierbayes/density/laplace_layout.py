"""The arrays of a factor integrated out by Laplace (:mod:`hierbayes.density.laplace`), for
:func:`hierbayes.density.layout.make_layout`."""

from __future__ import annotations

import numpy as np

from hierbayes.density import codes as K
from hierbayes.design import Design

__all__ = ["laplace_factor"]


def laplace_factor(
    design: Design, names: list[str], order: np.ndarray, meta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The factor's group codes and columns (column by column; empty for a varying intercept)
    in the layout's row ``order``; its ``q`` and number of groups go into ``meta``."""
    from hierbayes.build.marginal import factor_design

    factor = factor_design(design, names)
    meta[K.M_LAP_Q], meta[K.M_LAP_J] = factor.q, factor.n_groups
    codes = np.ascontiguousarray(factor.codes[order], dtype=np.int64)
    if factor.q == 1 and np.all(factor.Z == 1.0):
        return codes, np.zeros(0)
    return codes, np.ascontiguousarray(factor.Z[order].T, dtype=float).ravel()
