"""Sheared group terms in the compiled kernel: a varying intercept and slopes whose predictors
lie far from 0, sampled at the predictors' centre.

In ``(1 + x | g)`` with ``x`` far from 0 the data pin each group's value at the data's centre,
``a_j + x̄ s_j``, while ``a_j`` (the intercept at ``x = 0``) and ``s_j`` are sampled: in the
non-centred form ``b_j = L z_j`` (``L = chol Σ``) that line is a narrow ridge in ``z``. With
``A = I + e_1 x̄'`` (``x̄`` the slope columns' centres, 0 for the intercept and for columns not
sheared) the kernel samples ``c_j = A b_j`` (the group's value at the centre, and its slopes):
``c_j ~ N(0, A Σ A')``, with ``M = chol(A Σ A')`` in place of ``L``: non-centred ``c_j = M
z_j``, centred ``c_j`` itself (``det A = 1``: the density of ``c_j`` is that of ``b_j``). The
term's design columns are stored centred (``x - x̄``), so ``c_j`` enters ``η`` as ``b_j`` does
with ``x``. The priors (SDs, LKJ) stay on ``Σ``, the covariance of ``b_j``: the model is
unchanged, only its coordinates (a pure reparameterisation). Draws of the effects are turned
back into ``b_j = A⁻¹ c_j`` (:mod:`hierbayes.density.shear_layout`).

A correlated term goes further: its SDs and correlation rows in ``x`` are those of ``Σ' = A Σ
A'`` (the covariance at the centre), so ``L`` is ``M`` directly. Otherwise the data, which pin
the variance at the centre, leave a curved ridge in ``Σ``'s own coordinates (both SDs large with
a correlation near -1: where MASS's OME diverged once the effects were sheared). The priors still
act on ``Σ``, with the Jacobian of ``Σ' -> Σ`` (:func:`_covariance_at_centre`). An uncorrelated
(``||``) term has no correlation to sample ``Σ'`` with: it keeps ``Σ``'s coordinates and uses
``M = chol(A Σ A')``, whose gradient flows back to ``L`` through the reverse mode of the
Cholesky decomposition (Murray 2016, "Differentiation of the Cholesky decomposition", unblocked
algorithm), then to the SDs as before
(:func:`hierbayes.density.effects.covariance_backward`).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import (
    B_CORRELATED,
    B_COV_AT,
    B_OFF_SD,
    B_Q,
    B_SD_AT,
    JIT,
    M_NBLOCKS,
    M_SHEAR,
    N_GLOBAL,
    P_LKJ,
    P_META,
    P_PRIOR_SD,
    PER_BLOCK,
)
from hierbayes.density.effects import cholesky
from hierbayes.density.prior_density import log_prior_positive
from hierbayes.density.table import farr, iarr

__all__ = ["chol_backward", "shear_backward", "shear_factor", "shear_forward"]


@numba.njit(**JIT)
def shear_factor(L, centre, q, S, M):
    """``S = A L`` and ``M = chol(S S')`` for the q x q lower factor ``L`` and the centres
    ``centre`` (q; ``A = I + e_1 centre'``); False if ``S S'`` is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> L = np.array([[2.0, 0.0], [0.3, 0.5]])
    >>> S, M = np.empty((2, 2)), np.empty((2, 2))
    >>> shear_factor(L, np.array([0.0, 10.0]), 2, S, M)
    True
    >>> bool(np.allclose(M @ M.T, S @ S.T)), S[0].tolist()
    (True, [5.0, 5.0])
    """
    for i in range(q):
        for j in range(q):
            S[i, j] = L[i, j]
    for k in range(1, q):
        if centre[k] != 0.0:
            for j in range(q):
                S[0, j] += centre[k] * L[k, j]
    Sig = np.empty((q, q))
    for i in range(q):
        for j in range(i + 1):
            s = 0.0
            for k in range(q):
                s += S[i, k] * S[j, k]
            Sig[i, j] = s
            Sig[j, i] = s
    return cholesky(Sig, q, M)


@numba.njit(**JIT)
def chol_backward(M, G, q):
    """Reverse mode of ``M = chol(Σ)``: ``G`` holds d/dM (lower) on entry and on return the
    derivative in the lower triangle of ``Σ`` (each off-diagonal element counted once; Murray
    2016, Algorithm ``chol_unblocked_rev``)."""
    for j in range(q - 1, -1, -1):
        d = M[j, j]
        s = 0.0
        for i in range(j + 1, q):
            s += M[i, j] * G[i, j]
        G[j, j] = (G[j, j] - s / d) / d
        for i in range(j + 1, q):
            G[i, j] /= d
        for k in range(j):
            G[j, k] -= G[j, j] * M[j, k]
            for i in range(j + 1, q):
                G[j, k] -= G[i, j] * M[i, k]
        for i in range(j + 1, q):
            for k in range(j):
                G[i, k] -= G[i, j] * M[j, k]
        G[j, j] *= 0.5


@numba.njit(**JIT)
def _sheared(centre, at, q):
    for k in range(q):
        if centre[at + k] != 0.0:
            return True
    return False


@numba.njit(**JIT)
def _covariance_at_centre(x, table, base, bm, centre, at, L, grad, Lbar):
    """Log prior of a correlated sheared term whose SDs and correlation rows in ``x`` are
    those of ``Σ' = A Σ A'`` (``L`` holds ``chol Σ'``), minus what
    :func:`hierbayes.density.effects.covariances` counted: the priors act on ``Σ``.

    The map ``Σ' -> Σ`` is linear with unit determinant, and ``(sd, Ω) -> Σ`` has Jacobian
    ``2^q Π sd_k^q``; ``det Ω = det Σ / Π sd_k²`` with ``det Σ = det Σ'``. Only the intercept's
    SD differs (``sd_0 = |row 0 of A⁻¹ L|``, the slopes' are the same), so the correction is
    ``log p(sd_0) - log p(sd'_0) - (2η - 2 + q)(log sd_0 - log sd'_0)``; the gradient in ``L``
    goes to ``Lbar``, in ``log sd'_0`` to ``grad``."""
    q, cov = bm[B_Q], bm[B_COV_AT]
    sd_priors = farr(table, base + P_PRIOR_SD)
    eta = farr(table, base + P_LKJ)[0]
    r = np.empty(q)
    s2 = 0.0
    for j in range(q):
        v = L[cov + j]
        for k in range(1, q):
            v -= centre[at + k] * L[cov + k * q + j]
        r[j] = v
        s2 += v * v
    log_sd = 0.5 * math.log(s2)
    pos = bm[B_OFF_SD]
    g = np.zeros(2)
    lp_sd, _ = log_prior_positive(sd_priors, 0, log_sd, g, 0)  # with + log sd_0
    lp_old, _ = log_prior_positive(sd_priors, 0, x[pos], g, 1)
    c = 2.0 * eta - 1.0 + q  # (2η - 2 + q) and the two log-scale Jacobians
    grad[pos] += -g[1] + c
    d_log_sd = g[0] - c
    for j in range(q):
        w = d_log_sd * r[j] / s2
        Lbar[cov + j] += w
        for k in range(1, q):
            Lbar[cov + k * q + j] -= centre[at + k] * w
    return lp_sd - lp_old - c * (log_sd - x[pos])


@numba.njit(**JIT)
def shear_forward(x, table, meta, L, grad, Lbar):
    """Sheared terms before the effects: a correlated one's prior correction
    (:func:`_covariance_at_centre`; its ``L`` is already ``chol Σ'``); an uncorrelated one's
    ``L`` replaced by ``M = chol(A L L' A')``. Returns the former ``L`` (a copy, for
    :func:`shear_backward`; empty when no term is sheared) and the log prior's correction. A
    factor that is not positive definite in floating point becomes NaN."""
    if meta[M_SHEAR] == 0:
        return np.empty(0), 0.0
    centre = farr(table, meta[M_SHEAR])
    Lraw = L.copy()
    lp = 0.0
    for b in range(meta[M_NBLOCKS]):
        base = N_GLOBAL + b * PER_BLOCK
        bm = iarr(table, base + P_META)
        q, cov, at = bm[B_Q], bm[B_COV_AT], bm[B_SD_AT]
        if not _sheared(centre, at, q):
            continue
        if bm[B_CORRELATED] == 1:
            lp += _covariance_at_centre(x, table, base, bm, centre, at, L, grad, Lbar)
            continue
        Lb = np.empty((q, q))
        for i in range(q):
            for j in range(q):
                Lb[i, j] = L[cov + i * q + j]
        S = np.empty((q, q))
        M = np.zeros((q, q))
        ok = shear_factor(Lb, centre[at : at + q], q, S, M)
        for i in range(q):
            for j in range(q):
                L[cov + i * q + j] = M[i, j] if ok else np.nan
    return Lraw, lp


@numba.njit(**JIT)
def shear_backward(table, meta, L, Lraw, Lbar):
    """Turn the adjoint of each sheared term's ``M`` (in ``Lbar``) into that of its ``L``
    (``Lraw``, from :func:`shear_forward`; ``L`` holds ``M``)."""
    if meta[M_SHEAR] == 0:
        return
    centre = farr(table, meta[M_SHEAR])
    for b in range(meta[M_NBLOCKS]):
        bm = iarr(table, N_GLOBAL + b * PER_BLOCK + P_META)
        q, cov, at = bm[B_Q], bm[B_COV_AT], bm[B_SD_AT]
        if not _sheared(centre, at, q) or bm[B_CORRELATED] == 1:
            continue
        M = np.empty((q, q))
        G = np.zeros((q, q))
        S = np.empty((q, q))
        for i in range(q):
            for j in range(q):
                M[i, j] = L[cov + i * q + j]
                S[i, j] = Lraw[cov + i * q + j]
            for j in range(i + 1):
                G[i, j] = Lbar[cov + i * q + j]
        for k in range(1, q):
            for j in range(q):
                S[0, j] += centre[at + k] * Lraw[cov + k * q + j]
        chol_backward(M, G, q)
        # symmetric adjoint of Σ' = S S': the lower triangle's off-diagonal elements halved
        for i in range(q):
            for j in range(i):
                G[i, j] *= 0.5
                G[j, i] = G[i, j]
        # S̄ = 2 Σ̄ S, then L̄ = A' S̄ (row k > 0 also gets centre_k times row 0)
        Sbar = np.zeros((q, q))
        for i in range(q):
            for j in range(q):
                s = 0.0
                for k in range(q):
                    s += G[i, k] * S[k, j]
                Sbar[i, j] = 2.0 * s
        for i in range(q):
            for j in range(q):
                value = Sbar[i, j]
                if i > 0:
                    value += centre[at + i] * Sbar[0, j]
                Lbar[cov + i * q + j] = value if j <= i else 0.0
