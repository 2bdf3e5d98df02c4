"""The equation of a residual SD (or a dispersion) with its own linear predictor
(``sigma="~ ..."``, ``shape="~ ..."``, ``phi="~ ..."``).

``log σ_i = sigma_Intercept + sigma_x·x_i + s_k[i]``, one group effect ``s`` per group term on
log σ with its own SD (``s_k ~ N(0, sd(sigma_Intercept | g)²)``), written with brms's names of
the coefficients (which are also the names of the priors). The observation equation's residual
variance becomes ``σ_i²``; in the law of another family the parameter's symbol gets the row's
subscript (``NegBinomial(λ_ij, φ_i)``, ``log φ_i = shape_Intercept + ...``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hierbayes.design import Design
from hierbayes.equations.math import M, escape, join, normal, sym

if TYPE_CHECKING:
    from hierbayes.equations.notation import Notation

__all__ = ["RESIDUAL_VARIANCE", "dpar_lines", "dpar_notation", "dpar_title"]

RESIDUAL_VARIANCE = M("σ_i²", r"\sigma_i^2")
_TITLES = {"sigma": "Residual SD", "shape": "Shape", "phi": "Precision"}


def _symbol(design: Design) -> M:
    """The parameter's symbol with the row's subscript: ``σ_i``, ``φ_i``."""
    dpar = design.dpar
    assert dpar is not None
    family = design.family
    symbols = dict(zip(family.params, family.param_symbols, strict=False))
    text, latex = symbols.get(dpar.name, ("σ", r"\sigma"))
    return M(f"{text}_i", rf"{latex}_i")


def dpar_title(design: Design) -> str:
    """The section's title: ``"Residual SD"``, ``"Shape"``, ``"Precision"``."""
    assert design.dpar is not None
    return _TITLES.get(design.dpar.name, design.dpar.name)


def dpar_notation(nt: Notation, design: Design) -> None:
    """Give ``nt`` the row's parameter: residual variance ``σ_i²`` and, in the laws of families
    that show the parameter (NB's ``φ``, student_t's ``σ``), its symbol with subscript ``i``."""
    dpar = design.dpar
    assert dpar is not None
    if dpar.name == "sigma":
        nt.residual_variance = RESIDUAL_VARIANCE
    family = nt.structure.family
    if dpar.name in family.params[: len(family.param_symbols)]:
        k = family.params.index(dpar.name)
        symbol = _symbol(design)
        symbols = list(family.param_symbols)
        symbols[k] = (symbol.text, symbol.latex)
        family = replace(family, param_symbols=tuple(symbols))
        nt.structure = replace(nt.structure, family=family)


def _name(text: str) -> M:
    return M(text, rf"\text{{{escape(text)}}}")


def dpar_lines(design: Design) -> tuple[M, ...]:
    """Lines of the Residual SD section.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", hb.datasets.load("sleepstudy"),
    ...              sigma="~ Days + (1 | Subject)")
    >>> for line in dpar_lines(m.design): print(line.text)
    log σ_i = sigma_Intercept + sigma_Days·Days_i + s_j^Subject[i]
    s_j^Subject ~ N(0, sd(sigma_Intercept | Subject)²)
    """
    dpar = design.dpar
    assert dpar is not None
    terms = [
        _name(f"{dpar.name}_{c}")
        if c == "Intercept"
        else _name(f"{dpar.name}_{c}") + "·" + _name(f"{c}_i")
        for c in dpar.fixed_columns
    ]
    laws = []
    for block in dpar.blocks:
        factor = block.name[len(dpar.name) + 1 :]
        for c in block.columns:
            effect = sym(M("s", "s"), "j", factor if len(block.columns) == 1 else f"{factor},{c}")
            slope = "" if c == "Intercept" else "·" + c + "_i"
            terms.append(M(effect.text + "[i]", effect.latex + "[i]") + slope)
            sd = _name(f"sd({dpar.name}_{c} | {factor})")
            laws.append(effect + M(" ~ ", r" \sim ") + normal("0", sd + M("²", "^2")))
        if block.correlated:
            laws.append(_name(f"correlated across {factor}: cor|{block.name}"))
    symbol = _symbol(design)
    head = M(f"log {symbol.text} = ", rf"\log {symbol.latex} = ")
    return (head + join(terms, " + "), *laws)
