"""How a fit sampled its group effects, in words, for the header of :func:`summary`."""

from __future__ import annotations

from hierbayes.build.crossed_marginal import crossed_design
from hierbayes.build.expanded import SINGLE_CHILD_SHARE, nearest_child, single_child_share
from hierbayes.build.nested_marginal import nested_chain
from hierbayes.build.observation_laplace import observation_level
from hierbayes.design import Design

__all__ = ["describe_parameterization"]

_WORDS = {
    "centered": "centred",
    "noncentered": "non-centred",
    "laplace": "integrated out by Laplace, drawn by importance resampling afterwards",
    "expanded": "non-centred with a signed scale (expanded)",
    "partial": "partially centred (a weight per group)",
    "agq": "integrated out by adaptive Gauss-Hermite quadrature, drawn by importance resampling "
    "afterwards",
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
    joint = _joint_laplace(design, parameterization)
    for block in design.blocks:
        choice = parameterization.get(block.name, ())
        if joint and choice and choice[0] == "laplace":
            continue
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
    return "; ".join(([joint] if joint else []) + parts)


def _joint_laplace(design: Design, parameterization: dict[str, tuple[str, ...]]) -> str:
    """The words for several factors integrated out jointly by Laplace, with why when most
    groups of one hold a single group of the next (auto's reason,
    :mod:`hierbayes.build.auto_laplace`); "" for none or one factor.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> f = "TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)"
    >>> d = make_design(parse_formula(f), hb.datasets.load("grouseticks"), family="poisson")
    >>> joint = {"BROOD": ("laplace",), "LOCATION": ("laplace",)}
    >>> print(_joint_laplace(d, joint))  # doctest: +NORMALIZE_WHITESPACE
    LOCATION + BROOD: intercepts integrated out jointly by Laplace, drawn by importance
    resampling afterwards (56% of the LOCATION groups hold a single BROOD group, where only the
    sum of the two effects is identified)
    """
    chosen = [b for b in design.blocks if parameterization.get(b.name, ("",))[0] == "laplace"]
    if len(chosen) < 2:
        return ""
    chosen.sort(key=lambda b: len(b.levels))
    words = (
        f"{' + '.join(b.factor for b in chosen)}: intercepts integrated out jointly by Laplace, "
        "drawn by importance resampling afterwards"
    )
    names = {b.name for b in chosen}
    for block in chosen:
        child = nearest_child(design, block)
        if child is not None and child.name in names:
            share = single_child_share(design, block)
            if share > SINGLE_CHILD_SHARE:
                words += (
                    f" ({share:.0%} of the {block.factor} groups hold a single {child.factor} "
                    "group, where only the sum of the two effects is identified)"
                )
    level = [b.factor for b in chosen if observation_level(design, b)]
    if level:  # build/observation_laplace.py
        words += (
            f" ({level[0]} has one row per group: a group's effect and the mean of its {level[0]}"
            " effects are identified only as a sum)"
        )
    return words


def _names(parameterization: dict[str, tuple[str, ...]]) -> list[str]:
    return [name for name, how in parameterization.items() if how and how[0] == "marginal"]
