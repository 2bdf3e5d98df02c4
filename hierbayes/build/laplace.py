"""The ``"laplace"`` parameterisation: one grouping factor's effects integrated out by a Laplace
approximation inside the compiled log-density (:mod:`hierbayes.density.laplace`), for families
whose log-likelihood is concave in the linear predictor.

``parameterization="laplace"`` picks the factor (the only one; with several, the one with the
fewest groups, hence the most rows per group, where the approximation is closest); a dict such
as ``{"g": "laplace"}`` names it. Its terms must all be ``"laplace"``; the other factors are
sampled, their parameterisation chosen as for ``"auto"``. A dict naming several factors
(``{"a": "laplace", "b": "laplace"}``) integrates their varying intercepts out jointly, crossed
or nested (:mod:`hierbayes.density.laplace_joint`); varying slopes are then refused. The PyMC
samplers cannot integrate by Laplace and sample the effects non-centred instead
(:func:`sampled_choices`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError
from hierbayes.families.concave import LAPLACE_CODES

__all__ = [
    "LAPLACE",
    "check_joint",
    "check_laplace",
    "expand_laplace",
    "laplace_blocks",
    "sampled_choices",
]

LAPLACE = "laplace"
AGQ = "agq"
"""One factor with one varying coefficient integrated out by adaptive Gauss-Hermite quadrature
(:mod:`hierbayes.density.agq`): the Laplace approximation made exact to quadrature error."""
_INTEGRATED = (LAPLACE, AGQ)


def laplace_blocks(parameterization: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Names of the group terms whose effects are integrated out by Laplace.

    Examples
    --------
    >>> laplace_blocks({"1|g": ("laplace",), "1|h": ("noncentered",)})
    ['1|g']
    """
    return [name for name, how in parameterization.items() if how and how[0] in _INTEGRATED]


def expand_laplace(design: Design, parameterization: Any) -> Any:
    """``"laplace"`` as a dict by group term: the chosen factor's terms ``"laplace"``, the
    others ``"auto"``; anything else unchanged.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + (1 | id) + (1 | item)", hb.datasets.load("verbagg"),
    ...              family="bernoulli")
    >>> expand_laplace(m.design, "laplace")
    {'id': 'auto', 'item': 'laplace'}
    """
    if not (isinstance(parameterization, str) and parameterization in _INTEGRATED):
        return parameterization
    how = parameterization
    if not design.blocks:
        raise ModelSpecError(
            f"parameterization '{how}' integrates out group effects, but this model has no "
            "group terms."
        )
    sizes: dict[str, int] = {}
    for block in design.blocks:
        sizes.setdefault(block.factor, len(block.levels))
    # Laplace: the fewest groups (most rows each, where it is closest); quadrature: the most
    # groups (fewest rows each, where the sampler gains most and Laplace is furthest off)
    if how == AGQ:  # a factor whose one term has one coefficient (check_agq)
        sizes = {
            f: j
            for f, j in sizes.items()
            if [len(b.columns) for b in design.blocks if b.factor == f] == [1]
        }
        if not sizes:
            raise ModelSpecError(
                "parameterization 'agq' integrates out a factor whose only group term has one "
                "varying coefficient; this model has none. Use 'laplace'."
            )
    pick = max if how == AGQ else min
    chosen = pick(sizes, key=lambda factor: sizes[factor])
    return {b.name: how if b.factor == chosen else "auto" for b in design.blocks}


def check_laplace(design: Design, result: Mapping[str, tuple[str, ...]]) -> None:
    """A :class:`~hierbayes.errors.ModelSpecError` for a ``"laplace"`` choice the compiled
    log-density cannot evaluate (it says what to use instead)."""
    for name, how in result.items():
        for way in _INTEGRATED:
            if way in how and set(how) != {way}:
                raise ModelSpecError(
                    f"parameterization for '{name}' mixes '{way}' with other choices; a group "
                    "term's effects are integrated out all together or not at all."
                )
    check_agq(design, result)
    chosen = [b for b in design.blocks if result[b.name] and result[b.name][0] in _INTEGRATED]
    if not chosen:
        return
    instead = "Use 'auto', 'centered' or 'noncentered'."
    way = result[chosen[0].name][0]
    if design.family.code not in LAPLACE_CODES:
        raise ModelSpecError(
            f"parameterization '{way}' needs a family whose log-likelihood is concave in the "
            f"linear predictor; {design.family.name} is not one. {instead}"
        )
    if design.dpar is not None:
        raise ModelSpecError(
            f"parameterization '{way}' does not take a linear predictor for "
            f"{design.dpar.name}. {instead}"
        )
    if any(how and how[0] == "marginal" for how in result.values()):
        raise ModelSpecError(
            f"parameterization '{way}' and 'marginal' in one model: integrate one factor out, "
            f"by one of them. {instead}"
        )
    factors = sorted({b.factor for b in chosen})
    for factor in factors:
        left = [b.name for b in design.blocks if b.factor == factor and b not in chosen]
        if left:
            raise ModelSpecError(
                f"parameterization '{way}' for factor '{factor}' must cover all its group "
                f"terms; also give it for {left}."
            )
    if len(factors) > 1:
        check_joint(chosen)


