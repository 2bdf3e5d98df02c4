"""The negative binomial family (NB2): ``y ~ NegBinomial(μ, φ)``, ``log(μ) = η``.

brms's ``negbinomial()`` and bambi's ``negativebinomial``: mean ``μ``, variance ``μ + μ²/φ``,
with the shape ``φ`` (brms's ``shape``, PyMC's and bambi's ``alpha``) sampled. Its default prior
is brms's, ``Gamma(0.01, 0.01)``.

Compiled parts as in :mod:`hierbayes.families.gaussian`; own parameters ``θ = (φ,)``. The
sampler's gradient runs :func:`grad_loop` rather than :func:`row` row by row (a quarter of its
cost).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
from scipy.special import gammaln

from hierbayes.families._fastexp import exp_nonpositive
from hierbayes.families._fastlog import log1p_unit
from hierbayes.families._math import JIT, digamma
from hierbayes.families.base import Family, PriorSpec, check_counts, need

__all__ = ["CODE", "FAMILY", "derivs", "grad_loop", "prepare", "row", "rows_loop", "sample_counts"]

CODE = 4
_TABLE_SLACK = 64  # counts up to 2n + this are summed by value (grad_loop); larger: row by row


@numba.njit(**JIT)
def prepare(theta):
    """``(φ, log Γ(φ), ψ(φ), log φ)`` from ``θ = (φ,)``."""
    phi = theta[0]
    return phi, math.lgamma(phi), digamma(phi), math.log(phi)


@numba.njit(**JIT)
def row(y, eta, n, aux):
    """``(ℓ, dℓ/dη, dℓ/dφ, 0)`` with
    ``ℓ = log Γ(y + φ) - log Γ(φ) + φ log φ + y η - (y + φ) log(φ + μ)``."""
    phi = aux[0]
    mu = math.exp(eta)
    s = phi + mu
    log_s = math.log(s)
    ll = math.lgamma(y + phi) - aux[1] + phi * aux[3] + y * eta - (y + phi) * log_s
    d1 = y - (y + phi) * mu / s
    dphi = digamma(y + phi) - aux[2] + aux[3] + 1.0 - log_s - (y + phi) / s
    return ll, d1, dphi, 0.0


@numba.njit(**JIT)
def _row_by_row(y, eta, theta, tbar):
    aux = prepare(theta)
    lp = 0.0
    g = 0.0
    for i in range(y.shape[0]):
        ll, d1, a, _ = row(y[i], eta[i], 1.0, aux)
        lp += ll
        eta[i] = d1
        g += a
    if tbar.shape[0] > 0:
        tbar[0] += g
    return lp


@numba.njit(**JIT)
def _largest_count(y):
    """The largest of the counts ``y``; -1 if one is not a count or it is above ``2n + 64``
    (then a table of the values up to it would cost more than the rows)."""
    top = 0.0
    for i in range(y.shape[0]):
        yi = y[i]
        if not (yi >= 0.0 and yi == math.floor(yi)):
            return -1
        top = yi if yi > top else top
    if top > 2.0 * y.shape[0] + _TABLE_SLACK:
        return -1
    return int(top)


@numba.njit(**JIT)
def rows_loop(y, eta, weights, theta, const):
    """The rows' log densities for :func:`hierbayes.families.dispatch.loglik_rows`: ``η``
    (S, n) becomes ``const + ℓ`` (times ``weights``, unless empty), with ``θ`` (S, 1).

    ``log Γ(y + φ) - log Γ(φ)`` comes from a table of ``Σ_{j<k} log(φ + j)`` for the values
    ``k`` up to the largest count, one per draw (as :func:`grad_loop`); other responses go
    through :func:`row`.

    Examples
    --------
    >>> y, theta = np.array([0.0, 3.0, 12.0]), np.array([[2.3], [0.4]])
    >>> eta = np.array([[-0.5, 1.0, 2.5], [0.2, 0.1, 3.0]])
    >>> out = eta.copy()
    >>> rows_loop(y, out, np.zeros(0), theta, np.zeros(3))
    >>> want = [[row(y[i], eta[s, i], 1.0, prepare(theta[s]))[0] for i in range(3)] for s in (0, 1)]
    >>> bool(np.allclose(out, want, rtol=1e-13))
    True
    """
    n = y.shape[0]
    has_w = weights.shape[0] > 0
    m = _largest_count(y)
    lg = np.empty(m + 1 if m >= 0 else 0)
    for s in range(eta.shape[0]):
        phi = theta[s, 0]
        log_phi = math.log(phi)
        if m < 0:
            aux = prepare(theta[s])
            for i in range(n):
                ll = const[i] + row(y[i], eta[s, i], 1.0, aux)[0]
                eta[s, i] = weights[i] * ll if has_w else ll
            continue
        acc = 0.0
        for k in range(m + 1):
            lg[k] = acc
            acc += math.log(phi + k)
        for i in range(n):
            yi = y[i]
            e = eta[s, i]
            ll = lg[int(yi)] + phi * log_phi + yi * e - (yi + phi) * math.log(phi + math.exp(e))
            ll += const[i]
            eta[s, i] = weights[i] * ll if has_w else ll


@numba.njit(**JIT)
def _softplus_pass(y, eta, phi, log_phi, soft, c, d):
    """Per row, with ``v = η - log φ``: ``soft = log(1 + e^v)`` (so ``log(φ + μ) = log φ +
    soft``), ``c = (y + φ) φ / (φ + μ)`` and ``d = y - (y + φ) μ / (φ + μ)``, from one
    ``e^{-|v|}``; no library calls, so LLVM vectorises the loop."""
    for i in range(y.shape[0]):
        v = eta[i] - log_phi
        e = exp_nonpositive(-abs(v))
        t = 1.0 + e
        up = v > 0.0
        soft[i] = (v if up else 0.0) + log1p_unit(e)
        c[i] = (y[i] + phi) * (e if up else 1.0) / t
        d[i] = y[i] - (y[i] + phi) * (1.0 if up else e) / t


@numba.njit(**JIT)
def grad_loop(y, eta, theta, tbar):
    """``Σ ℓ`` over the rows, as :func:`row` summed; ``η`` is overwritten with ``dℓ/dη`` and
    ``Σ dℓ/dφ`` is added to ``tbar[0]``.

    The counts' terms are summed by value: ``Σ_i [log Γ(y_i + φ) - log Γ(φ)] = Σ_j N_j
    log(φ + j)`` and ``Σ_i [ψ(y_i + φ) - ψ(φ)] = Σ_j N_j / (φ + j)``, with ``N_j`` the number of
    rows whose count exceeds ``j`` (``j < max y``): one ``log`` and one division per value up to
    the largest count instead of ``log Γ`` and ``ψ`` per row. ``log(φ + μ)`` and ``μ / (φ + μ)``
    come from one vectorised pass (:func:`_softplus_pass`). Counts above ``2n + 64`` (or a
    response that is not counts) go row by row through :func:`row`. Within 1e-13 relative of
    :func:`row` summed.

    Examples
    --------
    >>> y, eta, theta = np.array([0.0, 3.0, 12.0]), np.array([-0.5, 1.0, 2.5]), np.array([2.3])
    >>> d1, tbar = eta.copy(), np.zeros(1)
    >>> lp = grad_loop(y, d1, theta, tbar)
    >>> rows = [row(y[i], eta[i], 1.0, prepare(theta)) for i in range(3)]
    >>> bool(np.isclose(lp, sum(r[0] for r in rows), rtol=1e-13))
    True
    >>> bool(np.allclose(d1, [r[1] for r in rows], rtol=1e-13))
    True
    >>> bool(np.isclose(tbar[0], sum(r[2] for r in rows), rtol=1e-13))
    True
    """
    n = y.shape[0]
    top = _largest_count(y)
    if top < 0:
        return _row_by_row(y, eta, theta, tbar)
    phi = theta[0]
    log_phi = math.log(phi)
    soft = np.empty(n)
    c = np.empty(n)
    d = np.empty(n)
    _softplus_pass(y, eta, phi, log_phi, soft, c, d)
    m = int(top)
    count = np.zeros(m + 1, dtype=np.int64)
    lp = 0.0
    soft_sum = 0.0
    c_sum = 0.0
    for i in range(n):
        yi = y[i]
        count[int(yi)] += 1
        lp += yi * (eta[i] - log_phi) - (yi + phi) * soft[i]
        soft_sum += soft[i]
        c_sum += c[i]
        eta[i] = d[i]
    above = n
    dg = 0.0
    for j in range(m):
        above -= count[j]
        lp += above * math.log(phi + j)
        dg += above / (phi + j)
    if tbar.shape[0] > 0:
        tbar[0] += dg + n - soft_sum - c_sum / phi
    return lp


@numba.njit(**JIT)
def derivs(y, eta, n, aux):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``."""
    phi = aux[0]
    mu = math.exp(eta)
    s = phi + mu
    d1 = y - (y + phi) * mu / s
    d2 = -(y + phi) * phi * mu / (s * s)
    d3 = -(y + phi) * phi * mu * (phi - mu) / (s * s * s)
    return d1, d2, d3


