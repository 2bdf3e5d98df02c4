"""The bernoulli family: ``y ~ Bernoulli(p)``, ``logit(p) = η``; ``y`` is 0 or 1.

Compiled parts as in :mod:`hierbayes.families.gaussian`; the family has no own parameter.
:func:`grad_loop` is the unweighted row loop of the log-density's gradient: it takes one
``log`` per block of rows instead of one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import math

import numba
import numpy as np
from scipy.special import expit, log_expit

from hierbayes.families._math import JIT, log1pexp_expit
from hierbayes.families.base import Family, PriorSpec

__all__ = ["CODE", "FAMILY", "derivs", "grad_loop", "prepare", "row"]

CODE = 1
LATENT_LOGIT = float(np.pi**2 / 3)
# rows whose ``1 + e^{-|η|}`` (each in (1, 2]) are multiplied before one log: at most 2^512
_BLOCK = 512


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
def grad_loop(y, eta):
    """``Σ ℓ`` over the rows, as :func:`row` summed; ``η`` is overwritten with ``dℓ/dη``.

    ``ℓ = y η - max(η, 0) - log t`` with ``t = 1 + e^{-|η|}``: the ``t`` of up to ``_BLOCK``
    rows are multiplied and their log taken once (the product's rounding, under ``512 × 1.1e-16``
    relative, moves the sum by under ``6e-14``), which leaves one ``exp`` and one division per row
    (half the cost of :func:`row`'s ``exp`` and ``log``). Rows with ``e^{-|η|} ≤ 1e-4`` add the
    series of ``log(1 + e)`` instead, as :func:`~hierbayes.families._math.log1pexp_expit`.

    Examples
    --------
    >>> y, eta = np.array([0.0, 1.0, 1.0]), np.array([-0.5, 2.0, -40.0])
    >>> d1 = eta.copy()
    >>> lp = grad_loop(y, d1)
    >>> bool(np.isclose(lp, np.sum(y * eta - np.logaddexp(0.0, eta))))
    True
    >>> bool(np.allclose(d1, y - 1 / (1 + np.exp(-eta))))
    True
    """
    n = y.shape[0]
    lp = 0.0
    start = 0
    while start < n:
        stop = min(start + _BLOCK, n)
        product = 1.0
        tails = 0.0
        for i in range(start, stop):
            v = eta[i]
            e = math.exp(-abs(v))
            t = 1.0 + e
            if e > 1e-4:
                product *= t
            else:
                tails += e * (1.0 - e * (0.5 - e / 3.0))
            if v >= 0.0:
                lp += y[i] * v - v
                eta[i] = y[i] - 1.0 / t
            else:
                lp += y[i] * v
                eta[i] = y[i] - e / t
        lp -= math.log(product) + tails
        start = stop
    return lp


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
