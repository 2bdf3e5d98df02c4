"""The zero-inflated negative binomial family: ``y ~ ZINegBinomial(λ, φ, zi)``, ``log(λ) = η``.

brms's ``zero_inflated_negbinomial()`` and bambi's ``zero_inflated_negativebinomial``: with
probability ``zi`` a structural zero, otherwise an NB2 count of mean ``λ`` and shape ``φ``
(variance ``λ + λ²/φ``, as :mod:`hierbayes.families.negativebinomial`); the response's mean is
``(1 - zi) λ``. Default priors are brms's: ``φ ~ Gamma(0.01, 0.01)``, ``zi ~ Beta(1, 1)`` (``zi``
sampled on the logit scale; PyMC's ``psi`` is ``1 - zi``, its ``alpha`` the shape).

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (φ, zi)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import gammaln

from hierbayes.families import negativebinomial as nb
from hierbayes.families._math import JIT, digamma
from hierbayes.families._zero_inflation import zero_derivs, zero_row
from hierbayes.families.base import Family, PriorSpec, check_counts, need
from hierbayes.families.zero_inflated_poisson import ZI_PRIOR

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 10
_NAME = "zero_inflated_negativebinomial"


@numba.njit(**JIT)
def prepare(theta):
    """``(φ, log Γ(φ), ψ(φ), log φ, zi, log zi, log(1 - zi))`` from ``θ = (φ, zi)``."""
    phi, zi = theta[0], theta[1]
    return phi, math.lgamma(phi), digamma(phi), math.log(phi), zi, math.log(zi), math.log1p(-zi)


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dφ, dℓ/dzi)`` with ``ℓ = log(zi + (1 - zi) (φ/(φ+λ))^φ)`` for
    ``y = 0`` and ``ℓ = log(1 - zi) + ℓ_NB`` otherwise (``ℓ_NB`` as the negative binomial's)."""
    phi = aux[0]
    if y != 0.0:
        ll, d1, dphi, _ = nb.row(y, eta, n, (aux[0], aux[1], aux[2], aux[3]))
        return aux[6] + ll, d1, dphi, -1.0 / (1.0 - aux[4])
    mu = math.exp(eta)
    s = phi + mu
    log_s = math.log(s)
    log_f0 = phi * (aux[3] - log_s)
    ll, r = zero_row(aux[5], aux[6], log_f0)
    return ll, -r * phi * mu / s, r * (aux[3] - log_s + mu / s), -math.expm1(log_f0) * math.exp(-ll)


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    phi = aux[0]
    if y != 0.0:
        return nb.derivs(y, eta, n, (aux[0], aux[1], aux[2], aux[3]))
    mu = math.exp(eta)
    s = phi + mu
    log_f0 = phi * (aux[3] - math.log(s))
    _, r = zero_row(aux[5], aux[6], log_f0)
    g1 = -phi * mu / s
    g2 = -phi * phi * mu / (s * s)
    g3 = -phi * phi * mu * (phi - mu) / (s * s * s)
    return zero_derivs(r, g1, g2, g3)


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(y!)``."""
    return -gammaln(np.asarray(y, dtype=float) + 1)


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.ZeroInflatedNegativeBinomial(
        name,
        psi=1.0 - params["zi"],
        mu=pm.math.exp(eta),
        alpha=params["shape"],
        observed=y.astype(np.int64),
        dims=dims,
    )


def _own(params: Mapping[str, Any]) -> tuple[Any, Any]:
    return (
        need(params.get("shape"), "the shape", _NAME),
        need(params.get("zi"), "the zero-inflation zi", _NAME),
    )


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi, zi = _own(params)
    phi, zi, mu = np.broadcast_arrays(phi, zi, np.exp(eta))
    counts = nb.sample_counts(phi, mu, rng)
    return np.where(rng.random(mu.shape) < zi, 0, counts).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi, zi = _own(params)
    count = np.log1p(-zi) + nb.FAMILY.log_density(y, eta, {"shape": phi}, None)
    log_f0 = phi * (np.log(phi) - np.log(phi + np.exp(eta)))
    return np.where(y == 0, np.logaddexp(np.log(zi), np.log1p(-zi) + log_f0), count)


def _mean(eta: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """``(1 - zi) exp(η)``."""
    return (1.0 - _own(params)[1]) * np.exp(eta)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {**nb.FAMILY.default_priors(y, trials, weights), "zi": ZI_PRIOR}


FAMILY = Family(
    name=_NAME,
    link="log",
    code=CODE,
    params=("shape", "zi"),
    needs_trials=False,
    inverse_link=np.exp,
    check=check_counts,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=None,
    law="ZINegBinomial",
    param_symbols=(("φ", r"\phi"), ("zi", r"\mathit{zi}")),
    mean_symbol=("λ", r"\lambda"),
    discrete=True,
    transforms=("log", "logit"),
    mean=_mean,
)
