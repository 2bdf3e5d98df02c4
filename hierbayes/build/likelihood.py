"""Likelihoods of the response families, keyed by family name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pymc as pm

from hierbayes.design import Design

__all__ = ["LIKELIHOODS", "add_likelihood"]


def _gaussian(name: str, eta: Any, design: Design, dims: str) -> Any:
    sigma = pm.modelcontext(None)["sigma"]
    return pm.Normal(name, mu=eta, sigma=sigma, observed=design.y, dims=dims)


def _bernoulli(name: str, eta: Any, design: Design, dims: str) -> Any:
    return pm.Bernoulli(name, logit_p=eta, observed=design.y.astype(np.int64), dims=dims)


def _binomial(name: str, eta: Any, design: Design, dims: str) -> Any:
    assert design.trials is not None
    return pm.Binomial(
        name,
        n=design.trials.astype(np.int64),
        logit_p=eta,
        observed=design.y.astype(np.int64),
        dims=dims,
    )


def _poisson(name: str, eta: Any, design: Design, dims: str) -> Any:
    return pm.Poisson(name, mu=pm.math.exp(eta), observed=design.y.astype(np.int64), dims=dims)


LIKELIHOODS: dict[str, Callable[[str, Any, Design, str], Any]] = {
    "gaussian": _gaussian,
    "bernoulli": _bernoulli,
    "binomial": _binomial,
    "poisson": _poisson,
}


def add_likelihood(name: str, eta: Any, design: Design, dims: str) -> Any:
    """Add the observed response of ``design.family`` with linear predictor ``eta``."""
    return LIKELIHOODS[design.family.name](name, eta, design, dims)
