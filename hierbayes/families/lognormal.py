"""The lognormal family: ``log(y) ~ Normal(η, σ)``, identity link on the log scale.

brms's ``lognormal()`` and bambi's ``lognormal``: ``η`` is the mean of ``log y`` (``meanlog``,
so ``exp(η)`` is the median of ``y``), ``σ`` its SD (``sdlog``), sampled. The expected response
is ``exp(η + σ²/2)``, which the family's ``mean`` gives to every layer that reports means.
The default priors are gaussian's on ``log y``: the population-level and group-level terms are
centred and scaled by the mean and SD of ``log y``, and ``σ`` gets ``HalfStudentT(3, sd(log y))``.

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (σ,)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np

from hierbayes.families._math import JIT
from hierbayes.families.base import (
    Family,
    PriorSpec,
    check_positive,
    need,
    round_scale,
    weighted_sd,
)

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 7
_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(**JIT)
def prepare(theta):
    """``(σ, 1/σ², log σ, 1/σ)`` from ``θ = (σ,)``."""
    s = theta[0]
    return s, 1.0 / (s * s), math.log(s), 1.0 / s


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dσ, 0)`` with ``ℓ = -log σ - (log y - η)²/(2σ²)``."""
    r = math.log(y) - eta
    q = r * r * aux[1]
    return -aux[2] - 0.5 * q, r * aux[1], (q - 1.0) * aux[3], 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    return (math.log(y) - eta) * aux[1], -aux[1], 0.0


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log y - log(2π)/2``."""
    return -np.log(np.asarray(y, dtype=float)) - 0.5 * _LOG_2PI


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.LogNormal(name, mu=eta, sigma=params["sigma"], observed=y, dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    scale = need(params.get("sigma"), "the SD of log y (sigma)", "lognormal")
    return np.exp(eta + scale * rng.standard_normal(np.shape(eta)))


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    scale = need(params.get("sigma"), "the SD of log y (sigma)", "lognormal")
    log_y = np.log(y)
    return -0.5 * ((log_y - eta) / scale) ** 2 - np.log(scale) - log_y - 0.5 * _LOG_2PI


def _mean(eta: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    scale = need(params.get("sigma"), "the SD of log y (sigma)", "lognormal")
    return np.exp(eta + np.square(scale) / 2.0)


def _log_response(y: np.ndarray) -> np.ndarray:
    return np.log(np.asarray(y, dtype=float))


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    sd = weighted_sd(_log_response(y), weights)
    return {"sigma": ("HalfStudentT", {"nu": 3.0, "sigma": round_scale(sd)}, "SD of log y")}


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``σ²``, the residual variance on the log scale."""
    return (np.asarray(params["sigma"]) ** 2)[:, None] * np.ones_like(group_var)


FAMILY = Family(
    name="lognormal",
    link="identity",
    code=CODE,
    params=("sigma",),
    needs_trials=False,
    inverse_link=lambda eta: eta,
    check=check_positive,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="LogNormal",
    param_symbols=(("σ", r"\sigma"),),
    mean_symbol=("μ", r"\mu"),
    title="Bayesian linear mixed model of log y",
    mean=_mean,
    link_response=_log_response,
    dpar="sigma",
)
