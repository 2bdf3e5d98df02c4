"""The cumulative family with the probit link: ``P(y ≤ k) = Φ(c_k - η)`` (brms's
``cumulative("probit")``, ordinal's ``clmm(link = "probit")``, PyMC's ``OrderedProbit``).

Everything but the link is :mod:`hierbayes.families.cumulative`'s (cut-points, priors,
response check); this module holds the compiled row functions and the :class:`Family` record.
A row's probability ``P = Φ(a) - Φ(b)`` (``a = c_y - η``, ``b = c_{y-1} - η``) is taken as a
difference of logs: ``log Φ(a) + log(1 - e^{log Φ(b) - log Φ(a)})``, or, with both in the upper
tail (``b ≥ 0``), ``log Φ(-b) + log(1 - e^{log Φ(-a) - log Φ(-b)})``, exact in either tail. The
latent residual variance is 1 (ICC and R² on the latent scale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import numba
import numpy as np

from hierbayes.families import cumulative, links
from hierbayes.families._math import JIT
from hierbayes.families.links import _log_phi_mills

__all__ = ["CODE", "FAMILY", "derivs", "grad_loop", "prepare", "row"]

CODE = 16
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@numba.njit(**JIT)
def _terms(y, eta, cut):
    """``(ℓ, dℓ/da, dℓ/db, a, b, d²ℓ/dη², d³ℓ/dη³)`` of one row with ``a = c_y - η``,
    ``b = c_{y-1} - η`` (an absent side has derivative 0)."""
    k = int(y)
    last = cut.shape[0]
    if k <= 1:  # ℓ = log Φ(a)
        a = cut[0] - eta
        ll, r, s = _log_phi_mills(a)
        d2 = -r * s
        d3 = -d2 * s - r * (1.0 + d2)
        return ll, r, 0.0, a, 0.0, d2, -d3
    if k > last:  # ℓ = log Φ(-b)
        b = cut[last - 1] - eta
        ll, r, s = _log_phi_mills(-b)
        d2 = -r * s
        d3 = -d2 * s - r * (1.0 + d2)
        return ll, 0.0, -r, 0.0, b, d2, d3
    a = cut[k - 1] - eta
    b = cut[k - 2] - eta
    if b >= 0.0:  # both in the upper tail: P = Φ(-b) - Φ(-a)
        hi = _log_phi_mills(-b)[0]
        ll = hi + math.log(-math.expm1(_log_phi_mills(-a)[0] - hi))
    else:
        hi = _log_phi_mills(a)[0]
        ll = hi + math.log(-math.expm1(_log_phi_mills(b)[0] - hi))
    da = math.exp(-0.5 * a * a - _LOG_SQRT_2PI - ll)
    db = -math.exp(-0.5 * b * b - _LOG_SQRT_2PI - ll)
    # derivatives in t = -η of log P: P'/P = m1, P''/P = m2, P'''/P = m3 (φ' = -xφ,
    # φ'' = (x² - 1)φ)
    m1 = da + db
    m2 = -da * a - db * b
    m3 = da * (a * a - 1.0) + db * (b * b - 1.0)
    return ll, da, db, a, b, m2 - m1 * m1, -(m3 - 3.0 * m1 * m2 + 2.0 * m1 * m1 * m1)


@numba.njit(**JIT)
def prepare(theta):
    """The cut-points themselves."""
    return theta


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, 0, 0)`` with ``ℓ = log P(y | η, c)`` (the cut-points' derivatives come from
    :func:`grad_loop`)."""
    t = _terms(y, eta, aux)
    return t[0], -(t[1] + t[2]), 0.0, 0.0


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    t = _terms(y, eta, aux)
    return -(t[1] + t[2]), t[5], t[6]


@numba.njit(**JIT)
def grad_loop(y, eta, weights, cut, tbar):
    """Σ of the rows' log-likelihoods, each times its weight; ``η`` is overwritten with
    ``dℓ/dη`` and ``dℓ/dc`` is added to ``tbar`` (the two cut-points around each row's
    category)."""
    has_w = weights.shape[0] > 0
    last = cut.shape[0]
    lp = 0.0
    for i in range(y.shape[0]):
        t = _terms(y[i], eta[i], cut)
        da = t[1]
        db = t[2]
        w = weights[i] if has_w else 1.0
        lp += w * t[0]
        eta[i] = -w * (da + db)
        k = int(y[i])
        if k <= last:
            tbar[k - 1] += w * da
        if k >= 2:
            tbar[k - 2] += w * db
    return lp


# --- numpy side -------------------------------------------------------------------------------


def _pt_log_probs(eta: Any, cut: Any) -> Any:
    """Each category's ``log P(y = k)`` (last axis) as a PyTensor expression, stable in the
    tails as the compiled rows are (PyMC's ``OrderedProbit`` is accurate to about 1e-7 only)."""
    import pytensor.tensor as pt

    log_phi = links._pt_log_ndtr
    z = cut - pt.shape_padright(eta)  # c_k - η, (..., K - 1)
    a, b = z[..., 1:], z[..., :-1]
    upper = log_phi(-b) + pt.log1mexp(log_phi(-a) - log_phi(-b))
    lower = log_phi(a) + pt.log1mexp(log_phi(b) - log_phi(a))
    middle = pt.switch(b >= 0, upper, lower)
    first = log_phi(z[..., :1])
    last = log_phi(-z[..., -1:])
    return pt.concatenate([first, middle, last], axis=-1)


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    """A categorical response with the probit model's log-probabilities (PyMC's
    ``Categorical(logit_p=...)``: the log-probabilities sum to 0 on the exp scale, so they
    are the categories' log-probabilities themselves)."""
    import pymc as pm
    import pytensor.tensor as pt

    log_p = _pt_log_probs(pt.as_tensor_variable(eta), params["cutpoints"])
    return pm.Categorical(name, logit_p=log_p, observed=y.astype(np.int64) - 1, dims=dims)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    """``log(Φ(c_y - η) - Φ(c_{y-1} - η))``, stable in the tails (scipy's ``log_ndtr``)."""
    from scipy.special import log_ndtr

    cut = cumulative._cut(params)
    eta = np.asarray(eta, dtype=float)
    y = np.broadcast_to(np.asarray(y), np.broadcast_shapes(np.shape(y), eta.shape, cut.shape[:-1]))
    k = y.astype(np.int64)
    full = np.concatenate(
        [np.full((*cut.shape[:-1], 1), -np.inf), cut, np.full((*cut.shape[:-1], 1), np.inf)], -1
    )
    full = np.broadcast_to(full, (*k.shape, full.shape[-1]))
    a = np.take_along_axis(full, k[..., None], -1)[..., 0] - eta
    b = np.take_along_axis(full, k[..., None] - 1, -1)[..., 0] - eta
    upper = b >= 0
    hi = np.where(upper, log_ndtr(-b), log_ndtr(a))
    lo = np.where(upper, log_ndtr(-a), log_ndtr(b))
    with np.errstate(divide="ignore"):
        return hi + np.log(-np.expm1(lo - hi))


FAMILY = replace(
    cumulative.FAMILY,
    link="probit",
    code=CODE,
    likelihood=_likelihood,
    sample=partial(cumulative.sample_link, "probit"),
    log_density=_log_density,
    latent_variance=links.latent_variance("probit"),
    title="Bayesian ordinal (cumulative probit) mixed model",
)
