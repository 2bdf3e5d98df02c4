"""The check of a factor integrated out by adaptive Gauss-Hermite quadrature
(:mod:`hierbayes.density.agq`): the quadrature's own error, measured at posterior draws.

The sampler drew ``θ`` from the posterior whose factor's marginal likelihood is the quadrature's
at ``K`` nodes, ``ℓ_K(θ)``. The exact posterior is that one reweighted by ``exp(ℓ(θ) - ℓ_K(θ))``;
with ``2K + 1`` nodes (exact for polynomials of twice the degree) standing for the exact value,
each draw's log weight is ``w = ℓ_{2K+1}(θ) - ℓ_K(θ)`` (both at the same modes and curvatures,
so the Laplace part cancels). A constant ``w`` changes nothing (the weights are normalised); what
matters is its spread across draws. Reweighting moves the posterior mean of any quantity ``h`` by
about ``Cov(h, w) ≤ SD(h) SD(w)``, so at ``SD(w) ≤`` :data:`AGQ_SD_MAX` = 0.1 no posterior mean
moves by more than a tenth of its posterior SD (the Monte Carlo error of an ESS of 100), and the
weights' effective sample size stays above ``exp(-SD²) ≈ 99%`` of the draws'. A few draws far out
(a heavy tail that an SD over a few hundred draws hides) fail it too: a draw whose ``w`` is more
than :data:`AGQ_DEV_MAX` = 0.5 from the mean (five times the SD allowed; the largest of 400
normal deviates at SD 0.1 is about 0.3) would be reweighted by a factor of 1.65 or more.

Unlike the importance-sampling check of the Laplace approximation
(:mod:`hierbayes.density.laplace_check`) this does not add up the Monte Carlo error of the
effects' proposals over the groups: on guImmun's 1,595 mothers that error alone gave a Pareto
``k`` of 1.4 at a quadrature accurate to 5e-5 per group. The effects' draws are kept as they are.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.agq import agq_excess, agq_nodes
from hierbayes.density.codes import (
    A_MCODES,
    A_META,
    A_MZ,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    JIT,
    M_AGQ,
    M_FAMILY,
    M_LAP_J,
    M_NOBS,
)
from hierbayes.density.laplace import factor_cholesky, group_modes
from hierbayes.density.laplace_joint_draws import state_at
from hierbayes.density.table import farr, iarr

__all__ = [
    "AGQ_CHECK",
    "AGQ_CHECK_DRAWS",
    "AGQ_DEV_MAX",
    "AGQ_SD_MAX",
    "agq_failure",
    "agq_log_weights",
    "check_agq",
]

AGQ_SD_MAX = 0.1
"""Largest SD across draws of the log weights ``ℓ_{2K+1} - ℓ_K`` at which the fit is kept."""
AGQ_DEV_MAX = 0.5
"""Largest distance of one draw's log weight from their mean at which the fit is kept."""
AGQ_CHECK_DRAWS = 400
"""Draws (evenly spaced through the chains) at which the check compares the quadratures."""
AGQ_CHECK = "agq_check"
"""Prefix of the posterior's attributes of the check: ``agq_check_sd``, ``agq_check_max_dev``,
``agq_check_nodes`` (``K``, ``2K + 1``), ``agq_check_draws`` and the numbers of those draws
where a group's mode was not found (``agq_check_no_mode``) or a log marginal likelihood was not
finite (``agq_check_not_finite``)."""


NO_MODE = 1
"""Reason code of :func:`_gaps`: a group's mode (or a positive curvature) was not found."""
NOT_FINITE = 2
"""Reason code of :func:`_gaps`: the modes were found but a log marginal likelihood (at ``K``
or at ``2K + 1`` nodes) is not finite, as where the rows overflow at every node of a group."""


@numba.njit(**JIT)
def _gaps(X, table, ref, out, why):
    """``out[s] = ℓ_ref - ℓ_K`` at each row of ``X``; NaN where it is not found, with the
    reason (:data:`NO_MODE`, :data:`NOT_FINITE`; 0 where found) in ``why[s]``."""
    meta = iarr(table, A_META)
    n, J, code = meta[M_NOBS], meta[M_LAP_J], meta[M_FAMILY]
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    codes = iarr(table, A_MCODES)
    Z = farr(table, A_MZ)
    nodes = farr(table, meta[M_AGQ])
    z = np.zeros(J)
    for s in range(X.shape[0]):
        theta, L, eta0 = state_at(X[s], table, meta)
        LF = factor_cholesky(table, meta, L)
        ok, f, _, B, _, _, _, _, _ = group_modes(
            code, y, eta0, trials, weights, theta, codes, Z, LF, 1, J, z
        )
        for g in range(J):
            if not 1.0 - LF[0, 0] * LF[0, 0] * B[g] > 0.0:
                ok = False
        why[s] = 0
        if not ok:
            out[s] = np.nan
            why[s] = NO_MODE
            for g in range(J):
                z[g] = 0.0
            continue
        big = agq_excess(ref, n, J, code, y, eta0, trials, weights, theta, codes, Z, LF, z, f, B)
        small = agq_excess(
            nodes, n, J, code, y, eta0, trials, weights, theta, codes, Z, LF, z, f, B
        )
        out[s] = big - small if math.isfinite(big - small) else np.nan
        if not math.isfinite(big - small):
            why[s] = NOT_FINITE


