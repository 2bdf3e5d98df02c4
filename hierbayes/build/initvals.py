"""Starting values the PyMC samplers need beyond the priors' support points.

An ordered vector (the cut-points of an ordinal model, PyMC's ``ordered`` transform) whose prior
has one support point for every element would start with all elements equal, which the transform
maps to ``-inf``; such vectors start evenly spaced on [-2, 2] instead (each chain then jitters).
The compiled kernel has its own starting points (:mod:`hierbayes.density.cutpoints`).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
from pymc.distributions.transforms import Ordered

__all__ = ["ordered_starts"]


def ordered_starts(model: pm.Model) -> dict[str, np.ndarray]:
    """Starting values by variable name for the model's ordered vectors (empty: none).

    Examples
    --------
    >>> with pm.Model() as m:
    ...     c = pm.Normal("c", shape=3, transform=pm.distributions.transforms.ordered)
    >>> ordered_starts(m)["c"].tolist()
    [-2.0, 0.0, 2.0]
    """
    shapes = None
    out: dict[str, np.ndarray] = {}
    for rv in model.free_RVs:
        if isinstance(model.rvs_to_transforms.get(rv), Ordered):
            shapes = shapes or model.eval_rv_shapes()
            shape = tuple(shapes[rv.name])
            size = shape[-1] if shape else 1
            out[rv.name] = np.broadcast_to(np.linspace(-2.0, 2.0, size), shape).copy()
    return out
