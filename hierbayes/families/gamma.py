"""The gamma family: ``y ~ Gamma(α, α/μ)``, ``log(μ) = η``, shape ``α``.

brms's ``Gamma(link = "log")`` and bambi's ``gamma`` with the log link: mean ``μ``, variance
``μ²/α``, with the shape ``α`` (brms's ``shape``, PyMC's and bambi's ``alpha``) sampled. Its
default prior is brms's, ``Gamma(0.01, 0.01)``, as for the negative binomial's shape.

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (α,)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import gammaln, polygamma

from hierbayes.families._math import JIT, digamma
from hierbayes.families.base import Family, PriorSpec, check_positive, need

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 6


@numba.njit(**JIT)
def prepare(theta):
    """``(α, log Γ(α), ψ(α), log α)`` from ``θ = (α,)``."""
    a = theta[0]
    return a, math.lgamma(a), digamma(a), math.log(a)


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dα, 0)`` with
    ``ℓ = α (log α + log y - η - y e^{-η}) - log Γ(α)`` (``-log y`` is the constant)."""
    a = aux[0]
    ye = y * math.exp(-eta)
    k = aux[3] + math.log(y) - eta - ye
    return a * k - aux[1], a * (ye - 1.0), k + 1.0 - aux[2], 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³) = (α(y/μ - 1), -α y/μ, α y/μ)``."""
    a = aux[0]
    ye = y * math.exp(-eta)
    return a * (ye - 1.0), -a * ye, a * ye


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log y``."""
    return -np.log(np.asarray(y, dtype=float))


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    alpha = params["shape"]
    return pm.Gamma(name, alpha=alpha, beta=alpha * pm.math.exp(-eta), observed=y, dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    alpha = need(params.get("shape"), "the shape", "gamma")
    alpha, mu = np.broadcast_arrays(alpha, np.exp(eta))
    # a shape that rounded to 0 or whose scale mu / alpha overflows (brms's default prior
    # Gamma(0.01, 0.01) draws shapes below 1e-300): the draw's limit, mu G / alpha -> 0
    alpha = np.maximum(np.asarray(alpha, dtype=float), np.finfo(float).tiny)
    with np.errstate(over="ignore"):
        scale = mu / alpha
    draws = rng.standard_gamma(alpha)
    # np.where computes both branches: 0 x inf in the first, inf in the second, both discarded
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(np.isfinite(scale), draws * scale, mu * (draws / alpha))


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    alpha = need(params.get("shape"), "the shape", "gamma")
    return (
        alpha * (np.log(alpha) - eta)
        - gammaln(alpha)
        + (alpha - 1.0) * np.log(y)
        - alpha * y * np.exp(-eta)
    )


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {
        "shape": (
            "Gamma",
            {"alpha": 0.01, "beta": 0.01},
            "shape α of the gamma (variance μ²/α; brms's default)",
        )
    }


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``ψ₁(α)``, the trigamma function of the shape: the variance of ``log y`` given ``μ``
    (the trigamma approximation of Nakagawa, Johnson & Schielzeth 2017)."""
    alpha = np.asarray(params["shape"], dtype=float)
    return polygamma(1, alpha)[:, None] * np.ones_like(group_var)


FAMILY = Family(
    name="gamma",
    link="log",
    code=CODE,
    params=("shape",),
    needs_trials=False,
    inverse_link=np.exp,
    check=check_positive,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="Gamma",
    param_symbols=(("α", r"\alpha"),),
    mean_symbol=("μ", r"\mu"),
    dpar="shape",
)
