"""The bernoulli family: ``y ~ Bernoulli(p)``, ``logit(p) = η``; ``y`` is 0 or 1.

Compiled parts as in :mod:`hierbayes.families.gaussian`; the family has no own parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import expit, log_expit

from hierbayes.families._math import JIT, log1pexp_expit
from hierbayes.families.base import Family, PriorSpec

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 1
LATENT_LOGIT = float(np.pi**2 / 3)


@numba.njit(**JIT)
def prepare(theta):
    """No own parameter: an empty tuple."""
    return ()


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, 0, 0)`` with ``ℓ = y η - log(1 + e^η)``."""
    lse, p = log1pexp_expit(eta)
    return y * eta - lse, y - p, 0.0, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``: ``y - p``, ``-p(1-p)``, ``-p(1-p)(1-2p)``."""
    p = log1pexp_expit(eta)[1]
    v = p * (1.0 - p)
    return y - p, -v, -v * (1.0 - 2.0 * p)


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """0 on every row."""
    return np.zeros(np.shape(y))


def _check(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    if not np.isin(y, (0.0, 1.0)).all():
        bad = np.unique(y[~np.isin(y, (0.0, 1.0))])[:5]
        return f"a bernoulli response must be 0 or 1 (or True/False); found {bad.tolist()}"
    return None


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.Bernoulli(name, logit_p=eta, observed=y.astype(np.int64), dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    return rng.binomial(1, expit(eta)).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    return y * log_expit(eta) + (1 - y) * log_expit(-eta)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {}


def latent_logit(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """The logistic distribution's variance π²/3 (the latent residual of a logit link)."""
    return np.full_like(group_var, LATENT_LOGIT)


FAMILY = Family(
    name="bernoulli",
    link="logit",
    code=CODE,
    params=(),
    needs_trials=False,
    inverse_link=expit,
    check=_check,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=latent_logit,
    law="Bernoulli",
    discrete=True,
    mean_symbol=("p", "p"),
)
