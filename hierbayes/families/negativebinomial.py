"""The negative binomial family (NB2): ``y ~ NegBinomial(μ, φ)``, ``log(μ) = η``.

brms's ``negbinomial()`` and bambi's ``negativebinomial``: mean ``μ``, variance ``μ + μ²/φ``,
with the shape ``φ`` (brms's ``shape``, PyMC's and bambi's ``alpha``) sampled. Its default prior
is brms's, ``Gamma(0.01, 0.01)``.

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (φ,)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import gammaln

from hierbayes.families._math import JIT, digamma
from hierbayes.families.base import Family, PriorSpec, check_counts, need

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 4


@numba.njit(**JIT)
def prepare(theta):
    """``(φ, log Γ(φ), ψ(φ), log φ)`` from ``θ = (φ,)``."""
    phi = theta[0]
    return phi, math.lgamma(phi), digamma(phi), math.log(phi)


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dφ, 0)`` with
    ``ℓ = log Γ(y + φ) - log Γ(φ) + φ log φ + y η - (y + φ) log(φ + μ)``."""
    phi = aux[0]
    mu = math.exp(eta)
    s = phi + mu
    log_s = math.log(s)
    ll = math.lgamma(y + phi) - aux[1] + phi * aux[3] + y * eta - (y + phi) * log_s
    d1 = y - (y + phi) * mu / s
    dphi = digamma(y + phi) - aux[2] + aux[3] + 1.0 - log_s - (y + phi) / s
    return ll, d1, dphi, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    phi = aux[0]
    mu = math.exp(eta)
    s = phi + mu
    d1 = y - (y + phi) * mu / s
    d2 = -(y + phi) * phi * mu / (s * s)
    d3 = -(y + phi) * phi * mu * (phi - mu) / (s * s * s)
    return d1, d2, d3


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(y!)``."""
    return -gammaln(np.asarray(y, dtype=float) + 1)


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    mu = pm.math.exp(eta)
    return pm.NegativeBinomial(
        name, mu=mu, alpha=params["shape"], observed=y.astype(np.int64), dims=dims
    )


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi = need(params.get("shape"), "the shape", "negativebinomial")
    mu = np.exp(eta)
    phi, mu = np.broadcast_arrays(phi, mu)
    return rng.negative_binomial(phi, phi / (phi + mu)).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi = need(params.get("shape"), "the shape", "negativebinomial")
    mu = np.exp(eta)
    return (
        gammaln(y + phi)
        - gammaln(phi)
        - gammaln(y + 1)
        + phi * np.log(phi)
        + y * eta
        - (y + phi) * np.log(phi + mu)
    )


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {
        "shape": (
            "Gamma",
            {"alpha": 0.01, "beta": 0.01},
            "shape φ of the negative binomial (variance μ + μ²/φ; brms's default)",
        )
    }


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``log(1 + 1/λ + 1/φ)`` at ``λ = exp(fixed + Σ τ²/2)`` (lognormal approximation of
    Nakagawa, Johnson & Schielzeth 2017)."""
    lam = np.exp(fixed() + group_var / 2)
    return np.log1p(1.0 / lam + 1.0 / np.asarray(params["shape"])[:, None])


FAMILY = Family(
    name="negativebinomial",
    link="log",
    code=CODE,
    params=("shape",),
    needs_trials=False,
    inverse_link=np.exp,
    check=check_counts,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="NegBinomial",
    mean_symbol=("λ", r"\lambda"),
    discrete=True,
    param_symbols=(("φ", r"\phi"),),
    dpar="shape",
)
