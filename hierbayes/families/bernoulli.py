"""The bernoulli family: ``y ~ Bernoulli(p)``, ``logit(p) = η``; ``y`` is 0 or 1.

Compiled parts as in :mod:`hierbayes.families.gaussian`; the family has no own parameter.
:func:`grad_loop` is the unweighted row loop of the log-density's gradient: a vectorised
exponential per row and one ``log`` per block of rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import expit, log_expit

from hierbayes.families._fastexp import exp_nonpositive
from hierbayes.families._math import JIT, log1pexp_expit
from hierbayes.families.base import Family, PriorSpec

__all__ = ["CODE", "FAMILY", "derivs", "grad_loop", "prepare", "row"]

CODE = 1
LATENT_LOGIT = float(np.pi**2 / 3)
# rows whose ``1 + e^{-|η|}`` (each in (1, 2]) are multiplied before one log: at most 2^512
_BLOCK = 512
# the sums over rows: reassociated (vectorised), nothing else of fastmath (no exponential here)
_SUMS = {**JIT, "fastmath": {"reassoc"}}


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
def _derivative_pass(y, eta, e):
    """``e = e^{-|η|}`` and ``η ← y - p`` row by row (no branch, no library call: vectorised)."""
    for i in range(y.shape[0]):
        v = eta[i]
        ei = exp_nonpositive(-v if v >= 0.0 else v)
        e[i] = ei
        eta[i] = y[i] - (1.0 if v >= 0.0 else ei) / (1.0 + ei)


@numba.njit(**_SUMS)
def _log1p_sum(e, start, stop):
    """``Σ log(1 + e_i)`` over ``start:stop`` (at most ``_BLOCK`` rows): the log of their
    product, reassociated so that it vectorises (each partial product stays under ``2^512``);
    rows with ``e ≤ 1e-4`` add the series instead."""
    prod = 1.0
    tails = 0.0
    for i in range(start, stop):
        ei = e[i]
        big = ei > 1e-4
        prod *= (1.0 + ei) if big else 1.0
        tails += 0.0 if big else ei * (1.0 - ei * (0.5 - ei / 3.0))
    return math.log(prod) + tails


@numba.njit(**_SUMS)
def _linear_sum(y, eta):
    """``Σ (y_i η_i - max(η_i, 0))``, reassociated so that it vectorises."""
    lp = 0.0
    for i in range(y.shape[0]):
        v = eta[i]
        lp += y[i] * v - (v if v > 0.0 else 0.0)
    return lp


@numba.njit(**JIT)
def grad_loop(y, eta):
    """``Σ ℓ`` over the rows, as :func:`row` summed; ``η`` is overwritten with ``dℓ/dη``.

    ``ℓ = y η - max(η, 0) - log t`` with ``t = 1 + e^{-|η|}``. The exponentials and the
    derivatives are one vectorised pass (:func:`~hierbayes.families._fastexp.exp_nonpositive`);
    the ``t`` of up to ``_BLOCK`` rows are then multiplied and their log taken once (the
    product's rounding, under ``512 × 1.1e-16`` relative, moves the sum by under ``6e-14``).
    Rows with ``e^{-|η|} ≤ 1e-4`` add the series of ``log(1 + e)`` instead, as
    :func:`~hierbayes.families._math.log1pexp_expit`. A quarter of the cost of :func:`row`'s
    ``exp`` and ``log`` per row. The sums over rows are reassociated so that they vectorise:
    their order, not their terms, differs from :func:`row`'s.

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
    lp = _linear_sum(y, eta)
    e = np.empty(n)
    _derivative_pass(y, eta, e)
    for start in range(0, n, _BLOCK):
        lp -= _log1p_sum(e, start, min(start + _BLOCK, n))
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
