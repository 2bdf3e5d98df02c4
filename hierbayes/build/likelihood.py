"""The observed response of the PyMC model: each family's own likelihood."""

from __future__ import annotations

from typing import Any

import pymc as pm

from hierbayes.design import Design

__all__ = ["WEIGHTS_POTENTIAL", "add_likelihood"]

WEIGHTS_POTENTIAL = "likelihood_weights"


def observed_value(rv: Any) -> Any:
    """The observed data of an observed variable of the current model."""
    return pm.modelcontext(None).rvs_to_values[rv]


def add_likelihood(
    name: str, eta: Any, design: Design, dims: str, params: dict[str, Any] | None = None
) -> Any:
    """Add the observed response of ``design.family`` with linear predictor ``eta``.

    The family's own parameters (``sigma``, ...) are the model's variables of the same names,
    or ``params`` (a residual SD per row, with ``sigma="~ ..."``).
    """
    model = pm.modelcontext(None)
    family = design.family
    params = params if params is not None else {p: model[p] for p in family.params}
    observed = family.likelihood(name, eta, design.y, design.trials, params, dims)
    if design.weights is not None:
        # likelihood weights: each row's log-likelihood counts w times (w - 1 more than the
        # observed variable's), as brms's weights(); the observed variable stays for PPC
        extra = (design.weights - 1.0) * pm.logp(observed, observed_value(observed))
        pm.Potential(WEIGHTS_POTENTIAL, extra.sum())
    return observed
