"""Each chain's start nudged so that nutpie's first mass matrix cannot give a standardised group
effect an enormous variance.

nutpie's first diagonal mass matrix gives each coordinate the variance (inverse mass)
``1 / |∂ log p / ∂x_i|`` at the starting point, clamped only to ``[1e-20, 1e20]``
(nuts-rs ``update_diag_grad``). Non-centred group effects ``z`` start at their prior's mode 0,
and among hundreds of them some gradient is always near zero: on mlmRev's guImmun (161
communities), one community's gradient was ``2.5e-4`` in one of seed 1's four starts, a first
variance of 4,000 for a coordinate whose posterior SD is below 1. The first trajectory threw it
several units, the second diverged at its first step, the step size fell to ``1e-4``, and the
next eleven trajectories ran into the tree-depth limit (1,023 leapfrog steps each) before the
adaptation recovered: over seeds 1-6, a chain's first 25 warm-up draws took 2,170-15,620
leapfrog steps, the steps of 90-680 later draws.

:func:`floor_gradients` moves every non-centred effect whose gradient at the start is smaller
than :data:`FLOOR` by :data:`FLOOR` away from its conditional mode (against its gradient). Its
prior ``N(0, 1)`` alone curves the log-density by ``-1``, and a log-concave likelihood (logit,
probit, log links of the binomial, Poisson and negative binomial families) only adds to that
curvature, so the move raises the gradient's size by at least :data:`FLOOR`: nutpie's first
variance for the effect is at most ``1 / FLOOR = 10``, a few times a standardised effect's prior
variance. The move is at most :data:`FLOOR` (a tenth of the prior SD) per round, and only for
the effects that need it; effects of crossed factors share rows, so the check runs again after
each move (at most :data:`ROUNDS` times). Centred and partially centred effects keep their start
(their scale is the group SD's, and partially centred ones start away from the neck at
``sd = 0``, :mod:`hierbayes.density.partial_layout`); so do the population parameters, which
start jittered around their penalised mode (:mod:`hierbayes.density.start`).

Terms with a correlation or sampled sheared (:mod:`hierbayes.density.shear`) keep the old start
too. On the binomial model of MASS's OME with ``(1 + Loud | ID)`` (Loud not centred, so the term
is sheared; the slope's SD about 0.001, so its effects have next to no gradient anywhere), the
floor changed which seeds fail: with default settings, seeds 3-14, R-hat over 1.01 at 2 of 12
(1.019 and 1.125) with it and at none of 12 without. A larger move (each effect within a tenth
of a conditional SD of its conditional mode to one SD from it) had left the probit version of
that model stuck at a seed where it mixed without the move. Those fits fail at some seeds
either way: a chain that enters the funnel of the sheared coordinates near an intercept SD of 0
at Loud = 0 stays there (README, "Slopes far from 0"), and which chain enters it depends on its
start. Such terms are left as they were until their coordinates lose that funnel; the floor is
then worth measuring on them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hierbayes.density.dpar_layout import dpar_blocks
from hierbayes.density.layout import Layout

__all__ = ["FLOOR", "ROUNDS", "FlooredStart", "floor_gradients", "standardised_effects"]

FLOOR = 0.1
"""Smallest gradient size a non-centred effect starts with (its first variance at most 10)."""
ROUNDS = 3
"""Most moves of one start (effects of crossed factors change each other's gradients)."""


def standardised_effects(layout: Layout) -> np.ndarray:
    """Mask of ``layout``'s coordinates that are non-centred group effects (prior ``N(0, 1)``) of
    terms without a correlation and not sheared, of the mean's terms and of an own parameter's.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"),
    ...              parameterization="noncentered")
    >>> int(standardised_effects(make_layout(m.design, m.prior_values, m.parameterization)).sum())
    18
    """
    mask = np.zeros(layout.n_dim, dtype=bool)
    for block in (*layout.blocks, *dpar_blocks(layout)):
        if block.effects is None or block.corr is not None or block.centre is not None:
            continue  # integrated out, or left as they were (see the module docstring)
        J = len(block.block.levels)
        for k, how in enumerate(block.choice):
            if how == "noncentered":
                at = block.effects.start + k * J
                mask[at : at + J] = True
    return mask


def floor_gradients(layout: Layout, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``x`` with each coordinate in ``mask`` whose gradient is smaller than :data:`FLOOR` moved
    by :data:`FLOOR` against its gradient, for at most :data:`ROUNDS` rounds (see the module
    docstring); the other coordinates unchanged. A move that would make the log-density or its
    gradient non-finite is not made, nor is any move from a start where they are not finite.
    ``x`` or ``mask`` of another length than ``layout.n_dim`` is refused with a ``ValueError``
    (the kernel reads ``n_dim`` values without checking).

    Examples
    --------
    With an SD of 1e-4 across subjects the data hardly move a non-centred effect from 0, where
    each starts: its gradient there is about 0, and each moves a tenth away from 0.

    >>> import numpy as np, hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"),
    ...              parameterization="noncentered")
    >>> layout = make_layout(m.design, m.prior_values, m.parameterization)
    >>> x = np.zeros(layout.n_dim)
    >>> x[layout.theta] = [298.5, 10.5]
    >>> x[layout.sigma] = np.log(30.0)
    >>> x[layout.blocks[0].sd] = np.log(1e-4)
    >>> z = layout.blocks[0].effects
    >>> moved = floor_gradients(layout, x, standardised_effects(layout))
    >>> bool(np.allclose(np.abs(moved[z]), 0.1))
    True
    """
    x = np.array(x, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if x.shape != (layout.n_dim,) or mask.shape != (layout.n_dim,):
        raise ValueError(
            f"floor_gradients needs a point and a mask of the model's {layout.n_dim} "
            f"unconstrained coordinates; got shapes {x.shape} and {mask.shape}"
        )
    if not mask.any():
        return x
    value, grad = layout.logp_grad(x)
    if not _finite(value, grad):
        return x
    for _ in range(ROUNDS):
        low = mask & (np.abs(grad) < FLOOR)
        if not low.any():
            break
        moved = x.copy()
        moved[low] += np.where(grad[low] > 0.0, -FLOOR, FLOOR)  # away from the mode
        value, new_grad = layout.logp_grad(moved)
        if not _finite(value, new_grad):
            break
        x, grad = moved, np.asarray(new_grad)
    return x


@dataclass(frozen=True)
class FlooredStart:
    """nutpie's initial-point function: ``draw(seed)`` passed through :func:`floor_gradients`
    (a plain object, so a compiled model pickles as it did with ``draw`` alone).

    Examples
    --------
    >>> import numpy as np, hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> from hierbayes.density.start import starting_points
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> layout = make_layout(m.design, m.prior_values, m.parameterization)
    >>> start = FlooredStart(layout, starting_points(layout).draw, standardised_effects(layout))
    >>> start(1).shape == (layout.n_dim,)
    True
    """

    layout: Layout
    draw: Callable[[int], np.ndarray]
    mask: np.ndarray

    def __call__(self, seed: int) -> np.ndarray:
        return floor_gradients(self.layout, self.draw(seed), self.mask)


def _finite(value: float, grad: np.ndarray) -> bool:
    return bool(np.isfinite(value) and np.all(np.isfinite(grad)))
