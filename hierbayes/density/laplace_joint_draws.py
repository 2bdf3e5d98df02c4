"""Draws of the varying intercepts integrated out jointly by Laplace
(:mod:`hierbayes.density.laplace_joint`), after sampling, and the log importance weights that
check the approximation.

For each posterior draw of the other parameters, :data:`PROPOSALS` draws of all the effects
together come from the joint Laplace Gaussian ``N(z*, H⁻¹)`` (B's columns from
``N(z*_B, S⁻¹)``, then A's groups given them, each ``N(z*_g - H_gB δ_B / D_g, 1 / D_g)``);
one of them is resampled by its weight, the exact conditional density over the Gaussian's,
``f(z) - f(z*) + ½ ε'ε``. The factors' effects are not independent given the other parameters,
so the whole vector is resampled at once.

A log importance weight for the Pareto-``k`` check of :mod:`hierbayes.density.laplace_check`
is the log of :data:`PROPOSALS` proposals' mean weight (a draw gives ``m`` of them, each from
its own proposals, so that the check holds a fixed number of weights whatever the number of
draws; the effects are then resampled from all ``m`` x :data:`PROPOSALS`): an unbiased
estimate of ``p(θ | y) / p̃(θ | y)`` (up to a constant), the exact over the approximate marginal
density of the sampled parameters, which the draw keeps after its effects are resampled. (One
proposal's weight, as for one factor, adds the Gaussian's error in every group's effects: a sum
over all the factors' groups, whose spread grows with their number.)
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    A_MCODES,
    A_META,
    A_PRIOR_FPAR,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    JIT,
    M_COV_SIZE,
    M_EFF_SIZE,
    M_FAMILY,
    M_FPAR,
    M_NDIM,
    M_NFPAR,
    M_NOBS,
    M_ORDERED,
    M_SD_SIZE,
)
from hierbayes.density.effects import covariances, effects_forward
from hierbayes.density.kernel import _linear_predictor
from hierbayes.density.laplace_joint import _parts, joint_factor, joint_modes, joint_rows
from hierbayes.density.laplace_rows import row_pass
from hierbayes.density.laplace_sparse import csc_solve_lt
from hierbayes.density.ordered import ordered_forward
from hierbayes.density.prior_density import log_prior_own
from hierbayes.density.table import farr, iarr

__all__ = ["PROPOSALS", "joint_effects"]

PROPOSALS = 32
"""Joint proposals per draw of the importance resampling."""


@numba.njit(**JIT)
def state_at(x, table, meta):
    """The family's own parameters, the covariance factors ``L`` and ``η0`` (every effect that
    is not integrated out) at ``x``; also :mod:`hierbayes.density.laplace_draws`'s."""
    nf = meta[M_NFPAR]
    theta = np.empty(nf)
    scratch = np.zeros(meta[M_NDIM])
    fpriors = farr(table, A_PRIOR_FPAR)
    if meta[M_ORDERED] == 1:
        ordered_forward(fpriors, x, meta[M_FPAR], theta, scratch)
    else:
        for k in range(nf):
            theta[k] = log_prior_own(fpriors, k, x[meta[M_FPAR] + k], scratch, meta[M_FPAR] + k)[1]
    ncov = meta[M_COV_SIZE]
    sd = np.empty(meta[M_SD_SIZE])
    C = np.empty(ncov)
    L = np.empty(ncov)
    covariances(x, table, meta, scratch, sd, C, L)
    neff = meta[M_EFF_SIZE]
    U = np.empty(neff)
    Zeta = np.empty(neff)
    effects_forward(x, table, meta, L, U, Zeta)
    eta0 = np.empty(meta[M_NOBS])
    _linear_predictor(x, table, meta, U, eta0)
    return theta, L, eta0


