"""The cumulative (ordinal logit) family: ``P(y ≤ k) = logistic(c_k - η)``, ``k = 1..K-1``.

brms's ``cumulative("logit")``, ordinal's ``clmm`` and bambi's ``cumulative``: the response takes
one of ``K ≥ 3`` ordered categories (coded ``1..K`` in the design, labels kept in
``Design.response_levels``); the ``K - 1`` ordered cut-points ``c_1 < ... < c_{K-1}`` (brms's
``Intercept[k]``, ordinal's thresholds ``1|2``, ``2|3``, ...) take the place of the population
intercept, which the linear predictor ``η`` does not have. Each cut-point's default prior is
brms's, ``StudentT(3, 0, 2.5)``, on the cut-points at the predictors' means (brms's
``Intercept[k]`` of its centred design, as hierbayes's ``Intercept_c``).

Compiled parts as in :mod:`hierbayes.families.gaussian`, except that a row touches the two
cut-points around its category: :func:`grad_loop` is this family's own row loop, which adds the
derivatives into those two. ``θ`` is the vector of cut-points; ``prepare`` passes it on.

Probabilities of a row: ``P(y = k) = F(c_k - η) - F(c_{k-1} - η)`` with ``c_0 = -∞``,
``c_K = +∞`` and ``F`` the logistic CDF; its log is computed as
``log F(a) + log F(-b) + log(1 - e^{b - a})``, exact in the tails.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import expit, ndtr

from hierbayes.errors import FamilyError
from hierbayes.families._math import JIT
from hierbayes.families.base import Family, PriorSpec

__all__ = [
    "CODE",
    "FAMILY",
    "category_probabilities",
    "derivs",
    "grad_loop",
    "prepare",
    "row",
    "sample_link",
]

CODE = 15
LATENT_LOGIT = float(np.pi**2 / 3)


@numba.njit(**JIT)
def _log_expit(v: float) -> float:
    if v >= 0.0:
        return -math.log1p(math.exp(-v))
    return v - math.log1p(math.exp(v))


@numba.njit(**JIT)
def _expit(v: float) -> float:
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@numba.njit(**JIT)
def _terms(y, eta, cut):
    """``(ℓ, dℓ/da, dℓ/db, F(a), F(b))`` of one row with ``a = c_y - η``,
    ``b = c_{y-1} - η`` (the derivatives of an absent side are 0, its ``F`` 1 or 0)."""
    k = int(y)
    last = cut.shape[0]
    if k <= 1:
        a = cut[0] - eta
        return _log_expit(a), _expit(-a), 0.0, _expit(a), 0.0
    if k > last:
        b = cut[last - 1] - eta
        return _log_expit(-b), 0.0, -_expit(b), 1.0, _expit(b)
    a = cut[k - 1] - eta
    b = cut[k - 2] - eta
    r = 1.0 / math.expm1(a - b)
    ll = _log_expit(a) + _log_expit(-b) + math.log(-math.expm1(b - a))
    return ll, _expit(-a) + r, -_expit(b) - r, _expit(a), _expit(b)


@numba.njit(**JIT)
def prepare(theta):
    """The cut-points themselves."""
    return theta


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, 0, 0)`` with ``ℓ = log P(y | η, c)`` (the cut-points' derivatives come from
    :func:`grad_loop`)."""
    ll, da, db, _, _ = _terms(y, eta, aux)
    return ll, -(da + db), 0.0, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)`` from ``f(a)/P = dℓ/da``, ``-f(b)/P = dℓ/db`` and the
    logistic density's ``f' = f (1 - 2F)``, ``f'' = f (1 - 6F + 6F²)``."""
    _, da, db, fa, fb = _terms(y, eta, aux)
    m1 = da + db
    m2 = da * (1.0 - 2.0 * fa) + db * (1.0 - 2.0 * fb)
    m3 = da * (1.0 - 6.0 * fa + 6.0 * fa * fa) + db * (1.0 - 6.0 * fb + 6.0 * fb * fb)
    return -m1, m2 - m1 * m1, -m3 + 3.0 * m1 * m2 - 2.0 * m1 * m1 * m1


@numba.njit(**JIT)
def grad_loop(y, eta, weights, cut, tbar):
    """Σ of the rows' log-likelihoods, each times its weight; ``η`` is overwritten with
    ``dℓ/dη`` and ``dℓ/dc`` is added to ``tbar`` (the two cut-points around each row's
    category).

    As :func:`_terms` without the ``F`` it returns for :func:`derivs`, and with each
    exponential taken once: ``e^{-|a|}`` gives ``log F(a)`` and ``1 - F(a)``, ``e^{-|b|}``
    gives ``log(1 - F(b))`` and ``F(b)``, and ``d = a - b`` gives ``log(1 - e^{-d})`` and
    ``1 / (e^d - 1) = e^{-d} / (1 - e^{-d})``: seven library calls a row instead of eleven.

    Examples
    --------
    >>> y, eta = np.array([1.0, 2.0, 4.0]), np.array([0.3, -1.0, 2.0])
    >>> cut = np.array([-1.0, 0.5, 2.0])
    >>> d1, tbar = eta.copy(), np.zeros(3)
    >>> lp = grad_loop(y, d1, np.zeros(0), cut, tbar)
    >>> rows = [row(y[i], eta[i], 1.0, cut) for i in range(3)]
    >>> bool(np.isclose(lp, sum(r[0] for r in rows), rtol=1e-14))
    True
    >>> bool(np.allclose(d1, [r[1] for r in rows], rtol=1e-14))
    True
    """
    has_w = weights.shape[0] > 0
    last = cut.shape[0]
    lp = 0.0
    for i in range(y.shape[0]):
        k = int(y[i])
        w = weights[i] if has_w else 1.0
        ll = 0.0
        da = 0.0
        db = 0.0
        a = 0.0
        if k <= last:
            a = cut[k - 1] - eta[i]
            ea = math.exp(-abs(a))
            ll += (a if a < 0.0 else 0.0) - math.log1p(ea)
            da = (ea if a >= 0.0 else 1.0) / (1.0 + ea)  # 1 - F(a)
        if k >= 2:
            b = cut[k - 2] - eta[i]
            eb = math.exp(-abs(b))
            ll += (-b if b > 0.0 else 0.0) - math.log1p(eb)
            db = -(1.0 if b >= 0.0 else eb) / (1.0 + eb)  # -F(b)
            if k <= last:
                d = a - b
                gap = -math.expm1(-d)  # 1 - e^{-d}
                ll += math.log(gap)
                r = math.exp(-d) / gap
                da += r
                db -= r
        lp += w * ll
        eta[i] = -w * (da + db)
        if k <= last:
            tbar[k - 1] += w * da
        if k >= 2:
            tbar[k - 2] += w * db
    return lp


# --- numpy side -------------------------------------------------------------------------------


def _cut(params: Mapping[str, Any]) -> np.ndarray:
    cut = params.get("cutpoints")
    if cut is None:
        raise FamilyError("The cumulative family needs its cut-points to simulate or score.")
    return np.asarray(cut, dtype=float)


_CDF = {"logit": expit, "probit": ndtr}


def category_probabilities(
    eta: np.ndarray, cutpoints: np.ndarray, link: str = "logit"
) -> np.ndarray:
    """``P(y = k)`` for ``k = 1..K``, on a new last axis.

    ``cutpoints`` has the cut-points on its last axis and broadcasts against ``eta`` on the
    others; ``link``: ``"logit"`` (``P(y ≤ k) = logistic(c_k - η)``) or ``"probit"``
    (``Φ(c_k - η)``).

    Examples
    --------
    >>> p = category_probabilities(np.array([0.0, 1.0]), np.array([-1.0, 0.0, 2.0]))
    >>> p.shape, p.sum(axis=-1).round(12).tolist()
    ((2, 4), [1.0, 1.0])
    >>> round(float(p[0, 0]), 4)  # logistic(-1)
    0.2689
    >>> q = category_probabilities(np.array([0.0]), np.array([-1.0, 1.0]), "probit")
    >>> round(float(q[0, 0]), 4)  # Φ(-1)
    0.1587
    """
    eta = np.asarray(eta, dtype=float)
    cum = _CDF[link](np.asarray(cutpoints, dtype=float) - eta[..., None])
    shape = np.broadcast_shapes(cum.shape[:-1], eta.shape)
    cum = np.broadcast_to(cum, (*shape, cum.shape[-1]))
    zeros = np.zeros((*shape, 1))
    ones = np.ones((*shape, 1))
    return np.diff(np.concatenate([zeros, cum, ones], axis=-1), axis=-1)


def expected_category(eta: np.ndarray, cutpoints: np.ndarray, link: str = "logit") -> np.ndarray:
    """``E[y] = Σ_k k P(y = k)`` with categories numbered ``1..K`` (brms's ``posterior_epred``
    averaged over the categories' numbers).

    Examples
    --------
    >>> float(expected_category(np.array([0.0]), np.array([-50.0, 50.0]))[0])
    2.0
    """
    p = category_probabilities(eta, cutpoints, link)
    return p @ np.arange(1, p.shape[-1] + 1, dtype=float)


def _no_mean(eta: np.ndarray) -> np.ndarray:
    raise FamilyError(
        "The cumulative family's expected response needs its cut-points as well as the linear "
        "predictor: use fit.predict(kind='mean') (expected category number) or "
        "fit.predict(kind='prob') (each category's probability)."
    )


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """0 on every row."""
    return np.zeros(np.shape(y))


def _check(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    k = np.round(y)
    if (k != y).any() or (y < 1).any():
        bad = np.unique(y[(k != y) | (y < 1)])[:5]
        return f"ordinal categories are coded 1..K; found {bad.tolist()}"
    return None


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    return pm.OrderedLogistic(
        name,
        eta=eta,
        cutpoints=params["cutpoints"],
        observed=y.astype(np.int64) - 1,
        compute_p=False,
        dims=dims,
    )


def sample_link(
    link: str, eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    """Category numbers ``1..K`` drawn under ``link``."""
    p = category_probabilities(eta, _cut(params), link)
    u = rng.random(p.shape[:-1])[..., None]
    return 1 + (np.cumsum(p, axis=-1)[..., :-1] < u).sum(axis=-1).astype(np.int64)


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    """Category numbers ``1..K``."""
    return sample_link("logit", eta, rng, params, trials)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    p = category_probabilities(eta, _cut(params))
    y = np.broadcast_to(np.asarray(y), p.shape[:-1]).astype(np.int64)
    with np.errstate(divide="ignore"):
        return np.log(np.take_along_axis(p, y[..., None] - 1, axis=-1)[..., 0])


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {
        "cutpoints": (
            "StudentT",
            {"nu": 3.0, "mu": 0.0, "sigma": 2.5},
            "each cut-point c_k, at the means of the predictors (brms's default)",
        )
    }


def _latent_logit(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """The logistic distribution's variance π²/3 (the latent residual of an ordinal logit)."""
    return np.full_like(group_var, LATENT_LOGIT)


FAMILY = Family(
    name="cumulative",
    link="logit",
    code=CODE,
    params=("cutpoints",),
    needs_trials=False,
    inverse_link=_no_mean,
    check=_check,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_logit,
    law="Cumulative",
    mean_symbol=("η", r"\eta"),
    title="Bayesian ordinal (cumulative logit) mixed model",
    discrete=True,
    cutpoints=True,
)
