"""Draws from, and log densities of, each family's response given its linear predictor."""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, log_expit

from hierbayes.errors import DataError
from hierbayes.families import Family

__all__ = ["log_density", "sample_response"]


def _need(value: np.ndarray | None, what: str, family: Family) -> np.ndarray:
    if value is None:
        raise DataError(f"The {family.name} family needs {what} to simulate or score responses.")
    return value


def sample_response(
    family: Family,
    eta: np.ndarray,
    *,
    rng: np.random.Generator,
    sigma: np.ndarray | None = None,
    trials: np.ndarray | None = None,
) -> np.ndarray:
    """Draw responses given the linear predictor ``eta`` (arrays broadcast against ``eta``).

    gaussian: ``Normal(eta, sigma)``; bernoulli: ``Bernoulli(expit(eta))``; binomial:
    ``Binomial(trials, expit(eta))``; poisson: ``Poisson(exp(eta))``. Counts come back as
    integers.

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> rng = np.random.default_rng(1)
    >>> y = sample_response(get_family("poisson"), np.full(100_000, np.log(3.0)), rng=rng)
    >>> round(float(y.mean()), 1), y.dtype.kind
    (3.0, 'i')
    """
    if family.name == "gaussian":
        scale = _need(sigma, "the residual SD", family)
        return eta + scale * rng.standard_normal(eta.shape)
    if family.name == "bernoulli":
        return rng.binomial(1, family.inverse_link(eta)).astype(np.int64)
    if family.name == "binomial":
        n = np.broadcast_to(_need(trials, "the number of trials", family), eta.shape)
        return rng.binomial(n.astype(np.int64), family.inverse_link(eta)).astype(np.int64)
    if family.name == "poisson":
        return rng.poisson(family.inverse_link(eta)).astype(np.int64)
    raise DataError(f"Cannot simulate responses of the {family.name} family.")


def log_density(
    family: Family,
    y: np.ndarray,
    eta: np.ndarray,
    *,
    sigma: np.ndarray | None = None,
    trials: np.ndarray | None = None,
) -> np.ndarray:
    """Log density (or mass) of ``y`` given the linear predictor ``eta``, elementwise.

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> float(np.exp(log_density(get_family("bernoulli"), np.array(1.0), np.array(0.0))))
    0.5
    """
    if family.name == "gaussian":
        scale = _need(sigma, "the residual SD", family)
        return -0.5 * ((y - eta) / scale) ** 2 - np.log(scale) - 0.5 * np.log(2 * np.pi)
    if family.name == "bernoulli":
        return y * log_expit(eta) + (1 - y) * log_expit(-eta)
    if family.name == "binomial":
        n = _need(trials, "the number of trials", family)
        log_choose = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
        return log_choose + y * log_expit(eta) + (n - y) * log_expit(-eta)
    if family.name == "poisson":
        return y * eta - np.exp(eta) - gammaln(y + 1)
    raise DataError(f"Cannot score responses of the {family.name} family.")
