"""One grouping factor's effects integrated out by adaptive Gauss-Hermite quadrature (lme4's
``nAGQ``; Liu & Pierce 1994, Pinheiro & Bates 1995), for a factor with one varying coefficient
(``q = 1``) and a family concave in ``η``.

The factor's groups are those of :mod:`hierbayes.density.laplace`: ``f_g(z) = Σ_{i ∈ g}
ℓ_i(η0_i + Z_i l z) - ½ z²`` with ``z ~ N(0, 1)`` and ``l`` the factor's SD; its mode ``z*_g`` and
curvature ``H_g = -f_g''(z*_g)`` are found by the same Newton solve. With the ``K`` nodes ``x_k``
and weights ``w_k`` of Gauss-Hermite quadrature for the weight ``exp(-x²/2)`` (``Σ w_k = √(2π)``),
``ω_k = w_k / √(2π)``, and ``z_k = z*_g + x_k / √H_g``,

    log ∫ exp(f_g(z)) dz / √(2π)  ≈  V_g = log Σ_k ω_k exp(f_g(z_k) + x_k²/2) - ½ log H_g,

exact when ``exp(f_g(z) + ½ H (z - z*)²)`` is a polynomial of degree below ``2K`` in ``z``; one
node (``x = 0``, ``ω = 1``) is the Laplace value ``f_g(z*) - ½ log H_g``.

The gradient is that of ``V_g`` itself (not the Fisher identity's approximation of it): with
``π_k`` the normalised terms of the sum, ``A = Σ π_k f'(z_k)``, ``X = Σ π_k f'(z_k) x_k``,
``c = ½ (X H^{-3/2} + H⁻¹)`` and ``v = (A - c ∂H/∂z) / H``, the implicit function theorem
(``dz*/dθ = H⁻¹ ∂f'/∂θ``) gives for any parameter ``θ``

    dV/dθ = Σ_k π_k ∂f/∂θ (z_k) - c ∂H/∂θ + v ∂f'/∂θ      (the last two at z*),

which for one node is :mod:`hierbayes.density.laplace`'s gradient (``A = X = 0``, ``c = ½ H⁻¹``).
So, row by row and for the SD,

    dV/dη0_i = Σ_k π_k ℓ'_i(η_ik) + c l² Z_i² ℓ'''_i + v l Z_i ℓ''_i,
    dV/dl    = Σ_i Z_i Σ_k π_k ℓ'_i(η_ik) z_k + z* Σ_i Z_i (c l² Z_i² ℓ'''_i + v l Z_i ℓ''_i)
               + 2 c l B + v D,         B = Σ_i ℓ''_i Z_i²,  D = Σ_i ℓ'_i Z_i,

and the family's own parameters get ``Σ_k π_k ∂ℓ/∂θ`` at the nodes plus the Laplace code's
central differences of ``ℓ'``, ``ℓ''`` at the mode. ``K`` more passes over the rows than the
Laplace approximation.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.agq_rows import node_rows
from hierbayes.density.codes import (
    A_MCODES,
    A_MZ,
    A_TRIALS,
    A_WEIGHTS,
    A_Y,
    JIT,
    M_AGQ,
    M_FAMILY,
    M_LAP_J,
    M_NOBS,
    M_ORDERED,
)
from hierbayes.density.laplace import (
    _factor_lbar,
    _own_parameters,
    factor_cholesky,
    group_modes,
    rows_at,
)
from hierbayes.density.table import farr, iarr
from hierbayes.families.dispatch import loglik_grad

__all__ = ["AGQ_NODES", "agq_excess", "agq_loglik", "agq_nodes"]

AGQ_NODES = 11
"""Quadrature nodes per group of ``parameterization="agq"`` (lme4's ``nAGQ``; it allows up to
25). Eleven nodes integrate bernoulli groups of one to five rows at an SD of 3 to an error below
5e-5 of a group's log-likelihood (nine: 1e-4, Laplace: 4e-2; ``tests/density/test_agq.py``);
each node costs one pass over the rows."""


def agq_nodes(k: int) -> np.ndarray:
    """The table's array of ``k`` nodes: ``[x_1..x_k, log ω_1 + x_1²/2, ..]`` (probabilists'
    Gauss-Hermite nodes, normalised weights).

    Examples
    --------
    >>> a = agq_nodes(3)
    >>> a[:3].round(4).tolist()
    [-1.7321, 0.0, 1.7321]
    >>> bool(np.isclose(np.exp(a[3:] - a[:3] ** 2 / 2).sum(), 1.0))
    True
    >>> agq_nodes(1).tolist()  # one node: the Laplace approximation
    [0.0, 0.0]
    """
    x, w = np.polynomial.hermite_e.hermegauss(k)
    return np.concatenate([x, np.log(w / math.sqrt(2.0 * math.pi)) + 0.5 * x * x])


@numba.njit(**JIT)
def _node_pass(code, y, eta0, trials, weights, theta, codes, Z, LF, J, zk, eta, ll, d1, fk):
    """Rows at the node ``zk`` (J): ``ℓ``, ``ℓ'`` into ``ll``, ``d1``; ``f_g(z_k)`` into ``fk``.

    A group whose rows are not finite at the node (``η`` overflowing far out in the tails) gets
    ``f_g = -inf``, the node's weight 0 (its contribution ``exp(f_g)`` underflows), and ``ℓ'`` 0
    on its rows, so that it adds nothing to the value or the gradient. Always True (the node at
    the mode is finite wherever the mode was found)."""
    n = eta0.shape[0]
    rows_at(eta0, codes, Z, LF, zk, 1, eta)
    node_rows(code, y, eta, trials, weights, theta, ll, d1)
    for g in range(J):
        fk[g] = -0.5 * zk[g] * zk[g]
    for i in range(n):
        fk[codes[i]] += ll[i]
        if not (math.isfinite(ll[i]) and math.isfinite(d1[i])):
            fk[codes[i]] = -math.inf
    for i in range(n):
        if not math.isfinite(fk[codes[i]]):
            fk[codes[i]] = -math.inf
            d1[i] = 0.0
    return True


@numba.njit(**JIT)
def _finite_mode(f, d1):
    """Whether the rows at the modes are finite (then they are the node ``x = 0``)."""
    for g in range(f.shape[0]):
        if not math.isfinite(f[g]):
            return False
    for i in range(d1.shape[0]):
        if not math.isfinite(d1[i]):
            return False
    return True


@numba.njit(**JIT)
def agq_excess(nodes, n, J, code, y, eta0, trials, weights, theta, codes, Z, LF, z, f, B):
    """``Σ_g (V_g - Laplace_g) = Σ_g log Σ_k ω_k exp(f_g(z_k) - f_g(z*) + x_k²/2)`` with the
    ``nodes`` of :func:`agq_nodes`, at modes ``z`` (``f``, ``B`` of
    :func:`~hierbayes.density.laplace.group_modes`); NaN where a node's rows are not finite.
    The quadrature's check (:mod:`hierbayes.density.agq_check`) compares two numbers of nodes."""
    K = nodes.shape[0] // 2
    l2 = LF[0, 0] * LF[0, 0]
    zk = np.empty(J)
    fk = np.empty((K, J))
    eta = np.empty(n)
    ll = np.empty(n)
    d1 = np.empty(n)
    for k in range(K):
        for g in range(J):
            zk[g] = z[g] + nodes[k] / math.sqrt(1.0 - l2 * B[g])
        if not _node_pass(
            code, y, eta0, trials, weights, theta, codes, Z, LF, J, zk, eta, ll, d1, fk[k]
        ):
            return np.nan
    total = 0.0
    for g in range(J):
        top = -np.inf
        for k in range(K):
            top = max(top, fk[k, g] + nodes[K + k])
        acc = 0.0
        for k in range(K):
            acc += math.exp(fk[k, g] + nodes[K + k] - top)
        total += top + math.log(acc) - f[g]
    return total


