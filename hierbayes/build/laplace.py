"""The ``"laplace"`` parameterisation: one grouping factor's effects integrated out by a Laplace
approximation inside the compiled log-density (:mod:`hierbayes.density.laplace`), for families
whose log-likelihood is concave in the linear predictor.

``parameterization="laplace"`` picks the factor (the only one; with several, the one with the
fewest groups, hence the most rows per group, where the approximation is closest); a dict such
as ``{"g": "laplace"}`` names it. Its terms must all be ``"laplace"``; the other factors are
sampled, their parameterisation chosen as for ``"auto"``. The PyMC samplers cannot integrate by
Laplace and sample the effects non-centred instead (:func:`sampled_choices`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hierbayes.design import Design
from hierbayes.errors import ModelSpecError

__all__ = ["LAPLACE", "check_laplace", "expand_laplace", "laplace_blocks", "sampled_choices"]

LAPLACE = "laplace"


def laplace_blocks(parameterization: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Names of the group terms whose effects are integrated out by Laplace.

    Examples
    --------
    >>> laplace_blocks({"1|g": ("laplace",), "1|h": ("noncentered",)})
    ['1|g']
    """
    return [name for name, how in parameterization.items() if how and how[0] == LAPLACE]


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
    if not (isinstance(parameterization, str) and parameterization == LAPLACE):
        return parameterization
    if not design.blocks:
        raise ModelSpecError(
            "parameterization 'laplace' integrates out group effects, but this model has no "
            "group terms."
        )
    sizes: dict[str, int] = {}
    for block in design.blocks:
        sizes.setdefault(block.factor, len(block.levels))
    chosen = min(sizes, key=lambda factor: sizes[factor])
    return {b.name: LAPLACE if b.factor == chosen else "auto" for b in design.blocks}


def check_laplace(design: Design, result: Mapping[str, tuple[str, ...]]) -> None:
    """A :class:`~hierbayes.errors.ModelSpecError` for a ``"laplace"`` choice the compiled
    log-density cannot evaluate (it says what to use instead)."""
    from hierbayes.density.laplace_rows import LAPLACE_CODES

    for name, how in result.items():
        if LAPLACE in how and set(how) != {LAPLACE}:
            raise ModelSpecError(
                f"parameterization for '{name}' mixes 'laplace' with other choices; a group "
                "term's effects are integrated out all together or not at all."
            )
    chosen = [b for b in design.blocks if result[b.name] and result[b.name][0] == LAPLACE]
    if not chosen:
        return
    instead = "Use 'auto', 'centered' or 'noncentered'."
    if design.family.code not in LAPLACE_CODES:
        raise ModelSpecError(
            f"parameterization 'laplace' needs a family whose log-likelihood is concave in the "
            f"linear predictor; {design.family.name} is not one. {instead}"
        )
    if design.dpar is not None:
        raise ModelSpecError(
            f"parameterization 'laplace' does not take a linear predictor for "
            f"{design.dpar.name}. {instead}"
        )
    if any(how and how[0] == "marginal" for how in result.values()):
        raise ModelSpecError(
            "parameterization 'laplace' and 'marginal' in one model: integrate one factor out, "
            f"by one of them. {instead}"
        )
    factors = sorted({b.factor for b in chosen})
    if len(factors) > 1:
        raise ModelSpecError(
            f"parameterization 'laplace' integrates out one grouping factor's effects; "
            f"{factors} were given. Keep it for one of them and sample the others ('auto')."
        )
    left = [b.name for b in design.blocks if b.factor in factors and b not in chosen]
    if left:
        raise ModelSpecError(
            f"parameterization 'laplace' for factor '{factors[0]}' must cover all its group "
            f"terms; also give it for {left}."
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
        name: tuple("noncentered" if c == LAPLACE else c for c in how)
        for name, how in result.items()
    }
