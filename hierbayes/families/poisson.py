"""The poisson family: ``y ~ Poisson(λ)``, ``log(λ) = η``.

Compiled parts as in :mod:`hierbayes.families.gaussian`; the family has no own parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import gammaln

from hierbayes.families._math import JIT
from hierbayes.families.base import Family, PriorSpec, check_counts

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 3


@numba.njit(**JIT)
def prepare(theta):
    """No own parameter: an empty tuple."""
    return ()


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, 0, 0)`` with ``ℓ = y η - e^η``."""
    mu = math.exp(eta)
    return y * eta - mu, y - mu, 0.0, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``: ``y - λ``, ``-λ``, ``-λ``."""
    mu = math.exp(eta)
    return y - mu, -mu, -mu


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(y!)``."""
    return -gammaln(np.asarray(y, dtype=float) + 1)


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.Poisson(name, mu=pm.math.exp(eta), observed=y.astype(np.int64), dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    return rng.poisson(np.exp(eta)).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    return y * eta - np.exp(eta) - gammaln(y + 1)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {}


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``log(1 + 1/λ)`` at ``λ = exp(fixed + Σ τ²/2)`` (Nakagawa, Johnson & Schielzeth 2017)."""
    return np.log1p(1.0 / np.exp(fixed() + group_var / 2))


FAMILY = Family(
    name="poisson",
    link="log",
    code=CODE,
    params=(),
    needs_trials=False,
    inverse_link=np.exp,
    check=check_counts,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="Poisson",
    discrete=True,
    mean_symbol=("λ", r"\lambda"),
)
