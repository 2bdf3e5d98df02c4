"""The zero-inflated poisson family: ``y ~ ZIPoisson(λ, zi)``, ``log(λ) = η``.

brms's ``zero_inflated_poisson()`` and bambi's ``zero_inflated_poisson``: with probability ``zi``
a structural zero, otherwise a Poisson count of mean ``λ``; the response's mean is
``(1 - zi) λ``. ``zi`` is sampled on the logit scale with brms's default prior ``Beta(1, 1)``
(PyMC's ``psi`` is ``1 - zi``).

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (zi,)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import gammaln

from hierbayes.families._math import JIT
from hierbayes.families._zero_inflation import zero_derivs, zero_row
from hierbayes.families.base import Family, PriorSpec, check_counts, need

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 9

ZI_PRIOR: PriorSpec = (
    "Beta",
    {"alpha": 1.0, "beta": 1.0},
    "zero-inflation probability zi (a structural zero; brms's default)",
)


@numba.njit(**JIT)
def prepare(theta):
    """``(zi, log zi, log(1 - zi))`` from ``θ = (zi,)``."""
    zi = theta[0]
    return zi, math.log(zi), math.log1p(-zi)


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dzi, 0)`` with ``ℓ = log(zi + (1 - zi) e^{-λ})`` for ``y = 0`` and
    ``ℓ = log(1 - zi) + y η - λ`` otherwise."""
    mu = math.exp(eta)
    if y == 0.0:
        ll, r = zero_row(aux[1], aux[2], -mu)
        return ll, -mu * r, -math.expm1(-mu) * math.exp(-ll), 0.0
    return aux[2] + y * eta - mu, y - mu, -1.0 / (1.0 - aux[0]), 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    mu = math.exp(eta)
    if y == 0.0:
        _, r = zero_row(aux[1], aux[2], -mu)
        return zero_derivs(r, -mu, -mu, -mu)
    return y - mu, -mu, -mu


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(y!)``."""
    return -gammaln(np.asarray(y, dtype=float) + 1)


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.ZeroInflatedPoisson(
        name, psi=1.0 - params["zi"], mu=pm.math.exp(eta), observed=y.astype(np.int64), dims=dims
    )


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    zi = need(params.get("zi"), "the zero-inflation zi", "zero_inflated_poisson")
    zi, mu = np.broadcast_arrays(zi, np.exp(eta))
    counts = rng.poisson(mu)
    return np.where(rng.random(mu.shape) < zi, 0, counts).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    zi = need(params.get("zi"), "the zero-inflation zi", "zero_inflated_poisson")
    mu = np.exp(eta)
    count = np.log1p(-zi) + y * eta - mu - gammaln(y + 1)
    return np.where(y == 0, np.logaddexp(np.log(zi), np.log1p(-zi) - mu), count)


def _mean(eta: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """``(1 - zi) exp(η)``."""
    zi = need(params.get("zi"), "the zero-inflation zi", "zero_inflated_poisson")
    return (1.0 - zi) * np.exp(eta)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {"zi": ZI_PRIOR}


FAMILY = Family(
    name="zero_inflated_poisson",
    link="log",
    code=CODE,
    params=("zi",),
    needs_trials=False,
    inverse_link=np.exp,
    check=check_counts,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=None,
    law="ZIPoisson",
    param_symbols=(("zi", r"\mathit{zi}"),),
    mean_symbol=("λ", r"\lambda"),
    discrete=True,
    transforms=("logit",),
    mean=_mean,
)