@numba.njit(**JIT)
def _draws(X, table, proposals, seed, out, logw):
    """Fill ``out`` (S, k) with resampled effects ``u = Λ z`` and ``logw`` (S, m) with each
    draw's ``m`` joint log importance weights, each from its own ``proposals`` (NaN where the
    mode was not found)."""
    np.random.seed(seed)  # noqa: NPY002 - numba's per-thread generator (no Generator in nopython)
    meta = iarr(table, A_META)
    n, code = meta[M_NOBS], meta[M_FAMILY]
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    struct = iarr(table, A_MCODES)
    parts = _parts(struct)
    JA, m, ptr, idx, Lp, Li = parts[1], parts[2], parts[7], parts[8], parts[11], parts[12]
    k = JA + m
    z = np.zeros(k)
    zp = np.empty(k)
    eps = np.empty(k)
    dB = np.empty(m)
    eta = np.empty(n)
    ll = np.empty(n)
    none = np.empty(0)
    lw = np.empty(proposals)
    keep = np.empty((proposals, k))
    for s in range(X.shape[0]):
        theta, L, eta0 = state_at(X[s], table, meta)
        lam = joint_factor(struct, L)
        for r in range(k):
            z[r] = 0.0
        ok, f, _, D, P, _, Ch, _, _, _, _, _ = joint_modes(
            code, y, eta0, trials, weights, theta, struct, lam, z
        )
        if not ok:
            for r in range(k):
                out[s, r] = np.nan
            for b in range(logw.shape[1]):
                logw[s, b] = np.nan
            continue
        total = -np.inf  # log of all the blocks' summed weights so far
        for b in range(logw.shape[1]):
            for p in range(proposals):
                half = 0.0
                for r in range(k):
                    e = np.random.standard_normal()  # noqa: NPY002
                    eps[r] = e
                    half += 0.5 * e * e
                # δ_B = Ch'⁻¹ ε_B (S = Ch Ch'), then A's groups given B
                for h in range(m):
                    dB[h] = eps[JA + h]
                csc_solve_lt(Ch, Lp, Li, m, dB)
                for h in range(m):
                    zp[JA + h] = z[JA + h] + dB[h]
                for g in range(JA):
                    acc = 0.0
                    for q in range(ptr[g], ptr[g + 1]):
                        h = idx[q]
                        acc += lam[0] * lam[1 + h] * P[q] * dB[h]
                    zp[g] = z[g] - acc / D[g] + eps[g] / math.sqrt(D[g])
                joint_rows(struct, eta0, lam, zp, eta)
                row_pass(code, y, eta, trials, weights, theta, ll, none, none, none)
                fp = 0.0
                for r in range(k):
                    fp -= 0.5 * zp[r] * zp[r]
                for i in range(n):
                    fp += ll[i]
                w = fp - f + half
                lw[p] = w if math.isfinite(w) else -np.inf
                for r in range(k):
                    keep[p, r] = zp[r]
            top = -np.inf
            for p in range(proposals):
                top = max(top, lw[p])
            cum = 0.0
            for p in range(proposals):
                cum += math.exp(lw[p] - top)
            logw[s, b] = top + math.log(cum / proposals)  # the block's mean weight
            mine = top + math.log(cum)  # its summed weight
            pick = np.random.random() * cum  # noqa: NPY002
            chosen = proposals - 1
            cum = 0.0
            for p in range(proposals):
                cum += math.exp(lw[p] - top)
                if pick < cum:
                    chosen = p
                    break
            # resampled across blocks too: the block's pick replaces the one kept with
            # probability its block's summed weight over all blocks' so far (the first block's
            # is kept without a draw, so one block draws exactly as before)
            take = b == 0
            if take:
                total = mine
            elif math.isfinite(mine):
                total = max(total, mine) + math.log1p(math.exp(-abs(total - mine)))
                take = np.random.random() < math.exp(mine - total)  # noqa: NPY002
            if take:
                for g in range(JA):
                    out[s, g] = lam[0] * keep[chosen, g]
                for h in range(m):
                    out[s, JA + h] = lam[1 + h] * keep[chosen, JA + h]


def joint_effects(
    table: np.ndarray,
    X: np.ndarray,
    k: int,
    seed: int,
    proposals: int = PROPOSALS,
    weights: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the ``k`` jointly integrated-out intercepts ``u`` (S, k: A's groups, then B's
    columns) at each row of ``X`` (S, n_dim), and each draw's ``weights`` joint log importance
    weights (S, weights; NaN where the mode was not found), each the mean weight of its own
    ``proposals`` proposals; the effects are resampled from all ``weights x proposals``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("r2 ~ Anger + (1 | id) + (1 | item)", hb.datasets.load("verbagg"),
    ...              family="bernoulli", parameterization={"id": "laplace", "item": "laplace"})
    >>> layout = make_layout(m.design, m.prior_values, m.parameterization)
    >>> u, logw = joint_effects(layout.table, layout.center[None], 340, seed=1, weights=2)
    >>> u.shape, logw.shape
    ((1, 340), (1, 2))
    """
    X = np.ascontiguousarray(np.atleast_2d(X), dtype=float)
    S = len(X)
    out = np.empty((S, k))
    logw = np.empty((S, max(int(weights), 1)))
    _draws(X, table, proposals, seed % 2**31, out, logw)
    return out, logw
