"""The equation of a residual SD with its own linear predictor (``sigma="~ ..."``).

``log σ_i = sigma_Intercept + sigma_x·x_i + s_k[i]``, one group effect ``s`` per group term on
log σ with its own SD (``s_k ~ N(0, sd(sigma_Intercept | g)²)``), written with brms's names of
the coefficients (which are also the names of the priors). The observation equation's residual
variance becomes ``σ_i²``.
"""

from __future__ import annotations

from hierbayes.design import Design
from hierbayes.equations.math import M, escape, join, normal, sym

__all__ = ["RESIDUAL_VARIANCE", "dpar_lines"]

RESIDUAL_VARIANCE = M("σ_i²", r"\sigma_i^2")


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
    head = M("log σ_i = ", r"\log \sigma_i = ")
    return (head + join(terms, " + "), *laws)