@numba.njit(**JIT)
def agq_loglik(table, meta, L, theta, eta, tbar, Lbar):
    """Σ over the factor's groups of the quadrature marginal log-likelihood ``V_g`` (without
    the family's constant), given ``η`` without the factor (``η0``); as
    :func:`~hierbayes.density.laplace.laplace_loglik`, ``η`` is overwritten with ``d/dη0``,
    ``d/dθ`` of the family's own parameters is added to ``tbar`` and ``d/dL`` to ``Lbar``."""
    n, J, code = meta[M_NOBS], meta[M_LAP_J], meta[M_FAMILY]
    y = farr(table, A_Y)
    trials = farr(table, A_TRIALS)
    weights = farr(table, A_WEIGHTS)
    codes = iarr(table, A_MCODES)
    Z = farr(table, A_MZ)
    nodes = farr(table, meta[M_AGQ])
    K = nodes.shape[0] // 2
    LF = factor_cholesky(table, meta, L)
    lf = LF[0, 0]
    z = np.zeros(J)
    eta0 = eta.copy()
    ok, f, D, B, _, d1, d2, d3, etaf = group_modes(
        code, y, eta0, trials, weights, theta, codes, Z, LF, 1, J, z
    )
    intercept = Z.shape[0] == 0
    r = np.empty(J)  # H^{-1/2}
    dHdz = np.zeros(J)  # ∂H/∂z at the mode: -l³ Σ ℓ''' Z³
    if ok:
        for g in range(J):
            H = 1.0 - lf * lf * B[g]
            if not H > 0.0:
                ok = False
                break
            r[g] = 1.0 / math.sqrt(H)
    if not ok:
        for i in range(n):
            eta[i] = 0.0
        return -math.inf
    for i in range(n):
        zi = 1.0 if intercept else Z[i]
        dHdz[codes[i]] -= lf * lf * lf * d3[i] * zi * zi * zi
    # the nodes: f_g(z_k) and each row's ℓ'(η_ik)
    zk = np.empty((K, J))
    fk = np.empty((K, J))
    d1k = np.empty((K, n))
    etak = np.empty(n)
    ll = np.empty(n)
    for k in range(K):
        for g in range(J):
            zk[k, g] = z[g] + nodes[k] * r[g]
        if nodes[k] == 0.0 and _finite_mode(f, d1):  # the mode: its rows are at hand
            for g in range(J):
                fk[k, g] = f[g]
            for i in range(n):
                d1k[k, i] = d1[i]
            continue
        if not _node_pass(
            code, y, eta0, trials, weights, theta, codes, Z, LF, J, zk[k], etak, ll, d1k[k], fk[k]
        ):
            for i in range(n):
                eta[i] = 0.0
            return -math.inf
    # f'(z_k) = l Σ ℓ'(η_ik) Z_i - z_k
    fp = np.zeros((K, J))
    for k in range(K):
        for i in range(n):
            zi = 1.0 if intercept else Z[i]
            fp[k, codes[i]] += lf * d1k[k, i] * zi
        for g in range(J):
            fp[k, g] -= zk[k, g]
    pi = np.empty((K, J))
    c = np.empty(J)
    v = np.empty(J)
    F = 0.0
    for g in range(J):
        top = -np.inf
        for k in range(K):
            top = max(top, fk[k, g] + nodes[K + k])
        acc = 0.0
        for k in range(K):
            pi[k, g] = math.exp(fk[k, g] + nodes[K + k] - top)
            acc += pi[k, g]
        if not math.isfinite(top):  # no finite node (an even number of nodes far out)
            for i in range(n):
                eta[i] = 0.0
            return -math.inf
        F += top + math.log(acc) + math.log(r[g])
        A = 0.0
        X = 0.0
        for k in range(K):
            pi[k, g] /= acc
            A += pi[k, g] * fp[k, g]
            X += pi[k, g] * fp[k, g] * nodes[k]
        c[g] = 0.5 * (X * r[g] ** 3 + r[g] * r[g])
        v[g] = (A - c[g] * dHdz[g]) * r[g] * r[g]
    # rows: dV/dη0_i; the SD: dV/dl
    lbar = 0.0
    s = np.empty(n)
    t = np.empty(n)
    for i in range(n):
        g = codes[i]
        zi = 1.0 if intercept else Z[i]
        quad = 0.0
        quadz = 0.0
        for k in range(K):
            quad += pi[k, g] * d1k[k, i]
            quadz += pi[k, g] * d1k[k, i] * zk[k, g]
        s[i] = 2.0 * c[g] * lf * lf * zi * zi  # as the Laplace code's s_i, t_i
        t[i] = v[g] * lf * zi
        mode = 0.5 * s[i] * d3[i] + t[i] * d2[i]
        eta[i] = quad + mode
        lbar += zi * (quadz + z[g] * mode)
    for g in range(J):
        lbar += 2.0 * c[g] * lf * B[g] + v[g] * D[g]
    LFbar = np.zeros((1, 1))
    LFbar[0, 0] = lbar
    _factor_lbar(table, meta, LFbar, Lbar)
    if theta.shape[0] > 0:
        has_w = weights.shape[0] > 0
        wk = np.empty(n)
        for k in range(K):  # Σ_k π_k ∂ℓ/∂θ at the nodes: the rows weighted by their group's π_k
            rows_at(eta0, codes, Z, LF, zk[k], 1, etak)
            for i in range(n):
                wk[i] = pi[k, codes[i]] * (weights[i] if has_w else 1.0)
                if wk[i] == 0.0:  # a node of weight 0 may lie where the row overflows
                    etak[i] = etaf[i]
            loglik_grad(code, y, etak, trials, wk, theta, tbar)
        _own_parameters(code, y, etaf, trials, weights, theta, meta[M_ORDERED] == 1, s, t, tbar)
    return F
