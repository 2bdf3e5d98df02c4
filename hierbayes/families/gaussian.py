"""The gaussian family: ``y ~ Normal(η, σ)``, identity link, residual SD ``σ``.

Compiled parts (read by :mod:`hierbayes.families.dispatch`): :func:`prepare` turns the own
parameters ``θ = (σ,)`` into the constants a row needs; :func:`row` gives one row's
log-likelihood (without :func:`constant`), its derivative in ``η`` and in ``σ``;
:func:`derivs` the first three derivatives in ``η``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np

from hierbayes.families._math import JIT
from hierbayes.families.base import Family, PriorSpec, need, round_scale, weighted_sd

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 0
_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(**JIT)
def prepare(theta):
    """``(σ, 1/σ², log σ, 1/σ)`` from ``θ = (σ,)``."""
    s = theta[0]
    return s, 1.0 / (s * s), math.log(s), 1.0 / s


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dσ, 0)`` with ``ℓ = -log σ - (y - η)²/(2σ²)``."""
    r = y - eta
    q = r * r * aux[1]
    return -aux[2] - 0.5 * q, r * aux[1], (q - 1.0) * aux[3], 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    return (y - eta) * aux[1], -aux[1], 0.0


@numba.njit(**JIT)
def scale_row(y, eta, n, aux, log_s):
    """:func:`row` with the row's own ``σ = exp(log_s)`` (a linear predictor of ``log σ``):
    ``(ℓ, dℓ/dη, dℓ/d log σ, 0, 0)``; ``aux`` unused."""
    r = y - eta
    e = math.exp(-2.0 * log_s)
    q = r * r * e
    return -log_s - 0.5 * q, r * e, q - 1.0, 0.0, 0.0


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(2π)/2`` on every row."""
    return np.full(np.shape(y), -0.5 * _LOG_2PI)


def _check(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    return None


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.Normal(name, mu=eta, sigma=params["sigma"], observed=y, dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    scale = need(params.get("sigma"), "the residual SD", "gaussian")
    return eta + scale * rng.standard_normal(np.shape(eta))


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    scale = need(params.get("sigma"), "the residual SD", "gaussian")
    return -0.5 * ((y - eta) / scale) ** 2 - np.log(scale) - 0.5 * _LOG_2PI


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    sd = weighted_sd(y, weights)
    return {"sigma": ("HalfStudentT", {"nu": 3.0, "sigma": round_scale(sd)}, "residual SD")}


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    return (np.asarray(params["sigma"]) ** 2)[:, None] * np.ones_like(group_var)


FAMILY = Family(
    name="gaussian",
    link="identity",
    code=CODE,
    params=("sigma",),
    needs_trials=False,
    inverse_link=lambda eta: eta,
    check=_check,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="Normal",
    mean_symbol=("μ", r"\mu"),
    title="Bayesian linear mixed model",
    dpar="sigma",
)
