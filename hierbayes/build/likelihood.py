"""The observed response of the PyMC model: each family's own likelihood."""

from __future__ import annotations

from typing import Any

import pymc as pm

from hierbayes.design import Design

__all__ = ["add_likelihood"]


def add_likelihood(name: str, eta: Any, design: Design, dims: str) -> Any:
    """Add the observed response of ``design.family`` with linear predictor ``eta``.

    The family's own parameters (``sigma``, ...) are the model's variables of the same names.
    """
    model = pm.modelcontext(None)
    family = design.family
    params = {p: model[p] for p in family.params}
    return family.likelihood(name, eta, design.y, design.trials, params, dims)
