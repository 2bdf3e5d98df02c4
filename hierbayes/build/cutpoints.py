"""The ordered cut-points of an ordinal (cumulative) model in the PyMC model.

``cutpoints_c`` (dims ``cutpoint``, PyMC's ``ordered`` transform) are the cut-points at the
predictors' means, the ones sampled (brms's ``Intercept[k]``), with the prior ``cutpoints`` on
each; ``cutpoints = cutpoints_c + mean(X) @ beta`` are those of the model as written, which the
likelihood uses with the uncentred linear predictor (``c^c_k - (X - mean(X)) β = c_k - X β``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from hierbayes.build.priors import prior_rv
from hierbayes.design import Design
from hierbayes.design.weights import column_means
from hierbayes.priors import Prior

__all__ = ["CUTPOINT_DIM", "add_cutpoints"]

CUTPOINT_DIM = "cutpoint"


def add_cutpoints(design: Design, priors: dict[str, Prior]) -> tuple[Any, Any]:
    """Add ``cutpoints_c`` and ``cutpoints`` to the current model; return ``cutpoints`` and the
    shift ``mean(X) @ beta`` to add to the centred linear predictor."""
    model = pm.modelcontext(None)
    assert design.response_levels is not None
    centred = prior_rv(
        "cutpoints_c",
        priors["cutpoints"],
        label="cutpoints",
        dims=CUTPOINT_DIM,
        transform=pm.distributions.transforms.ordered,
    )
    shift: Any = 0.0
    if design.X.shape[1]:
        means = column_means(design.X, design.weights)
        shift = pt.dot(np.asarray(means, dtype=float), model["beta"])
    cutpoints = pm.Deterministic("cutpoints", centred + shift, dims=CUTPOINT_DIM)
    return cutpoints, shift
