"""The Student-t family: ``y ~ StudentT(ν, η, σ)``, identity link, scale ``σ``, degrees of
freedom ``ν``.

brms's ``student()`` and bambi's ``t``: location ``μ = η``, scale ``σ`` (the SD is
``σ √(ν/(ν-2))`` where ``ν > 2``), both ``σ`` and ``ν`` sampled (on the log scale, as every own
parameter). ``σ`` gets gaussian's data-scaled default ``HalfStudentT(3, sd(y))``; ``ν`` gets
bambi's ``Gamma(2, 0.1)`` (mean 20, ``ν > 0``). brms uses the same Gamma truncated at ``ν ≥ 1``;
here ``ν`` below 1 (a tail heavier than Cauchy's) is allowed, which makes a difference only where
the data leave ``ν`` near 1.

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (σ, ν)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy import stats

from hierbayes.errors import SummaryError
from hierbayes.families._math import JIT, digamma
from hierbayes.families.base import Family, PriorSpec, need, round_scale, weighted_sd

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 5
_HALF_LOG_PI = 0.5 * math.log(math.pi)


@numba.njit(**JIT)
def prepare(theta):
    """``(σ, ν, c, dc/dν, 1/(νσ²), 1/σ)`` from ``θ = (σ, ν)``, with
    ``c = log Γ((ν+1)/2) - log Γ(ν/2) - log(ν)/2 - log σ``."""
    s = theta[0]
    nu = theta[1]
    c = math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu) - 0.5 * math.log(nu) - math.log(s)
    dc = 0.5 * (digamma(0.5 * (nu + 1.0)) - digamma(0.5 * nu)) - 0.5 / nu
    return s, nu, c, dc, 1.0 / (nu * s * s), 1.0 / s


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dσ, dℓ/dν)`` with ``ℓ = c - (ν+1)/2 log(1 + q)``,
    ``q = (y - η)²/(νσ²)``."""
    nu = aux[1]
    r = y - eta
    q = r * r * aux[4]
    lq = math.log1p(q)
    f = (nu + 1.0) / (1.0 + q)
    ll = aux[2] - 0.5 * (nu + 1.0) * lq
    d1 = f * r * aux[4]
    dsigma = (f * q - 1.0) * aux[5]
    dnu = aux[3] - 0.5 * lq + 0.5 * f * q / nu
    return ll, d1, dsigma, dnu


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``: with ``A = νσ² + r²``, ``(ν+1) r/A``,
    ``(ν+1)(r² - νσ²)/A²`` and ``2(ν+1) r (r² - 3νσ²)/A³``."""
    nu = aux[1]
    s = aux[0]
    v = nu * s * s
    r = y - eta
    r2 = r * r
    a = v + r2
    d1 = (nu + 1.0) * r / a
    d2 = (nu + 1.0) * (r2 - v) / (a * a)
    d3 = 2.0 * (nu + 1.0) * r * (r2 - 3.0 * v) / (a * a * a)
    return d1, d2, d3


@numba.njit(**JIT)
def scale_row(y, eta, n, aux, log_s):
    """:func:`row` with the row's own scale ``σ = exp(log_s)`` (a linear predictor of
    ``log σ``; ``aux`` prepared with ``σ = 1``): ``(ℓ, dℓ/dη, dℓ/d log σ, 0, dℓ/dν)``."""
    nu = aux[1]
    r = y - eta
    e = math.exp(-2.0 * log_s) * aux[4]  # 1/(νσ²)
    q = r * r * e
    lq = math.log1p(q)
    f = (nu + 1.0) / (1.0 + q)
    ll = aux[2] - log_s - 0.5 * (nu + 1.0) * lq
    return ll, f * r * e, f * q - 1.0, 0.0, aux[3] - 0.5 * lq + 0.5 * f * q / nu


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(π)/2`` on every row."""
    return np.full(np.shape(y), -_HALF_LOG_PI)


def _check(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    return None


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.StudentT(name, nu=params["nu"], mu=eta, sigma=params["sigma"], observed=y, dims=dims)


def _own(params: Mapping[str, Any]) -> tuple[Any, Any]:
    scale = need(params.get("sigma"), "the scale sigma", "student_t")
    nu = need(params.get("nu"), "the degrees of freedom nu", "student_t")
    return scale, nu


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    scale, nu = _own(params)
    scale, nu, eta = np.broadcast_arrays(scale, nu, eta)
    return eta + scale * rng.standard_t(nu)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    scale, nu = _own(params)
    return stats.t.logpdf(y, df=nu, loc=eta, scale=scale)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    sd = weighted_sd(y, weights)
    return {
        "sigma": ("HalfStudentT", {"nu": 3.0, "sigma": round_scale(sd)}, "residual scale"),
        "nu": (
            "Gamma",
            {"alpha": 2.0, "beta": 0.1},
            "degrees of freedom ν of the residuals (bambi's default; brms truncates it at 1)",
        ),
    }


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``σ² ν/(ν - 2)``, the residual variance, defined where ``ν > 2``."""
    nu = np.asarray(params["nu"], dtype=float)
    low = nu <= 2.0
    if low.any():
        raise SummaryError(
            f"The Student-t residual variance σ²ν/(ν-2) is infinite for ν ≤ 2, and "
            f"{int(low.sum())} of {nu.size} posterior draws have ν ≤ 2 (smallest "
            f"{float(nu.min()):.3g}), so the ICC on the latent scale is not defined. Report "
            "sd|<term>, sigma and nu instead (r2(), the Bayesian R² of the fitted values, "
            "needs no residual variance)."
        )
    sigma = np.asarray(params["sigma"], dtype=float)
    return (sigma**2 * nu / (nu - 2.0))[:, None] * np.ones_like(group_var)


FAMILY = Family(
    name="student_t",
    link="identity",
    code=CODE,
    params=("sigma", "nu"),
    needs_trials=False,
    inverse_link=lambda eta: eta,
    check=_check,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="StudentT",
    param_symbols=(("σ", r"\sigma"), ("ν", r"\nu")),
    mean_symbol=("μ", r"\mu"),
    title="Bayesian linear mixed model with Student-t residuals",
    link_response=lambda y: np.asarray(y, dtype=float),
    dpar="sigma",
)
