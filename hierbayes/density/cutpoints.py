"""The cut-points of an ordinal model in the packed layout: their prior rows, their starting
point and their values from draws of the unconstrained vector (the compiled side is
:mod:`hierbayes.density.ordered`).

The sampled cut-points ``c^c`` are those of the centred fixed design (``η_c = (X - mean(X)) β``),
as brms's ``Intercept[k]``; the cut-points of the model as written (``η = X β``) are
``c = c^c + mean(X) @ β``, since ``c^c_k - η_c = c_k - η`` on every row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hierbayes.design import Design
from hierbayes.design.ordinal import start_cutpoints
from hierbayes.priors import Prior

__all__ = ["cutpoint_rows", "ordered_values"]


def ordered_values(x: np.ndarray) -> np.ndarray:
    """``c_1 = x_1``, ``c_k = c_{k-1} + exp(x_k)`` along the last axis.

    Examples
    --------
    >>> ordered_values(np.array([[-1.0, 0.0, np.log(2.0)]])).tolist()
    [[-1.0, 0.0, 2.0]]
    """
    x = np.asarray(x, dtype=float)
    steps = np.concatenate([x[..., :1], np.exp(x[..., 1:])], axis=-1)
    return np.cumsum(steps, axis=-1)


def cutpoint_rows(
    design: Design, priors: dict[str, Prior], prior_rows: Callable[..., np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The cut-points' prior rows (``K - 1`` x 4, from the layout's ``prior_rows``) and their
    unconstrained starting point (the logits, or probits, of the response's cumulative
    proportions)."""
    assert design.response_levels is not None
    size = len(design.response_levels) - 1
    rows = prior_rows("cutpoints", priors["cutpoints"], size, positive=False)
    c = start_cutpoints(design.y, size + 1, design.weights, design.family.link)
    return rows, np.concatenate([c[:1], np.log(np.diff(c))])
