"""auto's adaptive Gauss-Hermite quadrature for a factor of many small groups, in families other
than the gaussian.

A factor whose groups hold one or two rows each (mothers with one or two children, one count per
observation) gives each effect almost no information of its own: sampled, the effects and their
SD form a funnel that neither the centred nor the non-centred form mixes well, and the SD's ESS
stays low whatever the step size. auto integrates such a factor out by adaptive Gauss-Hermite
quadrature instead (:mod:`hierbayes.density.agq`, exact to quadrature error where the Laplace
approximation is biased for small binary groups), and draws its effects afterwards by importance
resampling. On guImmun (1,595 mothers, median one child) this raised the smallest bulk ESS per
CPU second (``benchmarks/agq.py``; README).

The rule is the data's, not the machine's: a family concave in the linear predictor
(:data:`~hierbayes.density.laplace_rows.LAPLACE_CODES`, the gaussian left to its exact marginal),
no linear predictor for a distributional parameter, nothing else integrated out (the joint
Laplace of :mod:`hierbayes.build.auto_laplace` keeps its factors, and then no factor is taken
here), and a factor that is one plain varying intercept with at least :data:`MIN_GROUPS` groups
and a median of at most :data:`MAX_MEDIAN_ROWS` rows a group; of several, the one with the most
groups.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hierbayes.build.laplace import AGQ, check_laplace
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError

__all__ = ["MAX_MEDIAN_ROWS", "MIN_GROUPS", "prefer_agq"]

MIN_GROUPS = 100
"""Fewest groups of a factor that auto integrates out by quadrature: with few groups the sampled
effects are few and cheap."""
MAX_MEDIAN_ROWS = 2
"""Largest median rows a group of a factor that auto integrates out by quadrature."""


def _candidate(design: Design, block: GroupBlock) -> bool:
    alone = sum(b.factor == block.factor for b in design.blocks) == 1
    if not (alone and block.columns == ("Intercept",) and bool(np.all(block.Z[:, 0] == 1.0))):
        return False
    counts = np.bincount(np.asarray(block.codes), minlength=len(block.levels))
    return len(block.levels) >= MIN_GROUPS and float(np.median(counts)) <= MAX_MEDIAN_ROWS


def prefer_agq(design: Design, result: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """``result`` (auto's choice) with a factor of many small groups integrated out by adaptive
    Gauss-Hermite quadrature where the rule of the module docstring applies; unchanged otherwise.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import hierbayes as hb
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"y": rng.integers(0, 2, 300), "g": np.arange(300) // 2,
    ...                    "h": np.arange(300) % 10})
    >>> hb.Model("y ~ 1 + (1 | g) + (1 | h)", df, family="bernoulli").parameterization["g"]
    ('agq',)
    """
    out = dict(result)
    if design.family.name == "gaussian" or design.dpar is not None:
        return out
    if any(how and how[0] in ("marginal", "laplace", AGQ) for how in result.values()):
        return out
    chosen = [b for b in design.blocks if _candidate(design, b)]
    if not chosen:
        return out
    block = max(chosen, key=lambda b: len(b.levels))
    proposed = {**out, block.name: (AGQ,)}
    try:
        check_laplace(design, proposed)
    except ModelSpecError:  # a family not concave in eta: keep the sampled effects
        return out
    return proposed
