"""Group effects moved, at each chain's start, to where nutpie's first mass matrix fits them.

nutpie's first diagonal mass matrix gives each coordinate the variance (inverse mass)
``1 / |∂ log p / ∂x_i|`` at the starting point. For a gaussian conditional that is the
conditional variance when the coordinate starts one unit from its conditional mode; a
coordinate whose gradient is near zero gets an enormous variance, and with a thousand group
effects at the start some gradient is always near zero. On
guImmun (161 communities, non-centred, starting at ``z = 0``), one community's gradient was
``2.5e-4`` in one of seed 1's four starts and ``4.8e-4`` in another, starting variances of
2,000-4,000. In the chain studied, the first trajectory threw such effects several units, the
second diverged at its first step, the step size fell to ``1e-4`` and the next eleven
trajectories ran into the tree-depth limit (1,023 leapfrog steps each) before the adaptation
recovered. Over seeds 1-6, the first 25 warm-up draws of a chain took 2,170-15,620 leapfrog
steps (the steps of about 90-680 later draws), up to two fifths of that chain's warm-up; the
grouse ticks model lost 22,000 steps in one chain this way.

:func:`settle_effects` moves each group effect that starts within a tenth of a conditional SD
of its conditional mode (Newton's estimate from the gradient and the curvature), where nutpie's
first variance for it is more than ten times its conditional SD, to one conditional SD from
that mode, on the side where it was. Its gradient then has the size of its conditional
precision's square root, and nutpie's first variance for it is its conditional SD: about one
for a standardised effect, not thousands. The other effects stay where they are. Moving every
effect within one SD of its mode cut the guImmun warm-up as much, but the short runs of small
models diverged more often: in simulation-based calibration of a binomial probit model (8
groups of 6 rows, 2 chains of 150 warm-up draws and 150 draws, 50 refits at each of seeds 7-9),
11 refits of 150 had a divergent transition or R-hat over 1.2, against 5 with the old start and
1 with the rule above. Partially centred effects keep their own start
(:mod:`hierbayes.density.start`): moved, a chain of guImmun's 120 seeds x 4 ended its warm-up in
the neck at ``sd = 0`` (1 of 480; none of 480 when they are left).

The curvature comes from central differences of the gradient along one coefficient of one
group term at a time: two groups of one factor never share a row, and are independent given
their SD, so the Hessian within such a run is diagonal and one pair of gradients gives all of
it. That is two gradients per coefficient of each group term, plus one per move.
"""

from __future__ import annotations

import numpy as np

from hierbayes.build.partial import PARTIAL
from hierbayes.density.dpar_layout import dpar_blocks
from hierbayes.density.layout import BlockLayout, Layout

__all__ = ["NEAR", "settle_effects"]

STEP = 1e-5  # central-difference step, relative to max(1, |x_i|)
NEAR = 0.1  # conditional SDs from the conditional mode within which an effect is moved


def settle_effects(layout: Layout, x: np.ndarray) -> np.ndarray:
    """``x`` with every group effect that lies within :data:`NEAR` conditional SDs of its
    conditional mode moved to one SD from it (see the module docstring); the rest of ``x``
    unchanged.

    A move that would make the log-density or its gradient non-finite is not made. ``x`` of
    another length than ``layout.n_dim`` is refused with a ``ValueError``.

    Examples
    --------
    With an SD of 1e-4 across subjects, the data hardly move a non-centred effect ``z`` from
    its prior's mode 0, where every effect starts; each is moved to one SD (1) from it:

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
    >>> np.abs(settle_effects(layout, x)[z]).round(3).tolist() == [1.0] * 18
    True
    """
    x = np.array(x, dtype=float)
    if x.shape != (layout.n_dim,):  # the kernel reads n_dim values, unchecked
        raise ValueError(
            f"settle_effects needs a point of the model's {layout.n_dim} unconstrained "
            f"coordinates; got shape {x.shape}"
        )
    value, grad = layout.logp_grad(x)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return x
    for block in (*layout.blocks, *dpar_blocks(layout)):
        for run in _coefficient_runs(block):
            moved = _settled(layout, x, grad, run)
            if moved is None:
                continue
            value, new_grad = layout.logp_grad(moved)
            if np.isfinite(value) and np.all(np.isfinite(new_grad)):
                x, grad = moved, new_grad
    return x


def _coefficient_runs(block: BlockLayout) -> list[slice]:
    """The positions of each coefficient's ``J`` group effects (none when integrated out, or
    partially centred: those start at ``±sd^λ_j``, away from the neck at ``sd = 0``,
    :func:`hierbayes.density.partial_layout.partial_start`)."""
    if block.effects is None or block.choice == (PARTIAL,):
        return []
    J = len(block.block.levels)
    start, stop = block.effects.start, block.effects.stop
    return [slice(at, at + J) for at in range(start, stop, J)]


def _settled(layout: Layout, x: np.ndarray, grad: np.ndarray, run: slice) -> np.ndarray | None:
    """``x`` with the effects in ``run`` that lie within :data:`NEAR` conditional SDs of their
    conditional mode moved to one SD from it; None when none does or the curvature cannot be
    had."""
    step = STEP * np.maximum(1.0, np.abs(x[run]))
    up, down = x.copy(), x.copy()
    up[run] += step
    down[run] -= step
    _, g_up = layout.logp_grad(up)
    _, g_down = layout.logp_grad(down)
    h = -(g_up[run] - g_down[run]) / (2.0 * step)  # conditional precisions
    g = grad[run]
    usable = np.isfinite(h) & (h > 0.0)
    sd = 1.0 / np.sqrt(np.where(usable, h, 1.0))
    near = usable & (np.abs(g) * sd < NEAR)  # |x - mode| = |g| / h < NEAR sd
    if not near.any():
        return None
    side = np.where(g > 0.0, -1.0, 1.0)  # x - mode has the sign of -g
    mode = x[run] + g * sd**2
    out = x.copy()
    out[run] = np.where(near, mode + side * sd, x[run])
    return out
