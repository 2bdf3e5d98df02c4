"""Draws from, and log densities of, each family's response given its linear predictor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hierbayes.families import Family

__all__ = ["log_density", "sample_response"]


def _params(sigma: Any, params: Mapping[str, Any] | None) -> dict[str, Any]:
    out = dict(params or {})
    if sigma is not None:
        out["sigma"] = sigma
    return out


def sample_response(
    family: Family,
    eta: np.ndarray,
    *,
    rng: np.random.Generator,
    sigma: np.ndarray | None = None,
    trials: np.ndarray | None = None,
    params: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Draw responses given the linear predictor ``eta`` (arrays broadcast against ``eta``).

    The family's own simulator: gaussian ``Normal(eta, sigma)``, bernoulli
    ``Bernoulli(p(eta))``, binomial ``Binomial(trials, p(eta))`` (``p`` the link's inverse), poisson
    ``Poisson(exp(eta))``, ... ``params`` holds the family's own parameters by name
    (``sigma=`` is a shorthand for ``params={"sigma": ...}``). Counts come back as integers.

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> rng = np.random.default_rng(1)
    >>> y = sample_response(get_family("poisson"), np.full(100_000, np.log(3.0)), rng=rng)
    >>> round(float(y.mean()), 1), y.dtype.kind
    (3.0, 'i')
    """
    return family.sample(eta, rng, _params(sigma, params), trials)


def log_density(
    family: Family,
    y: np.ndarray,
    eta: np.ndarray,
    *,
    sigma: np.ndarray | None = None,
    trials: np.ndarray | None = None,
    params: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Log density (or mass) of ``y`` given the linear predictor ``eta``, elementwise.

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> float(np.exp(log_density(get_family("bernoulli"), np.array(1.0), np.array(0.0))))
    0.5
    """
    return family.log_density(y, eta, _params(sigma, params), trials)
