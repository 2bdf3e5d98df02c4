"""auto's joint Laplace marginal for a factor whose groups mostly hold one group of the factor
just below it, in families other than the gaussian.

Where :func:`hierbayes.build.expanded.prefer_expanded` expands an upper factor and the factor just
below it (most upper groups hold a single lower group, so only the sum of the two effects is
identified there), auto integrates both factors' varying intercepts out jointly by a Laplace
approximation instead (:mod:`hierbayes.density.laplace_joint`): the direction that the data do
not inform is integrated, not sampled. On the grouse ticks (35 of 63 locations hold one brood)
this took the SD of LOCATION from bulk ESS 291-383 and R-hat 1.011-1.020 (expanded, 4 x 1000
draws) to the issue's goal. The fit checks the approximation by Pareto-smoothed importance
sampling and, when the check fails, samples those factors expanded, as auto would otherwise
(:func:`hierbayes.laplace_fit.checked_laplace`).

It applies only where the joint approximation does: a family concave in the linear predictor
(:data:`~hierbayes.families.concave.LAPLACE_CODES`), no linear predictor for a distributional
parameter, and each of the pair's factors with one term, a varying intercept. Varying slopes,
``||`` terms and other families keep the expanded form; a factor with one row per group is never
part of the pair (it stays sampled). Integrating it out too (three factors jointly, the one-row
groups eliminated as the diagonal block) was measured on the grouse ticks (4 x 1000 draws, seeds
1 and 2, the Schur complement sparse): it lengthens the step size from 0.17 to 0.39 (10 leapfrog
steps a draw instead of 31) but a gradient costs 154 µs of CPU against 58 µs, the smallest bulk
ESS falls from 1,329 and 1,552 to 1,153 and 1,074 and the Pareto k of the check rises from
0.15-0.19 to 0.34-0.40 (one count per effect is where the Laplace approximation is weakest):
66-73 ESS per CPU second against 80-95. The posterior agreed (SD of INDEX 0.548 ± 0.049
against 0.550 ± 0.050 sampled).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hierbayes.build.expanded import EXPANDED, nearest_child
from hierbayes.build.laplace import LAPLACE, check_laplace
from hierbayes.build.observation_laplace import prefer_observation_laplace
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError

__all__ = ["prefer_joint_laplace"]


def _intercept_only(design: Design, block: GroupBlock) -> bool:
    """Whether ``block`` is its factor's only term and a plain varying intercept."""
    alone = sum(b.factor == block.factor for b in design.blocks) == 1
    return alone and block.columns == ("Intercept",) and bool(np.all(block.Z[:, 0] == 1.0))


def prefer_joint_laplace(
    design: Design, result: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """``result`` (auto's choice) with each expanded pair of an upper factor and the factor just
    below it integrated out jointly by Laplace where the approximation applies (see the module
    docstring); unchanged otherwise. Then, where one factor is observation-level, all of them
    (:func:`~hierbayes.build.observation_laplace.prefer_observation_laplace`).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("TICKS ~ YEAR + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
    ...              hb.datasets.load("grouseticks"), family="poisson")
    >>> m.parameterization
    {'BROOD': ('laplace',), 'INDEX': ('noncentered',), 'LOCATION': ('laplace',)}
    """
    return prefer_observation_laplace(design, _nested_pairs(design, result))


def _nested_pairs(
    design: Design, result: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    out = dict(result)
    if design.family.name == "gaussian" or design.dpar is not None:
        return out
    expanded = {b.name for b in design.blocks if set(result[b.name]) == {EXPANDED}}
    pairs: set[str] = set()
    for block in design.blocks:
        child = nearest_child(design, block)
        if child is None or block.name not in expanded or child.name not in expanded:
            continue
        if _intercept_only(design, block) and _intercept_only(design, child):
            pairs |= {block.name, child.name}
    if not pairs:
        return out
    proposed = {**out, **{name: (LAPLACE,) for name in pairs}}
    try:
        check_laplace(design, proposed)
    except ModelSpecError:  # e.g. a family not concave in eta: keep the expanded form
        return out
    return proposed
