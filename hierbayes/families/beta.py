"""The beta family: ``y ~ Beta(μ φ, (1 - μ) φ)``, ``logit(μ) = η``, for proportions in (0, 1).

brms's ``Beta()`` and bambi's ``beta``: mean ``μ``, variance ``μ (1 - μ) / (1 + φ)``, with the
precision ``φ`` (brms's ``phi``, bambi's ``kappa``) sampled. Its default prior is brms's,
``Gamma(0.01, 0.01)``. The response must lie strictly between 0 and 1; exact zeros and ones are
an error that suggests Smithson & Verkuilen's (2006) squeeze ``(y (n - 1) + 0.5) / n``.

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (φ,)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import expit, gammaln

from hierbayes.families._math import JIT, digamma
from hierbayes.families._polygamma import tetragamma, trigamma
from hierbayes.families.base import Family, PriorSpec, need

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 8


@numba.njit(**JIT)
def prepare(theta):
    """``(φ, log Γ(φ), ψ(φ))`` from ``θ = (φ,)``."""
    phi = theta[0]
    return phi, math.lgamma(phi), digamma(phi)


@numba.njit(**JIT)
def _mean(eta):
    """``(μ, 1 - μ)`` without cancellation."""
    e = math.exp(-abs(eta))
    if eta >= 0.0:
        return 1.0 / (1.0 + e), e / (1.0 + e)
    return e / (1.0 + e), 1.0 / (1.0 + e)


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dφ, 0)`` with
    ``ℓ = log Γ(φ) - log Γ(μφ) - log Γ((1-μ)φ) + μφ log y + (1-μ)φ log(1-y)``."""
    phi = aux[0]
    mu, nu = _mean(eta)
    a, b = mu * phi, nu * phi
    ly, l1y = math.log(y), math.log1p(-y)
    ll = aux[1] - math.lgamma(a) - math.lgamma(b) + a * ly + b * l1y
    pa, pb = digamma(a), digamma(b)
    d1 = phi * mu * nu * ((ly - l1y) - (pa - pb))
    dphi = aux[2] - mu * pa - nu * pb + mu * ly + nu * l1y
    return ll, d1, dphi, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``: with ``m = μ(1-μ)``, ``r = logit(y) - ψ(μφ) + ψ((1-μ)φ)``
    and ``T = ψ₁(μφ) + ψ₁((1-μ)φ)``, ``dℓ/dη = φ m r``."""
    phi = aux[0]
    mu, nu = _mean(eta)
    a, b = mu * phi, nu * phi
    m = mu * nu
    s = nu - mu  # 1 - 2μ
    r = math.log(y) - math.log1p(-y) - digamma(a) + digamma(b)
    t = trigamma(a) + trigamma(b)
    t2 = tetragamma(a) - tetragamma(b)
    d1 = phi * m * r
    d2 = phi * m * s * r - phi * phi * m * m * t
    d3 = (
        phi * (m * s * s - 2.0 * m * m) * r
        - phi * phi * m * m * s * t
        - phi * phi * (2.0 * m * m * s * t + phi * m * m * m * t2)
    )
    return d1, d2, d3


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log y - log(1 - y)``."""
    y = np.asarray(y, dtype=float)
    return -np.log(y) - np.log1p(-y)


def check(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    """Why ``y`` is not a vector of proportions strictly between 0 and 1 (``None`` when it is)."""
    bad = ~((y > 0) & (y < 1))
    if not bad.any():
        return None
    values = np.unique(y[bad])[:5].tolist()
    message = f"values must lie strictly between 0 and 1; found {bad.sum()} outside, e.g. {values}"
    if np.all((y >= 0) & (y <= 1)):
        message += (
            " (exact 0s and 1s: squeeze them into (0, 1) first, e.g. (y * (n - 1) + 0.5) / n "
            "with n the number of rows, Smithson & Verkuilen 2006)"
        )
    return message


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    phi = params["phi"]
    # 1 - μ as invlogit(-η): no cancellation where μ is near 1
    alpha, beta = pm.math.invlogit(eta) * phi, pm.math.invlogit(-eta) * phi
    return pm.Beta(name, alpha=alpha, beta=beta, observed=y, dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi = need(params.get("phi"), "the precision phi", "beta")
    phi, eta = np.broadcast_arrays(phi, eta)
    # brms's default prior Gamma(0.01, 0.01) draws precisions that round to 0 (or make a
    # shape parameter underflow). Beta(μφ, (1 - μ)φ) tends to Bernoulli(μ) as φ -> 0; numpy's
    # beta with both shapes clamped to the smallest float would draw 0 or 1 half each instead,
    # so rows with a shape below it are drawn as that limit
    tiny = np.finfo(float).tiny
    mu = expit(eta)
    a, b = mu * phi, expit(-eta) * phi
    y = rng.beta(np.maximum(a, tiny), np.maximum(b, tiny))
    limit = (a < tiny) | (b < tiny)
    if limit.any():  # a second draw only where needed: the stream is unchanged otherwise
        y = np.where(limit, (rng.random(np.shape(y)) < mu).astype(float), y)
    # a draw within 1e-16 of 0 or 1 rounds to it, which the family refuses: keep it inside
    return np.clip(y, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi = need(params.get("phi"), "the precision phi", "beta")
    a, b = expit(eta) * phi, expit(-eta) * phi
    return gammaln(phi) - gammaln(a) - gammaln(b) + (a - 1) * np.log(y) + (b - 1) * np.log1p(-y)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {
        "phi": (
            "Gamma",
            {"alpha": 0.01, "beta": 0.01},
            "precision φ of the beta (variance μ(1 - μ)/(1 + φ); brms's default)",
        )
    }


FAMILY = Family(
    name="beta",
    link="logit",
    code=CODE,
    params=("phi",),
    needs_trials=False,
    inverse_link=expit,
    check=check,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=None,
    law="Beta",
    param_symbols=(("φ", r"\phi"),),
    mean_symbol=("μ", r"\mu"),
    dpar="phi",
)
