"""How a fit sampled its group effects, in words, for the header of :func:`summary`."""

from __future__ import annotations

from hierbayes.build.crossed_marginal import crossed_design
from hierbayes.build.nested_marginal import nested_chain
from hierbayes.design import Design

__all__ = ["describe_parameterization"]

_WORDS = {
    "centered": "centred",
    "noncentered": "non-centred",
    "laplace": "integrated out by Laplace, drawn by importance resampling afterwards",
    "expanded": "non-centred with a signed scale (expanded)",
}


def describe_parameterization(design: Design, parameterization: dict[str, tuple[str, ...]]) -> str:
    """One line: which factors' effects were integrated out (jointly when they nest) and how
    the others' coefficients were sampled.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": range(12), "a": list("aabb") * 3, "s": list("pqrs") * 3})
    >>> d = make_design(parse_formula("y ~ 1 + (1 | a/s)"), df)
    >>> describe_parameterization(d, {"a": ("marginal",), "a:s": ("marginal",)})
    'a > a:s: integrated out jointly (nested), drawn exactly afterwards'
    >>> describe_parameterization(d, {"a": ("noncentered",), "a:s": ("marginal",)})
    'a:s: integrated out, drawn exactly afterwards; a: non-centred'
    >>> df["c"] = list("pqqrrp") * 2  # crossed with a
    >>> d = make_design(parse_formula("y ~ 1 + (1 | a) + (1 | c)"), df)
    >>> describe_parameterization(d, {"a": ("marginal",), "c": ("marginal",)})
    'c + a: integrated out jointly (crossed), drawn exactly afterwards'
    """
    marginal: list[str] = []
    parts: list[str] = []
    for block in design.blocks:
        choice = parameterization.get(block.name, ())
        if choice and choice[0] == "marginal":
            if block.factor not in marginal:
                marginal.append(block.factor)
            continue
        if len(set(choice)) == 1:
            parts.append(f"{block.name}: {_WORDS.get(choice[0], choice[0])}")
        else:
            coefs = ", ".join(
                f"{c} {_WORDS.get(how, how)}" for c, how in zip(block.columns, choice, strict=True)
            )
            parts.append(f"{block.name}: {coefs}")
    names = _names(parameterization)
    nested = nested_chain(design, names) is not None
    if len(marginal) > 1 and not nested and crossed_design(design, names) is not None:
        chain = " + ".join(b.factor for b in crossed_design(design).blocks)
        parts.insert(0, f"{chain}: integrated out jointly (crossed), drawn exactly afterwards")
    elif len(marginal) > 1:
        levels = {b.factor: len(b.levels) for b in design.blocks}
        chain = " > ".join(sorted(marginal, key=lambda f: levels[f]))
        parts.insert(0, f"{chain}: integrated out jointly (nested), drawn exactly afterwards")
    elif marginal:
        parts.insert(0, f"{marginal[0]}: integrated out, drawn exactly afterwards")
    return "; ".join(parts)


def _names(parameterization: dict[str, tuple[str, ...]]) -> list[str]:
    return [name for name, how in parameterization.items() if how and how[0] == "marginal"]
