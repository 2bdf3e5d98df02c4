"""The parameter-expanded ("redundant multiplicative") form of an uncorrelated group term:
``parameterization="expanded"`` (Gelman 2004; Gelman, van Dyk, Huang & Boscardin 2008).

Each coefficient ``k`` samples a signed scale ``s_k`` on the real line in place of its SD, with
the symmetric extension of the SD's half prior, ``p(s) = p_half(|s|) / 2``, and standardised
effects ``zs_jk ~ N(0, 1)``: ``u_jk = s_k zs_jk``. The model reports ``sd = |s|`` and
``z = u / sd``, whose posterior is exactly the non-centred model's, because ``(s, zs)`` and
``(-s, -zs)`` give the same effects. Where the data do not keep an SD away from 0, ``log sd``
has a long tail towards ``-inf`` that NUTS explores slowly; in ``s`` that tail is a
neighbourhood of 0 that it crosses (:mod:`hierbayes.density.expanded` is the compiled form).

It takes a single coefficient or a ``||`` term, and an SD prior with a finite, positive density at
0 (:data:`EXPANDABLE_PRIORS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from hierbayes.build.priors import prior_dist
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError
from hierbayes.priors import Prior

__all__ = [
    "EXPANDABLE_PRIORS",
    "EXPANDED",
    "add_expanded_effects",
    "check_expanded",
    "nearest_child",
    "prefer_expanded",
    "single_child_share",
]

EXPANDED = "expanded"
EXPANDABLE_PRIORS = frozenset(
    {"HalfNormal", "HalfStudentT", "HalfCauchy", "Exponential", "HalfFlat"}
)
"""SD priors whose symmetric extension is a proper density on the real line with a finite,
positive value at 0 (a gamma, inverse gamma, log-normal or Weibull prior is 0 or infinite
there, so ``s`` could not cross 0)."""
SINGLE_CHILD_SHARE = 0.5
"""auto expands a factor's SD when more than this share of its groups hold a single group of a
factor nested in it (see :func:`prefer_expanded`)."""


def nearest_child(design: Design, block: GroupBlock) -> GroupBlock | None:
    """The term of the factor just below ``block``'s: among the model's factors nested in it
    (every group inside one of ``block``'s groups, with more groups), the one with the fewest
    groups; None when none nests."""
    ja = len(block.levels)
    best = None
    for other in design.blocks:
        jb = len(other.levels)
        if other.factor == block.factor or jb <= ja:
            continue
        if _nests(other, block) and (best is None or jb < len(best.levels)):
            best = other
    return best


def single_child_share(design: Design, block: GroupBlock) -> float:
    """The share of ``block``'s groups that hold exactly one group of the factor just below it
    (:func:`nearest_child`); 0 when none nests.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> f = "TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)"
    >>> d = make_design(parse_formula(f), hb.datasets.load("grouseticks"), family="poisson")
    >>> round(single_child_share(d, d.blocks[1]), 3)  # 35 of 63 locations hold one brood
    0.556
    """
    child = nearest_child(design, block)
    if child is None:
        return 0.0
    pairs = np.unique(np.stack([child.codes, block.codes]), axis=1)
    return float(np.mean(np.bincount(pairs[1], minlength=len(block.levels)) == 1))


def prefer_expanded(design: Design, block: GroupBlock, choice: tuple[str, ...]) -> tuple[str, ...]:
    """auto's choice for ``block`` with the expanded form where it pays; ``choice`` otherwise.

    An uncorrelated, non-centred term whose factor's groups mostly (more than
    :data:`SINGLE_CHILD_SHARE`) hold a single group of the factor just below: in such a group
    only the sum of its own effect and its one nested group's effect is identified, so the data
    split the variance between the two factors on the other groups alone, and the SD of the
    upper factor has no lower bound from the data (the grouse ticks model: 35 of 63 locations
    hold one brood; ``log sd`` of LOCATION had a tail to 0.02 from a median of 0.52, lag-1
    autocorrelation 0.91, min bulk ESS about 150 and R-hat 1.03 at 4 x 1000 draws).
    The term of the factor just below is expanded too, unless it is observation-level (one
    row per group): its SD trades off against the upper one's (posterior correlation -0.52 of
    the two log SDs), and a group of one child and that child are then sampled as a rotated
    pair (:mod:`hierbayes.density.pairs`).
    """
    if block.correlated and len(block.columns) > 1:
        return choice
    if any(c != "noncentered" for c in choice):
        return choice
    if single_child_share(design, block) > SINGLE_CHILD_SHARE:
        return (EXPANDED,) * len(choice)
    if len(block.levels) == len(block.codes):  # observation-level
        return choice
    for parent in design.blocks:
        if parent is block or len(parent.levels) >= len(block.levels):
            continue
        child = nearest_child(design, parent)
        if child is not None and child.factor == block.factor:
            if single_child_share(design, parent) > SINGLE_CHILD_SHARE:
                return (EXPANDED,) * len(choice)
    return choice


def _nests(child: GroupBlock, parent: GroupBlock) -> bool:
    """Whether every group of ``child`` lies inside one group of ``parent``."""
    pairs = np.unique(np.stack([child.codes, parent.codes]), axis=1)
    return pairs.shape[1] == len(child.levels)


def check_expanded(
    design: Design,
    priors: Mapping[str, Prior],
    resolved: Mapping[str, tuple[str, ...]],
    requested: Any,
) -> dict[str, tuple[str, ...]]:
    """``resolved`` with every ``"expanded"`` choice checked: one the user asked for must be
    possible (else a :class:`~hierbayes.errors.ModelSpecError` that says why and what to use);
    one that auto made falls back to ``"noncentered"`` where the SD's prior does not allow it.
    """
    out = dict(resolved)
    for block in design.blocks:
        how = resolved[block.name]
        if EXPANDED not in how:
            continue
        asked = _asked(requested, block.name)
        prior = priors[f"sd|{block.name}"]
        if not asked and (set(how) != {EXPANDED} or prior.dist not in EXPANDABLE_PRIORS):
            # auto's choice, beside a coefficient the user chose, or under a prior without
            # a density at 0: non-centred as before
            out[block.name] = tuple("noncentered" if c == EXPANDED else c for c in how)
            continue
        if set(how) != {EXPANDED}:
            raise ModelSpecError(
                f"parameterization for '{block.name}' mixes 'expanded' with other choices; "
                "expand all the term's coefficients or none."
            )
        if block.correlated and len(block.columns) > 1:
            raise ModelSpecError(
                f"parameterization 'expanded' takes a single coefficient or a '||' term; "
                f"'{block.name}' has correlated coefficients {list(block.columns)}. Use "
                "'noncentered', or write the term with '||'."
            )
        if prior.dist not in EXPANDABLE_PRIORS:
            raise ModelSpecError(
                f"parameterization 'expanded' for '{block.name}' needs an SD prior with a "
                f"finite, positive density at 0 ({', '.join(sorted(EXPANDABLE_PRIORS))}); "
                f"'sd|{block.name}' has {prior.dist}. Use 'noncentered', or one of those priors."
            )
    return out


def _asked(requested: Any, name: str) -> bool:
    """Whether the user's ``parameterization`` argument names ``"expanded"`` for term ``name``."""
    if isinstance(requested, str):
        return requested == EXPANDED
    if not isinstance(requested, Mapping):
        return False
    value = requested.get(name)
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, tuple | list):
        return EXPANDED in value
    return value == EXPANDED