def agq_log_weights(table: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, int]:
    """The log weights ``ℓ_{2K+1}(θ) - ℓ_K(θ)`` at each row of ``X`` (S, n_dim; NaN where a
    group's mode is not found) and ``K``, for a layout whose factor is integrated out by
    quadrature.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("r2 ~ Anger + (1 | id)", hb.datasets.load("verbagg"),
    ...              family="bernoulli", parameterization="agq")
    >>> layout = make_layout(m.design, m.prior_values, m.parameterization)
    >>> w, k = agq_log_weights(layout.table, layout.center[None])
    >>> k, bool(abs(w[0]) < 1e-3)   # at the centre (an SD of 1) 11 nodes are exact enough
    (11, True)
    """
    out, k, _ = _log_weights_why(table, X)
    return out, k


def _log_weights_why(table: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """:func:`agq_log_weights` with each draw's reason code (:data:`NO_MODE`,
    :data:`NOT_FINITE`, 0 where the weight is found)."""
    X = np.ascontiguousarray(np.atleast_2d(X), dtype=float)
    k = int(_k(table))
    out = np.empty(len(X))
    why = np.zeros(len(X), dtype=np.int64)
    _gaps(X, table, agq_nodes(2 * k + 1), out, why)
    return out, k, why


@numba.njit(**JIT)
def _k(table):
    """``K``, the quadrature's number of nodes."""
    meta = iarr(table, A_META)
    return farr(table, meta[M_AGQ]).shape[0] // 2


def check_agq(table: np.ndarray, raw: np.ndarray) -> dict[str, float | int]:
    """The check's attributes for the posterior at the draws ``raw`` (..., n_dim): the SD of
    the log weights across :data:`AGQ_CHECK_DRAWS` evenly spaced draws, their largest distance
    from the mean (``inf`` where one was not found), the numbers of nodes and draws, and of the
    draws where a mode or a finite value was not found."""
    X = raw.reshape(-1, raw.shape[-1])
    take = np.unique(np.linspace(0, len(X) - 1, min(len(X), AGQ_CHECK_DRAWS)).round().astype(int))
    w, k, why = _log_weights_why(table, X[take])
    finite = bool(np.all(np.isfinite(w)))
    sd = float(np.std(w)) if finite else float("inf")
    dev = float(np.max(np.abs(w - w.mean()))) if finite else float("inf")
    return {
        f"{AGQ_CHECK}_sd": sd,
        f"{AGQ_CHECK}_max_dev": dev,
        f"{AGQ_CHECK}_nodes": k,
        f"{AGQ_CHECK}_reference_nodes": 2 * k + 1,
        f"{AGQ_CHECK}_draws": len(take),
        f"{AGQ_CHECK}_no_mode": int(np.sum(why == NO_MODE)),
        f"{AGQ_CHECK}_not_finite": int(np.sum(why == NOT_FINITE)),
    }


def agq_failure(attrs: dict) -> str | None:
    """Why the quadrature's check failed (a sentence's end), or None when it passed or the
    posterior holds no such check.

    Examples
    --------
    >>> ok = {"agq_check_sd": 0.01, "agq_check_max_dev": 0.04, "agq_check_nodes": 11,
    ...       "agq_check_reference_nodes": 23, "agq_check_draws": 400}
    >>> agq_failure(ok) is None
    True
    >>> why = agq_failure(ok | {"agq_check_sd": 0.4, "agq_check_max_dev": 1.3})
    >>> why[:62]
    'its log marginal likelihood at 11 nodes against 23 varies acro'
    >>> "by SD 0.40 > 0.1" in why, "from the mean 1.30 > 0.5" in why
    (True, True)
    >>> why = agq_failure(ok | {"agq_check_sd": np.inf, "agq_check_max_dev": np.inf,
    ...                         "agq_check_no_mode": 0, "agq_check_not_finite": 3})
    >>> why[:60]
    'its log marginal likelihood at 11 or 23 nodes was not finite'
    >>> "at 3 of 400 draws" in why, "mode" in why
    (True, False)
    """
    sd = attrs.get(f"{AGQ_CHECK}_sd")
    if sd is None:
        return None
    dev = attrs[f"{AGQ_CHECK}_max_dev"]
    if sd <= AGQ_SD_MAX and dev <= AGQ_DEV_MAX:
        return None
    k, ref, n = (attrs[f"{AGQ_CHECK}_{x}"] for x in ("nodes", "reference_nodes", "draws"))
    if not (np.isfinite(sd) and np.isfinite(dev)):
        return _not_found(attrs, k, ref, n)
    node = "node" if k == 1 else "nodes"
    return (
        f"its log marginal likelihood at {k} {node} against {ref} varies across {n} draws by "
        f"SD {sd:.2f} {'>' if sd > AGQ_SD_MAX else '<='} {AGQ_SD_MAX} (largest distance from "
        f"the mean {dev:.2f} {'>' if dev > AGQ_DEV_MAX else '<='} {AGQ_DEV_MAX})"
    )


def _not_found(attrs: dict, k: int, ref: int, n: int) -> str:
    """What was not found at some of the ``n`` draws: a group's mode, or a finite log marginal
    likelihood at ``k`` or ``ref`` nodes (a fit from before these counts: the mode)."""
    no_mode = attrs.get(f"{AGQ_CHECK}_no_mode")
    not_finite = attrs.get(f"{AGQ_CHECK}_not_finite", 0)
    parts = []
    if no_mode is None or no_mode > 0:
        at = "some" if no_mode is None else f"{no_mode} of {n}"
        parts.append(f"a group's mode was not found at {at} draws")
    if not_finite:
        parts.append(
            f"its log marginal likelihood at {k} or {ref} nodes was not finite at {not_finite} "
            f"of {n} draws (a group's rows overflow at every node)"
        )
    return "; ".join(parts)