def check_agq(design: Design, result: Mapping[str, tuple[str, ...]]) -> None:
    """A :class:`~hierbayes.errors.ModelSpecError` unless the terms given ``"agq"`` are one
    factor's one term with one varying coefficient (an intercept or a single slope), and no
    other factor is integrated out by Laplace.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + (1 | id) + (1 | item)", hb.datasets.load("verbagg"),
    ...              family="bernoulli")
    >>> check_agq(m.design, {"id": ("agq",), "item": ("laplace",)})
    Traceback (most recent call last):
    ...
    hierbayes.errors.ModelSpecError: parameterization 'agq' integrates out one factor ...
    """
    chosen = [b for b in design.blocks if result[b.name] and result[b.name][0] == AGQ]
    if not chosen:
        return
    others = [b.name for b in design.blocks if result[b.name] and result[b.name][0] == LAPLACE]
    terms = [b.name for b in design.blocks if b.factor == chosen[0].factor]
    if len(terms) > 1:
        raise ModelSpecError(
            f"parameterization 'agq' integrates out a factor whose only group term has one "
            f"varying coefficient; factor '{chosen[0].factor}' has the terms {terms}. Use "
            "'laplace' for all of them, or 'agq' for another factor."
        )
    if len(chosen) > 1 or others:
        raise ModelSpecError(
            f"parameterization 'agq' integrates out one factor with one varying coefficient; "
            f"{[b.name for b in chosen] + others} ask for more. Give 'agq' for one term and "
            "sample the others ('auto')."
        )
    block = chosen[0]
    if len(block.columns) != 1:
        raise ModelSpecError(
            f"parameterization 'agq' for '{block.name}' needs one varying coefficient; it has "
            f"{list(block.columns)}. Use 'laplace' for several."
        )


def check_joint(chosen: list[GroupBlock]) -> None:
    """A :class:`~hierbayes.errors.ModelSpecError` unless the terms integrated out by Laplace
    over several factors are each a factor's one varying intercept (``(1 | a) + (1 | b)``):
    the joint approximation (:mod:`hierbayes.density.laplace_joint`) has no varying slopes.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + (1 | id) + (1 | item)", hb.datasets.load("verbagg"),
    ...              family="bernoulli")
    >>> check_joint(list(m.design.blocks))  # intercepts only: nothing to say
    """
    slopes = [b.name for b in chosen if b.columns != ("Intercept",) or not np.all(b.Z[:, 0] == 1.0)]
    factors = [b.factor for b in chosen]
    twice = sorted({f for f in factors if factors.count(f) > 1})
    if twice:
        raise ModelSpecError(
            f"parameterization 'laplace' over several factors takes one varying intercept per "
            f"factor; {twice} have several terms. Merge them into one term or sample them ('auto')."
        )
    if slopes:
        raise ModelSpecError(
            f"parameterization 'laplace' over several factors integrates out varying intercepts "
            f"only; {slopes} have varying slopes. Give 'laplace' for one factor with slopes and "
            "sample the others ('auto')."
        )


def sampled_choices(result: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The parameterisation with the ``"laplace"`` terms sampled non-centred (what the PyMC
    samplers build).

    Examples
    --------
    >>> sampled_choices({"1|g": ("laplace",), "1|h": ("centered",)})
    {'1|g': ('noncentered',), '1|h': ('centered',)}
    """
    return {
        name: tuple("noncentered" if c in _INTEGRATED else c for c in how)
        for name, how in result.items()
    }