def constant(y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """``-log(y!)``."""
    return -gammaln(np.asarray(y, dtype=float) + 1)


def _likelihood(name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str) -> Any:
    import pymc as pm

    mu = pm.math.exp(eta)
    return pm.NegativeBinomial(
        name, mu=mu, alpha=params["shape"], observed=y.astype(np.int64), dims=dims
    )


def _sample(
    eta: np.ndarray, rng: np.random.Generator, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi = need(params.get("shape"), "the shape", "negativebinomial")
    mu = np.exp(eta)
    phi, mu = np.broadcast_arrays(phi, mu)
    return sample_counts(phi, mu, rng)


def sample_counts(phi: np.ndarray, mu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """NB2 draws with shape ``phi`` and mean ``mu``, as the gamma-Poisson mixture
    ``Poisson(mu G / phi)``, ``G ~ Gamma(phi, 1)``.

    NumPy's ``negative_binomial(phi, phi / (phi + mu))`` refuses a shape below about 1e-30 at
    any mean (its check bounds ``(mu / phi) (phi + 10 sqrt(phi))``), and brms's default prior
    ``Gamma(0.01, 0.01)`` draws a tenth of its shapes below 1e-98 and some that round to 0.
    As the shape goes to 0 the mass goes to 0 (variance ``mu + mu²/phi``, ``P(y = 0) -> 1``),
    which these draws give: a shape that rounded to 0 is taken as the smallest positive float.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = sample_counts(np.full(200_000, 2.0), np.full(200_000, 3.0), rng)
    >>> bool(abs(y.mean() - 3.0) < 0.03), bool(abs(y.var() / 7.5 - 1) < 0.03)  # mu + mu²/phi
    (True, True)
    >>> sample_counts(np.array([1e-200, 0.0]), np.array([5.0, 5.0]), rng).tolist()
    [0, 0]
    """
    phi = np.maximum(np.asarray(phi, dtype=float), np.finfo(float).tiny)
    rate = np.asarray(mu, dtype=float) * (rng.standard_gamma(phi) / phi)
    return rng.poisson(rate).astype(np.int64)


def _log_density(
    y: np.ndarray, eta: np.ndarray, params: Mapping[str, Any], trials: Any
) -> np.ndarray:
    phi = need(params.get("shape"), "the shape", "negativebinomial")
    mu = np.exp(eta)
    return (
        gammaln(y + phi)
        - gammaln(phi)
        - gammaln(y + 1)
        + phi * np.log(phi)
        + y * eta
        - (y + phi) * np.log(phi + mu)
    )


def _default_priors(
    y: np.ndarray, trials: np.ndarray | None, weights: np.ndarray | None
) -> dict[str, PriorSpec]:
    return {
        "shape": (
            "Gamma",
            {"alpha": 0.01, "beta": 0.01},
            "shape φ of the negative binomial (variance μ + μ²/φ; brms's default)",
        )
    }


def _latent_variance(
    fixed: Callable[[], np.ndarray], group_var: np.ndarray, params: Mapping[str, np.ndarray]
) -> np.ndarray:
    """``log(1 + 1/λ + 1/φ)`` at ``λ = exp(fixed + Σ τ²/2)`` (lognormal approximation of
    Nakagawa, Johnson & Schielzeth 2017)."""
    lam = np.exp(fixed() + group_var / 2)
    return np.log1p(1.0 / lam + 1.0 / np.asarray(params["shape"])[:, None])


FAMILY = Family(
    name="negativebinomial",
    link="log",
    code=CODE,
    params=("shape",),
    needs_trials=False,
    inverse_link=np.exp,
    check=check_counts,
    likelihood=_likelihood,
    sample=_sample,
    log_density=_log_density,
    constant=constant,
    default_priors=_default_priors,
    latent_variance=_latent_variance,
    law="NegBinomial",
    mean_symbol=("λ", r"\lambda"),
    discrete=True,
    param_symbols=(("φ", r"\phi"),),
    dpar="shape",
)
