"""The forward and reverse passes of one coefficient's partially centred effects (one weight
``λ_j`` in [0, 1] per group), for :func:`hierbayes.density.effects.effects_forward` and
:func:`~hierbayes.density.effects.effects_backward`.

Group ``j``'s free value ``v_j`` gives (Papaspiliopoulos, Roberts & Sköld 2003; the
"VIP" form of Gorinova, Moore & Hoffman 2020; conditional mean 0, scale ``s = L_00``)::

    u_j = s^(1 - λ_j) v_j,    ζ_j = u_j / s = v_j / s^λ_j,
    log density of v_j:  -ζ_j² / 2 - λ_j log s - log(2π) / 2,

so ``λ_j = 1`` is the centred form (``v = u``) and ``λ_j = 0`` the non-centred one
(``v = z``); any fixed weights are an exact reparameterisation. The weights come from the
data (:func:`hierbayes.build.partial.group_weights`): ``τ² I_j / (1 + τ² I_j)``, the optimum
for a gaussian likelihood with precision ``I_j`` about the group's effect.

Examples
--------
>>> import numpy as np
>>> x, lam = np.array([0.5, -1.0]), np.array([0.0, 1.0])
>>> L, U, Zeta = np.array([2.0]), np.zeros(2), np.zeros(2)
>>> lp = partial_forward(x, 2, 0, 0, 0, lam, L, U, Zeta)
>>> U.tolist(), Zeta.tolist()   # group 0 non-centred (u = s v), group 1 centred (u = v)
([1.0, -1.0], [0.5, -0.5])
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import JIT, LOG_2PI

LEVELS = 64
"""The weights are multiples of ``1 / LEVELS``
(:func:`hierbayes.density.partial_layout.block_weights` rounds them): any fixed weights are
exact, and a gradient then takes ``LEVELS + 1`` powers of ``s`` (on guImmun's 1,595 mothers, 16
µs of CPU a gradient against 13 non-centred; one exponential per group took 23)."""

# the sums over groups: reassociated, so that the loops vectorise
_SUMS = {**JIT, "fastmath": {"reassoc", "contract"}}


@numba.njit(**JIT)
def _powers(log_s, out):
    """``out[k] = s^(-k / LEVELS)`` for ``k = 0..LEVELS``: the weights are multiples of
    ``1 / LEVELS``, so a gradient takes ``LEVELS + 1`` exponentials, not one per group."""
    for k in range(LEVELS + 1):
        out[k] = math.exp(-(k / LEVELS) * log_s)


@numba.njit(**_SUMS)
def partial_forward(x, J, at, off, cov, lam, L, U, Zeta):
    """Effects ``U[at:at + J]`` and ``ζ`` (``Zeta[at:]``) of one coefficient's ``J`` partially
    centred free values ``x[off:off + J]`` with weights ``lam`` (multiples of ``1 / LEVELS``);
    returns their log prior."""
    lkk = L[cov]
    log_s = math.log(lkk)
    powers = np.empty(LEVELS + 1)
    _powers(log_s, powers)
    v = x[off : off + J]
    u = U[at : at + J]
    zeta = Zeta[at : at + J]
    squares = 0.0
    weight = 0.0
    for j in range(J):
        a = lam[j]
        z = v[j] * powers[int(a * LEVELS + 0.5)]  # v / s^λ
        zeta[j] = z
        u[j] = lkk * z  # s^(1 - λ) v
        squares += z * z
        weight += a
    return -0.5 * squares - weight * log_s - 0.5 * LOG_2PI * J


@numba.njit(**_SUMS)
def partial_backward(grad, J, at, off, cov, lam, L, Zeta, Ubar, Lbar):
    """Adjoints of :func:`partial_forward` given ``Ubar`` (d log-likelihood / d u): to the free
    values (added to ``grad[off:off + J]``) and to ``L_00`` (added to ``Lbar[cov]``)."""
    lkk = L[cov]
    powers = np.empty(LEVELS + 1)
    _powers(math.log(lkk), powers)
    g = grad[off : off + J]
    zeta = Zeta[at : at + J]
    ubar = Ubar[at : at + J]
    lbar = 0.0
    for j in range(J):
        a = lam[j]
        z = zeta[j]
        # d u / d v = s^(1 - λ), d ζ / d v = s^-λ; d u / d s = (1 - λ) ζ, d ζ / d s = -λ ζ / s
        g[j] += (ubar[j] * lkk - z) * powers[int(a * LEVELS + 0.5)]
        lbar += ubar[j] * (1.0 - a) * z + a * (z * z - 1.0) / lkk
    Lbar[cov] += lbar
