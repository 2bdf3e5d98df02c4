"""Draws of the effects of a factor integrated out by Laplace (:mod:`hierbayes.density.laplace`),
after sampling, and the log importance weights that check the approximation.

For each posterior draw of the other parameters, each group's effects are drawn by
sampling-importance-resampling: :data:`PROPOSALS` draws from the group's Laplace Gaussian
``N(z*, H⁻¹)``, weighted by the exact conditional density over the Gaussian's, one of them
resampled by its weight. The ``m``-th proposal of every group together is a draw of all the
effects from ``q(z | θ)``, and gives a joint log importance weight
``log p(θ, z | y) - log p̃(θ | y) - log q(z | θ)`` (the exact joint over the Laplace marginal
times the Laplace Gaussian, up to a constant); the first ``m`` of them are the draw's weights,
which :mod:`hierbayes.density.laplace_check` Pareto-smooths (``m`` such that the check holds
a fixed number of weights whatever the number of draws).

For a factor integrated out by quadrature (:mod:`hierbayes.density.agq`) the effects are drawn
the same way; the weight is not that fit's check (:mod:`hierbayes.density.agq_check` measures the
quadrature's own error instead: one proposal's weight adds the Gaussian proposal's error summed
over every group, which over a thousand groups fails whatever the quadrature's accuracy).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_MCODES,
    A_META,
    A_MZ,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    JIT,
    M_FAMILY,
    M_LAP_J,
    M_LAP_Q,
    M_NOBS,
)
from hierbayes.density.effects import cholesky
from hierbayes.density.laplace import _hessian, factor_cholesky, group_modes, rows_at
from hierbayes.density.laplace_joint_draws import state_at
from hierbayes.density.laplace_rows import row_pass
from hierbayes.density.table import farr, iarr

__all__ = ["PROPOSALS", "laplace_effects"]

PROPOSALS = 32
"""Proposals per group and draw of the importance resampling."""


@numba.njit(**JIT)
def _state(x, table, meta):
    """The family's own parameters, the factor's ``L`` and ``η0`` at ``x``."""
    theta, L, eta0 = state_at(x, table, meta)
    return theta, factor_cholesky(table, meta, L), eta0


@numba.njit(**JIT)
def _draws(X, table, proposals, seed, out, logw, ok):
    """Fill ``out`` (S, J q) with resampled effects ``u = L z``, ``logw`` (S, m) with each
    draw's ``m`` joint log importance weights (those of its first ``m <= proposals`` proposals)
    and ``ok`` (S) with whether its modes were found."""
    np.random.seed(seed)  # noqa: NPY002 - numba's per-thread generator (no Generator in nopython)
    meta = iarr(table, A_META)
    n, q, J, code = meta[M_NOBS], meta[M_LAP_Q], meta[M_LAP_J], meta[M_FAMILY]
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    codes = iarr(table, A_MCODES)
    Z = farr(table, A_MZ)
    z = np.zeros(J * q)
    H = np.empty((q, q))
    Ch = np.empty((J, q, q))
    one = np.empty((q, q))
    zp = np.empty(J * q)
    eps = np.empty(J * q)
    half = np.empty(J)
    lw = np.empty((proposals, J))
    keep = np.empty((proposals, J * q))
    eta = np.empty(n)
    ll = np.empty(n)
    d2 = np.empty(n)
    d3 = np.empty(n)
    fp = np.empty(J)
    none = np.empty(0)
    for s in range(X.shape[0]):
        theta, LF, eta0 = _state(X[s], table, meta)
        found, f, _, B, _, _, _, _, _ = group_modes(
            code, y, eta0, trials, weights, theta, codes, Z, LF, q, J, z
        )
        ok[s] = found
        for g in range(J):
            _hessian(B, g, LF, q, H)
            if not cholesky(H, q, one):
                ok[s] = False
                break
            Ch[g] = one
        if not ok[s]:
            for r in range(J * q):
                z[r] = 0.0
                out[s, r] = np.nan
            for m in range(logw.shape[1]):
                logw[s, m] = np.nan
            continue
        for m in range(proposals):
            for g in range(J):
                acc = 0.0
                for k in range(q):
                    e = np.random.standard_normal()  # noqa: NPY002
                    eps[g * q + k] = e
                    acc += e * e
                half[g] = 0.5 * acc
                # z = z* + C'⁻¹ ε  (H = C C'): solve the upper system
                for k in range(q - 1, -1, -1):
                    v = eps[g * q + k]
                    for j in range(k + 1, q):
                        v -= Ch[g, j, k] * (zp[g * q + j] - z[g * q + j])
                    zp[g * q + k] = z[g * q + k] + v / Ch[g, k, k]
            rows_at(eta0, codes, Z, LF, zp, q, eta)
            row_pass(code, y, eta, trials, weights, theta, ll, none, d2, d3)
            for g in range(J):
                acc = 0.0
                for k in range(q):
                    acc += zp[g * q + k] * zp[g * q + k]
                fp[g] = -0.5 * acc
            for i in range(n):
                fp[codes[i]] += ll[i]
            for g in range(J):
                w = fp[g] - f[g] + half[g]
                lw[m, g] = w if math.isfinite(w) else -np.inf
            for r in range(J * q):
                keep[m, r] = zp[r]
        # one joint weight per proposal (a quadrature fit is checked by its own error instead:
        # density.agq_check)
        for m in range(logw.shape[1]):
            total = 0.0
            for g in range(J):
                total += lw[m, g]
            logw[s, m] = total
        for g in range(J):
            top = -np.inf
            for m in range(proposals):
                top = max(top, lw[m, g])
            cum = 0.0
            for m in range(proposals):
                cum += math.exp(lw[m, g] - top)
            pick = np.random.random() * cum  # noqa: NPY002
            chosen = proposals - 1
            cum = 0.0
            for m in range(proposals):
                cum += math.exp(lw[m, g] - top)
                if pick < cum:
                    chosen = m
                    break
            for a in range(q):
                acc = 0.0
                for k in range(a + 1):
                    acc += LF[a, k] * keep[chosen, g * q + k]
                out[s, g * q + a] = acc


def laplace_effects(
    table: np.ndarray,
    X: np.ndarray,
    q: int,
    J: int,
    seed: int,
    proposals: int = PROPOSALS,
    weights: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the integrated-out factor's effects ``u`` (S, J, q) at each row of ``X``
    (S, n_dim), and each draw's ``weights`` joint log importance weights (S, weights; NaN where
    a mode was not found): those of its first ``weights`` proposals, each of all the groups'
    effects drawn from the Laplace Gaussians (``max(proposals, weights)`` proposals are drawn).

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("r2 ~ Anger + (1 | id)", hb.datasets.load("verbagg"),
    ...              family="bernoulli", parameterization="laplace")
    >>> layout = make_layout(m.design, m.prior_values, m.parameterization)
    >>> u, logw = laplace_effects(layout.table, layout.center[None], 1, 316, seed=1, weights=3)
    >>> u.shape, logw.shape
    ((1, 316, 1), (1, 3))
    """
    X = np.ascontiguousarray(np.atleast_2d(X), dtype=float)
    S = len(X)
    out = np.empty((S, J * q))
    logw = np.empty((S, max(int(weights), 1)))
    ok = np.zeros(S, dtype=np.bool_)
    _draws(X, table, max(proposals, logw.shape[1]), seed % 2**31, out, logw, ok)
    return out.reshape(S, J, q), logw