def add_expanded_effects(block: GroupBlock, priors: Mapping[str, Prior], gdim: str) -> Any:
    """Add an expanded term's ``s|b`` and ``zs|b`` (sampled), ``sd|b = |s|``, ``z|b = u / sd``
    and ``u|b = s zs``; return ``u`` (J x q)."""
    name, term_dim = block.name, block.term_dim
    q = len(block.columns)
    half = prior_dist(f"sd|{name}", priors[f"sd|{name}"])

    def logp(value: Any) -> Any:
        return pm.logp(half, pt.abs(value)) - np.log(2.0)

    def draw(size: Any) -> Any:  # the half prior with a random sign (prior predictive)
        sign = 2.0 * pm.Bernoulli.dist(0.5, size=size) - 1.0
        return prior_dist(f"sd|{name}", priors[f"sd|{name}"], size=size) * sign

    def support_point(rv: Any, size: Any) -> Any:
        return pt.ones(q)

    s = pm.CustomDist(f"s|{name}", dist=draw, logp=logp, support_point=support_point, dims=term_dim)
    pm.Deterministic(f"sd|{name}", pt.abs(s), dims=term_dim)
    dims = (gdim, term_dim)
    zs = pm.Normal(f"zs|{name}", 0.0, 1.0, dims=dims)
    pm.Deterministic(f"z|{name}", zs * pt.sign(s), dims=dims)
    return pm.Deterministic(f"u|{name}", zs * s, dims=dims)
