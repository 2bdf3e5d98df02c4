"""The binomial family: ``y ~ Binomial(n, p)``, ``logit(p) = η``, ``n`` the trials of each row.

Compiled parts as in :mod:`hierbayes.families.gaussian`; the family has no own parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import expit, gammaln, log_expit

from hierbayes.families._math import JIT, log1pexp_expit
from hierbayes.families.base import Family, PriorSpec, check_counts, need
from hierbayes.families.bernoulli import latent_logit

__all__ = ["CODE", "FAMILY", "derivs", "prepare", "row"]

CODE = 2


@numba.njit(**JIT)
def prepare(theta):
    """No own parameter: an empty tuple."""
    return ()


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, 0, 0)`` with ``ℓ = y η - n log(1 + e^η)``."""
    lse, p = log1pexp_expit(eta)
    return y * eta - n * lse, y - n * p, 0.0, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``: ``y - np``, ``-np(1-p)``, ``-np(1-p)(1-2p)``."""
    p = log1pexp_expit(eta)[1]
    v = n * p * (1.0 - p)
    return y - n * p, -v, -v * (1.0 - 2.0 * p)


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """The log binomial coefficient ``log C(n, y)``."""
    n = np.asarray(trials, dtype=float)
    return gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)


def _check(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    message = check_counts(y, trials)
    if message is not None:
        return message
    assert trials is not None
    if (trials < 0).any() or (np.round(trials) != trials).any():
        return "the number of trials must be a non-negative integer on every row"
    if (y > trials).any():
        i = int(np.argmax(y > trials))
        return f"successes exceed trials (row {i}: {y[i]:g} > {trials[i]:g})"
    return None


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    n = np.asarray(trials).astype(np.int64)
    return pm.Binomial(name, n=n, logit_p=eta, observed=y.astype(np.int64), dims=dims)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    n = np.broadcast_to(need(trials, "the number of trials", "binomial"), np.shape(eta))
    return rng.binomial(n.astype(np.int64), expit(eta)).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    n = need(trials, "the number of trials", "binomial")
    log_choose = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    return log_choose + y * log_expit(eta) + (n - y) * log_expit(-eta)


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {}


FAMILY = Family(
    name="binomial",
    link="logit",
    code=CODE,
    params=(),
    needs_trials=True,
    inverse_link=expit,
    check=_check,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=latent_logit,
    law="Binomial",
    discrete=True,
    mean_symbol=("p", "p"),
)
