"""Starting points of the chains: the population part at its penalised mode, jittered on its own
scale.

The old rule (PyMC's): every unconstrained coordinate at its prior's centre plus a uniform ±1.
That jitter is blind to scale. A slope whose prior SD is 0.07 (height in metres on a log link)
starts up to 14 prior SDs out, and every non-centred effect at ±1 SD of its group. On a
log link the linear predictor is then off by tens, the Poisson rates by ``e^30``, and the
log-density at the start is ``-1e19``. Its gradient is so large that step-size adaptation
shrinks the step to nothing. A chain started there never leaves: it is not a second mode but a
numerical trap (the grouse ticks model: one chain of four at log-density ``-1.9e15`` for the
whole run, the others at ``-1509``).

:func:`starting_points` instead

* puts the group effects at the mode of their population distribution (0; the population
  value for hierarchically centred effects) without jitter, so no group starts far out,
* finds the penalised mode of the population coefficients given those effects (a GLM fit with
  the priors as the penalty, by L-BFGS on the kernel's own log-density and gradient), and
* jitters each chain's population coefficients by up to ±2 SDs of the Laplace approximation at
  that mode, and the log SDs, correlations and log residual SD by ±1 around their priors'
  centres, as before.
* jitters by up to ±0.5 only the group effects whose gradient is exactly zero at the start: a
  varying slope in a group where its column is all zero (Contraception's urban slope in the 15
  of 60 districts with no urban women) has no data, so at 0 its gradient is 0, and nutpie
  refuses a start with a zero in the gradient ("All initialization points failed").
* starts the SD of a partially centred factor (:mod:`hierbayes.density.partial_layout`) at or
  above its prior's centre (the jitter folded upwards) and each of its groups' free values at
  ``±sd^λ_j`` for that SD. Its density has a neck at ``sd -> 0``: along ``v = 0`` it grows like
  ``sd^(-Σ_j λ_j)``, with ``Σ_j λ_j = 294`` for guImmun's 1,595 mothers. A chain
  started below the prior's centre could slide into the neck in the first warm-up window and
  adapt its step size to it: guImmun, 300 warm-up steps, 4 chains, seeds 1-180, 8 of 720 chains
  ended the warm-up with log sd below -1 (down to -11.5; the posterior's is about 1), against 0
  of 720 with the folded start (``benchmarks/partial_start.py``).

This works for every family the kernel evaluates and costs a few dozen log-density evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from hierbayes.build.partial import PARTIAL
from hierbayes.density.dpar_layout import dpar_blocks
from hierbayes.density.layout import Layout
from hierbayes.density.pairs_layout import free_coordinates
from hierbayes.density.partial_layout import partial_start

__all__ = ["Start", "starting_points"]

THETA_JITTER = 2.0  # Laplace SDs
SCALE_JITTER = 1.0  # unconstrained units (log SDs, correlations, log sigma), as PyMC's
EMPTY_JITTER = 0.5  # unconstrained units: group effects without data in their column


@dataclass(frozen=True)
class Start:
    """Where chains start: ``centre`` plus, per chain, ``theta_chol @ U(-2, 2)`` on the
    population coefficients and ``U(-1, 1)`` on the coordinates in ``scale_jitter``.
    ``theta_map`` (``x = centre + A θ``, when given) moves hierarchically centred intercepts
    with the coefficients they hold, so the group effects start at zero in every chain."""

    centre: np.ndarray
    theta: slice
    theta_chol: np.ndarray
    scale_jitter: np.ndarray
    theta_map: np.ndarray | None = None
    empty_jitter: np.ndarray | None = None  # effects with a zero gradient at ``centre``
    expanded: np.ndarray | None = None  # signed scales of expanded SDs (density.expanded)
    partial: tuple = ()  # partially centred blocks (density.partial_layout)

    def draw(self, seed: int) -> np.ndarray:
        """The starting point of the chain seeded with ``seed``.

        Examples
        --------
        >>> import numpy as np
        >>> s = Start(np.zeros(3), slice(0, 1), np.eye(1), np.array([False, True, False]))
        >>> x = s.draw(1)
        >>> bool(abs(x[0]) <= 2 and abs(x[1]) <= 1 and x[2] == 0)
        True
        """
        rng = np.random.default_rng(seed)
        x = self.centre.copy()
        p = self.theta.stop - self.theta.start
        delta = self.theta_chol @ rng.uniform(-THETA_JITTER, THETA_JITTER, p)
        if self.theta_map is None:
            x[self.theta] += delta
        else:
            x += self.theta_map @ delta
        x += np.where(self.scale_jitter, rng.uniform(-SCALE_JITTER, SCALE_JITTER, x.size), 0.0)
        if self.empty_jitter is not None:  # drawn last: the other coordinates' draws unchanged
            x += np.where(self.empty_jitter, rng.uniform(-EMPTY_JITTER, EMPTY_JITTER, x.size), 0.0)
        if self.expanded is not None and self.expanded.any():  # drawn after: the rest unchanged
            factor = np.exp(rng.uniform(-SCALE_JITTER, SCALE_JITTER, x.size))
            x *= np.where(self.expanded, factor, 1.0)
        for bl in self.partial:  # the SD at or above its centre, away from the neck at sd = 0
            at = bl.sd.start
            x[at] = self.centre[at] + abs(x[at] - self.centre[at])
        return partial_start(self.partial, x) if self.partial else x


def _theta_map(layout: Layout) -> np.ndarray:
    """``A`` with ``x = centre + A θ``: θ itself, and the hierarchically centred effects
    ``μ_j = u_j + x_j θ`` (at ``u_j = 0``) moving with the fixed terms they hold."""
    p = layout.theta.stop - layout.theta.start
    A = np.zeros((layout.n_dim, p))
    A[layout.theta, :] = np.eye(p)
    for b in layout.blocks:
        if b.intercept_shift and b.effects is not None:
            J = len(b.block.levels)
            for a, (c, k) in enumerate(zip(b.shift_columns, b.shift_coefficients, strict=True)):
                at = b.effects.start + k * J
                A[at : at + J, c] += b.shift_values[:, a]
    return A


def starting_points(layout: Layout) -> Start:
    """Starting points for ``layout``'s chains (see the module docstring).

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> d = hb.datasets.load("grouseticks")
    >>> m = hb.Model("TICKS ~ HEIGHT + (1 | BROOD)", data=d, family="poisson")
    >>> s = starting_points(make_layout(m.design, m.prior_values, m.parameterization))
    >>> s.centre[:2].round(3).tolist()   # log mean count and slope of a Poisson GLM
    [1.545, -0.023]
    """
    base = np.array(layout.center, dtype=float)
    effects = np.zeros(layout.n_dim, dtype=bool)
    for b in (*layout.blocks, *dpar_blocks(layout)):  # an own parameter's terms too
        if b.effects is not None:
            effects[b.effects] = True
    base[effects] = 0.0
    p = layout.theta.stop - layout.theta.start
    scale_jitter = ~effects
    scale_jitter[layout.theta] = False
    # the data-free coordinate of a rotated pair (density.pairs) has gradient 0 at 0, which
    # nutpie refuses as a start: it starts at U(-1, 1), as the other scale parameters
    scale_jitter[free_coordinates(layout.arrays)] = True
    # an expanded SD's coordinate is the signed scale s itself, not log sd: it is jittered by
    # the same factor e^U(-1, 1) as a log SD is, so its start does not depend on y's units
    expanded = np.zeros(layout.n_dim, dtype=bool)
    for b in layout.blocks:
        for k, how in enumerate(b.choice):
            if how == "expanded":
                expanded[b.sd.start + k] = True
    scale_jitter &= ~expanded
    partial = tuple(b for b in layout.blocks if b.choice == (PARTIAL,) and b.effects is not None)
    if p == 0:
        centre = partial_start(partial, base)
        empty = _empty_effects(layout, centre, effects)
        return Start(
            centre, layout.theta, np.zeros((0, 0)), scale_jitter, None, empty, expanded, partial
        )
    A = _theta_map(layout)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = layout.logp_grad(base + A @ theta)
        if not np.isfinite(value):
            return np.inf, np.zeros(p)
        return -value, -(A.T @ grad)

    theta0 = np.array(base[layout.theta])
    # L-BFGS-B's small matrix steps gain nothing from BLAS threads; their start-up and
    # spinning cost more CPU than the search itself (see _blas_controller)
    with _blas_controller().limit(limits=1, user_api="blas"):
        result = minimize(objective, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
        f0, g0 = objective(theta0)
        improved = np.isfinite(result.fun) and result.fun <= f0
        theta = result.x if improved else theta0
        if np.isfinite(f0) and not result.fun < f0 and np.max(np.abs(g0)) > _STUCK_GRADIENT:
            theta = _scaled_search(objective, theta0, f0, g0)
        chol = _laplace_chol(objective, theta)
    centre = partial_start(layout.blocks, base + A @ theta)  # density.partial_layout
    return Start(
        centre,
        layout.theta,
        chol,
        scale_jitter,
        A,
        _empty_effects(layout, centre, effects),
        expanded,
        partial,
    )


# a start whose largest gradient component is above this has not reached the mode
_STUCK_GRADIENT = 1e-3


def _scaled_search(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta0: np.ndarray,
    f0: float,
    g0: np.ndarray,
) -> np.ndarray:
    """L-BFGS-B again, on coordinates scaled by ``1 / max(1, |gradient at theta0|)``, for a
    search that made no progress from ``theta0``; ``theta0`` if this makes none either.

    L-BFGS-B's first step has length one in its coordinates. With a predictor in large units
    (a height in metres) the gradient of its coefficient is in the hundreds and that step moves
    the linear predictor by hundreds: where the group effects are integrated out by Laplace,
    the log-density is then not finite (no mode of the effects), the line search gives up, and
    the search used to stop at its start with the population coefficients at zero. On the
    scaled coordinates the first step moves each coefficient by at most its share of the
    gradient.
    """
    scale = 1.0 / np.maximum(1.0, np.abs(g0))

    def scaled(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(theta0 + scale * z)
        return value, grad * scale

    result = minimize(
        scaled, np.zeros_like(theta0), jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    if np.isfinite(result.fun) and result.fun < f0:
        return theta0 + scale * result.x
    return theta0


def _empty_effects(layout: Layout, centre: np.ndarray, effects: np.ndarray) -> np.ndarray | None:
    """The group effects whose gradient is exactly zero at ``centre`` (no data in their column
    within their group), or ``None``."""
    _, grad = layout.logp_grad(centre)
    empty = effects & (np.asarray(grad) == 0.0)
    return empty if empty.any() else None


@cache
def _blas_controller() -> ThreadpoolController:
    """The process's BLAS thread pools, found once (finding them takes milliseconds; limiting
    them then takes microseconds).

    With OpenBLAS's default of one thread per core, the starting-point search of a small model
    cost about 4 ms per L-BFGS-B step in thread synchronisation, 40% of a 2-chain refit's CPU
    time on 2 cores, against well under a millisecond on one thread.
    """
    return ThreadpoolController()


def _laplace_chol(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]], theta: np.ndarray
) -> np.ndarray:
    """Cholesky factor of the inverse Hessian of ``objective`` at ``theta`` (central differences
    of its gradient); a diagonal fallback where that is not positive definite."""
    p = theta.size
    H = np.empty((p, p))
    for k in range(p):
        h = 1e-5 * max(1.0, abs(theta[k]))
        e = np.zeros(p)
        e[k] = h
        H[:, k] = (objective(theta + e)[1] - objective(theta - e)[1]) / (2 * h)
    H = 0.5 * (H + H.T)
    try:
        if not np.all(np.isfinite(H)):
            raise np.linalg.LinAlgError("non-finite Hessian")
        return np.linalg.cholesky(np.linalg.inv(H))
    except np.linalg.LinAlgError:
        diag = np.nan_to_num(np.diag(H), nan=0.0, posinf=0.0, neginf=0.0)
        return np.diag(np.where(diag > 0, 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0)), 1.0))
