"""How nutpie adapts its diagonal mass matrix: from the gradients (its default) or, for binary
data whose groups mostly hold one or two rows all at the same bound, from the draws' variances
as Stan does.

nutpie's default sets each coordinate's scale to ``sqrt(Var(x) / Var(∂ log p / ∂x))``: for a
gaussian posterior, the geometric mean of the coordinate's marginal and conditional SDs. That is
right for a coordinate whose marginal and conditional spreads agree, and too small for one that
the other coordinates pin down. A group SD over a bernoulli factor of many one- or two-row
groups whose responses are all 0 or all 1 is such a coordinate: each group's effect has a
posterior flat on one side up to where its data cut it off, and, non-centred, the SD given the
standardised effects is held by the groups near their cut-offs (centred, by the spread of the
effects), so that its conditional SD is a fraction of its marginal one. A scale between the two
moves it a little per draw. On mlmRev's guPrenat (2,449 births to 1,558 mothers in 161
communities, 95% of mothers with all-0 or all-1 responses, SD 6.8 across mothers) with 4 x 1000
draws, seed 1: the default gave R-hat 1.016 and a smallest bulk ESS of 375 (the SD across
mothers), scaling by the draws' variances R-hat 1.006 and 803 at the same cost, as brms (Stan)
does with 898. mlmRev's guImmun (2,159 children of 1,595 mothers, SD 2.7) qualifies too: its
smallest bulk ESS rose from 427 to 680 with seed 1, its sampling time from 2.1-3.8 s to
2.7-4.9 s (longer trajectories), its ESS per second of the whole fit from 84-102 to 110-186.
"""

from __future__ import annotations

import numpy as np

from hierbayes.design import Design

__all__ = ["BOUND_SHARE", "MIN_GROUPS", "mass_matrix_adaptation"]

# a factor counts when at least this many of its groups hold at most two rows, all at one bound,
# and they are at least this share of its groups
MIN_GROUPS = 50
BOUND_SHARE = 0.5


def mass_matrix_adaptation(design: Design) -> str:
    """``"draw_diag"`` (the draws' variances) for a bernoulli or binomial model with a factor of
    at least :data:`MIN_GROUPS` groups, :data:`BOUND_SHARE` or more of them of one or two rows
    whose responses all lie at the same bound (0, or all trials); else ``"diag"`` (nutpie's
    gradient-based default). See the module docstring.

    Examples
    --------
    >>> import numpy as np, pandas as pd, hierbayes as hb
    >>> rng = np.random.default_rng(0)
    >>> mom = np.repeat(np.arange(200), 2)
    >>> u = rng.normal(0, 6, 200)[mom]
    >>> data = pd.DataFrame({"y": (rng.random(400) < 1 / (1 + np.exp(-u))).astype(int),
    ...                      "mom": mom.astype(str)})
    >>> mass_matrix_adaptation(hb.Model("y ~ 1 + (1 | mom)", data, family="bernoulli").design)
    'draw_diag'
    >>> data["fam"] = (mom // 2).astype(str)          # 100 groups of four rows
    >>> mass_matrix_adaptation(hb.Model("y ~ 1 + (1 | fam)", data, family="bernoulli").design)
    'diag'
    """
    if design.family.name not in ("bernoulli", "binomial"):
        return "diag"
    y = np.asarray(design.y, dtype=float)
    top = np.ones_like(y) if design.trials is None else np.asarray(design.trials, dtype=float)
    for block in design.blocks:
        J = len(block.levels)
        if J < MIN_GROUPS:
            continue
        rows = np.bincount(block.codes, minlength=J)
        zeros = np.bincount(block.codes, weights=(y == 0), minlength=J)
        tops = np.bincount(block.codes, weights=(y == top), minlength=J)
        at_bound = (rows >= 1) & (rows <= 2) & ((zeros == rows) | (tops == rows))
        if at_bound.sum() >= MIN_GROUPS and at_bound.mean() >= BOUND_SHARE:
            return "draw_diag"
    return "diag"
