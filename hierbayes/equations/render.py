"""Render a model as level-1 / level-2 equations and as one combined (mixed-model) equation.

:func:`equations` returns an :class:`Equations` object: ``str()`` is plain Unicode for terminals,
``_repr_latex_`` and ``_repr_markdown_`` render in notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from hierbayes.equations.math import (
    WIDTH,
    Equation,
    Line,
    M,
    escape,
    join,
    matrix,
    normal,
    sym,
    var,
    vector,
)
from hierbayes.equations.notation import (
    DOT,
    GHNotation,
    Notation,
    RBNotation,
    get_notation,
)
from hierbayes.equations.ordinal import cumulative_lines
from hierbayes.equations.prior_lines import prior_lines
from hierbayes.equations.structure import CONSTANT, RandomEntry
from hierbayes.errors import ArgumentError
from hierbayes.families.links import link_symbol

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["FORMS", "Equations", "Section", "equations"]

FORMS = ("levels", "combined", "both")

SIM = M(" ~ ", r" \sim ")
ZERO = M("0", "0")


@dataclass(frozen=True)
class Section:
    """A titled group of equations (``Level 1 (observation i)``, ``Combined``, ``Priors``)."""

    title: M
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Equations:
    """A model's equations. ``str()`` gives plain text; notebooks render LaTeX.

    Attributes
    ----------
    sections : tuple of Section
    notation : str
        ``"rb"`` or ``"gh"``.
    form : str
        ``"levels"``, ``"combined"`` or ``"both"``.
    """

    sections: tuple[Section, ...]
    notation: str
    form: str

    def __str__(self) -> str:
        out: list[str] = []
        for section in self.sections:
            out.append(f"{section.title.text}:")
            for line in section.lines:
                if isinstance(line, Equation):
                    out += ["  " + text for text in line.text(indent=2)]
                else:
                    out.append("  " + line.text)
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def _rows(self, section: Section) -> list[str]:
        rows = []
        for line in section.lines:
            if isinstance(line, Equation):
                rows += [r"&\quad " + row for row in line.latex()]
            else:
                rows.append(r"&\quad " + line.latex)
        return rows

    def to_latex(self) -> str:
        """The equations as one LaTeX ``aligned`` environment."""
        rows = []
        for section in self.sections:
            rows.append("&" + section.title.latex)
            rows += self._rows(section)
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$\n" + self.to_latex() + "\n$$"

    def _repr_markdown_(self) -> str:
        parts = []
        for section in self.sections:
            body = " \\\\\n".join(self._rows(section))
            parts.append(
                f"**{section.title.text}**\n\n$$\n\\begin{{aligned}}\n{body}\n\\end{{aligned}}\n$$"
            )
        return "\n\n".join(parts)


def _title(main: str, label: str = "", letter: str = "") -> M:
    if not label:
        return M(main, rf"\textbf{{{main}}}")
    return M(
        f"{main} ({label} {letter})",
        rf"\textbf{{{main}}}\ \text{{({escape(label)} }}{letter}\text{{)}}",
    )


def _observation(nt: Notation, sub: str, terms: list[M]) -> list[Line]:
    """The level-1 (observation) lines: the response's law and its linear predictor."""
    s = nt.structure
    family = s.family
    y = var(s.response, sub)
    # offsets enter the linear predictor with coefficient 1
    terms = [*terms, *(var(f"offset({o})", sub) for o in s.offsets)]
    if family.name == "gaussian":
        residual = sym(nt.residual, sub)
        law = residual + SIM + normal("0", nt.residual_variance)
        return [Equation(y, (*terms, residual), tail=law)]
    letter = M(*family.mean_symbol)
    mean = sym(letter, sub)
    if family.cutpoints:  # ordinal: cut-points c_k in place of the intercept
        return cumulative_lines(y, mean, family.law, family.link, tuple(terms))
    args = [mean] if s.trials is None else [var(s.trials, sub), mean]
    args += [M(*symbol) for symbol in family.param_symbols]  # the family's own: NB's φ, ...
    name = family.law
    law = y + SIM + M(f"{name}(", rf"\operatorname{{{name}}}(") + join(args, ", ") + ")"
    if family.link == "identity":
        return [law, Equation(mean, tuple(terms))]
    before, after = link_symbol(family.link)
    link = M(*before) + mean + M(*after)
    return [law, Equation(link, tuple(terms))]


def _covariance_matrix(nt: Notation, entries: list[RandomEntry]) -> M:
    rows = []
    for a in entries:
        row = []
        for b in entries:
            if a is b:
                row.append(nt.variance(a))
            elif nt.correlated(a, b):
                first, second = (a, b) if nt.key(a.path) <= nt.key(b.path) else (b, a)
                row.append(nt.covariance(first, second))
            else:
                row.append(ZERO)
        rows.append(row)
    return matrix(rows)


def _law(
    nt: Notation,
    subjects: list[M],
    entries: list[RandomEntry],
    means: list[M] | None,
    name: M,
    define: bool = True,
) -> list[Line]:
    """``(u_0j, u_1j)ᵀ ~ N(0, T),   T = [[...]]``, or ``u_0j ~ N(0, τ_00)`` for one effect.

    The matrix is defined on the same line when it fits, else on the next.
    """
    if len(entries) == 1:
        mean = means[0] if means else ZERO
        return [subjects[0] + SIM + normal(mean, nt.variance(entries[0]))]
    mean = vector(means) if means else ZERO
    law = vector(subjects) + SIM + normal(mean, name)
    if not define:
        return [law]
    definition = name + " = " + _covariance_matrix(nt, entries)
    if len(law.text) + 4 + len(definition.text) + 2 <= WIDTH:
        return [law + M(",   ", r", \quad ") + definition]
    return [law, definition]


def _product(nt: RBNotation, path: tuple[str, ...]) -> M:
    out = M("", "")
    for level in range(len(path), 0, -1):
        if path[level - 1] != CONSTANT:
            out = out + DOT + nt.predictor(path[level - 1], level)
    return out


def _rb_levels(nt: RBNotation) -> list[Section]:
    s = nt.structure
    entries = [*s.fixed, *s.random]
    coefficients = sorted({e.path[:1] for e in entries}, key=nt.key)
    terms = [nt.coefficient(p) + _product(nt, p) for p in coefficients]
    sections = [
        Section(_title("Level 1", "observation", "i"), tuple(_observation(nt, nt.groups(1), terms)))
    ]
    for level in range(2, nt.depth + 1):
        lines: list[Line] = []
        parents = sorted(
            {e.path[: level - 1] for e in entries if len(e.path) >= level - 1}, key=nt.key
        )
        for parent in parents:
            children = sorted(
                {
                    e.path[:level]
                    for e in entries
                    if len(e.path) >= level and e.path[: level - 1] == parent
                },
                key=nt.key,
            )
            terms = [
                nt.coefficient(c) + (DOT + nt.predictor(c[-1], level) if c[-1] != CONSTANT else "")
                for c in children
            ]
            terms += [nt.deviation(e) for e in s.random if e.level == level and e.path == parent]
            lines.append(Equation(nt.coefficient(parent), tuple(terms)))
        lines += _rb_laws(nt, level)
        letter = "ijk"[level - 1]
        sections.append(
            Section(_title(f"Level {level}", s.levels[level - 2], letter), tuple(lines))
        )
    return sections


def _rb_laws(nt: RBNotation, level: int) -> list[Line]:
    entries = sorted(
        (e for e in nt.structure.random if e.level == level), key=lambda e: nt.key(e.path)
    )
    if not entries:
        return []
    subjects = [nt.deviation(e) for e in entries]
    return _law(nt, subjects, entries, None, nt.matrix_name(level))


def _rb_combined(nt: RBNotation, form: str) -> Section:
    s = nt.structure
    fixed = sorted(s.fixed, key=lambda e: nt.key(e.path))
    random = sorted(s.random, key=lambda e: (e.level, nt.key(e.path)))
    terms = [nt.fixed_symbol(e) + _product(nt, e.path) for e in fixed]
    terms += [nt.deviation(e) + _product(nt, e.path) for e in random]
    lines = _observation(nt, nt.groups(1), terms)
    if form == "combined":
        for level in range(2, nt.depth + 1):
            lines += _rb_laws(nt, level)
    return Section(_title("Combined"), tuple(lines))


def _gh_mean(nt: GHNotation, path: tuple[str, ...], group: str) -> list[M]:
    fixed = sorted(
        (e for e in nt.structure.fixed if e.path[:1] == path), key=lambda e: nt.key(e.path)
    )
    return [
        nt.fixed_symbol(e) + (DOT + var(e.path[1], group) if e.path[1] != CONSTANT else "")
        for e in fixed
    ]


def _gh_mean_expr(nt: GHNotation, path: tuple[str, ...]) -> M:
    terms = _gh_mean(nt, path, "j")
    return join(terms, " + ") if terms else ZERO


def _gh_blocks(nt: GHNotation) -> list[list[RandomEntry]]:
    """Random entries grouped as they are distributed: one list per correlated block, else
    one per entry; in coefficient order."""
    groups: list[list[RandomEntry]] = []
    for block in nt.structure.blocks:
        entries = sorted(
            (e for e in nt.structure.random if e.block == block.name), key=lambda e: nt.key(e.path)
        )
        if block.correlated:
            groups.append(entries)
        else:
            groups += [[e] for e in entries]
    return sorted(groups, key=lambda g: nt.key(g[0].path))


def _sigma_name(nt: GHNotation, entries: list[RandomEntry]) -> M:
    correlated = [b for b in nt.structure.blocks if b.correlated]
    if len(correlated) <= 1:
        return M("Σ", r"\Sigma")
    return sym(M("Σ", r"\Sigma"), M(entries[0].block, rf"\text{{{escape(entries[0].block)}}}"))


def _gh_regression(nt: GHNotation, group: list[RandomEntry]) -> bool:
    """Whether a group of random coefficients is written as group-level regressions with errors
    (``α_j = γ_0^α + γ_1^α·w_j + η_j^α``): when one of them has a group-level predictor."""
    return any(
        e.path[1] != CONSTANT
        for e in nt.structure.fixed
        if e.path[:1] in {g.path[:1] for g in group}
    )


def _gh_levels(nt: GHNotation) -> list[Section]:
    s = nt.structure
    coefficients = sorted({e.path[:1] for e in (*s.fixed, *s.random)}, key=nt.key)
    terms = [
        nt.coefficient(p) + (DOT + var(p[0], "i") if p[0] != CONSTANT else "") for p in coefficients
    ]
    sections = [Section(_title("Level 1", "observation", "i"), tuple(_observation(nt, "i", terms)))]
    lines: list[Line] = []
    groups = _gh_blocks(nt)
    for path in coefficients:
        group = next((g for g in groups if g[0].path == path), None)
        if group is not None and not _gh_regression(nt, group):
            subjects = [nt.base(e.path, "j") for e in group]
            means = [_gh_mean_expr(nt, e.path) for e in group]
            lines += _law(nt, subjects, group, means, _sigma_name(nt, group))
            continue
        random = [e for e in s.random if e.path == path]
        if not nt.varies(path) or (random and not _gh_regression(nt, _group_of(groups, path))):
            continue
        terms = _gh_mean(nt, path, "j") + [nt.deviation(e) for e in random]
        lines.append(Equation(nt.base(path, "j"), tuple(terms) or (ZERO,)))
        if random:
            group = _group_of(groups, path)
            if group[-1].path == path:
                lines += _law(
                    nt, [nt.deviation(e) for e in group], group, None, _sigma_name(nt, group)
                )
    sections.append(Section(_title("Level 2", s.levels[0], "j"), tuple(lines)))
    return sections


def _group_of(groups: list[list[RandomEntry]], path: tuple[str, ...]) -> list[RandomEntry]:
    return next(g for g in groups if any(e.path == path for e in g))


def _gh_combined(nt: GHNotation, form: str) -> Section:
    s = nt.structure
    terms = []
    for e in sorted(s.fixed, key=lambda e: nt.key(e.path)):
        term = nt.fixed_symbol(e)
        if e.path[1] != CONSTANT:
            term = term + DOT + var(e.path[1], "j[i]")
        if e.path[0] != CONSTANT:
            term = term + DOT + var(e.path[0], "i")
        terms.append(term)
    for e in sorted(s.random, key=lambda e: nt.key(e.path)):
        terms.append(
            nt.deviation(e, combined=True)
            + (DOT + var(e.path[0], "i") if e.path[0] != CONSTANT else "")
        )
    lines = _observation(nt, "i", terms)
    for group in _gh_blocks(nt):
        if form == "both" and _gh_regression(nt, group):
            continue  # the level-2 equations define these errors
        subjects = [nt.deviation(e) for e in group]
        lines += _law(nt, subjects, group, None, _sigma_name(nt, group), form == "combined")
    return Section(_title("Combined"), tuple(lines))


def _flat(nt: Notation) -> list[Section]:
    s = nt.structure
    terms = [
        nt.fixed_symbol(e) + (DOT + var(e.path[0], "i") if e.path[0] != CONSTANT else "")
        for e in s.fixed
    ]
    terms += [
        nt.deviation(e, combined=True)
        + (DOT + var(e.path[0], "i") if e.path[0] != CONSTANT else "")
        for e in s.random
    ]
    sections = [Section(_title("Model", "observation", "i"), tuple(_observation(nt, "i", terms)))]
    lines: list[Line] = []
    for block in s.blocks:
        entries = [e for e in s.random if e.block == block.name]
        letter = M("T", "T") if nt.name == "rb" else M("Σ", r"\Sigma")
        name = sym(letter, "", M(f"({block.name})", rf"(\text{{{escape(block.name)}}})"))
        lines += _law(nt, [nt.deviation(e) for e in entries], entries, None, name)
    if lines:
        sections.append(Section(_title("Group level"), tuple(lines)))
    return sections


def equations(
    model: Model, notation: str = "rb", form: str = "both", *, priors: bool = True
) -> Equations:
    """Write ``model`` as level equations and/or one combined equation.

    Parameters
    ----------
    model : Model
        Built from a formula or from level equations (the two give the same equations).
    notation : {"rb", "gh"}
        Raudenbush & Bryk (``β_0j``, ``γ_00``, ``u_0j``, ``τ_00``, ``σ²``) or Gelman & Hill
        (``α_j``, ``β_j``, ``μ_α``/``γ_0^α``, ``σ_α``, ``ρ_αβ``, ``σ_y``); see
        :mod:`hierbayes.equations.notation`.
    form : {"levels", "combined", "both"}
        The level-1/level-2(/level-3) equations, the combined (mixed-model) equation, or both.
        Models without nested levels (crossed factors) are written as one observation equation
        and the laws of the group effects, whatever the form.
    priors : bool
        Whether to list the priors, by symbol, with the name that ``priors=`` overrides.

    Returns
    -------
    Equations

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", hb.datasets.load("sleepstudy"))
    >>> print(equations(m, form="levels", priors=False))
    Level 1 (observation i):
      Reaction_ij = β_0j + β_1j·Days_ij + r_ij,   r_ij ~ N(0, σ²)
    Level 2 (Subject j):
      β_0j = γ_00 + u_0j
      β_1j = γ_10 + u_1j
      (u_0j, u_1j)ᵀ ~ N(0, T),   T = [[τ_00, τ_01], [τ_01, τ_11]]
    """
    if form not in FORMS:
        raise ArgumentError(f"Unknown form {form!r}: use 'levels', 'combined' or 'both'.")
    nt = get_notation(model.design, notation)
    if model.design.dpar is not None:  # sigma="~ ...": σ varies by row
        from hierbayes.equations.dpar import dpar_notation

        dpar_notation(nt, model.design)
    if isinstance(nt, RBNotation):
        sections = _rb_levels(nt) if form != "combined" else []
        if form != "levels":
            sections.append(_rb_combined(nt, form))
    elif isinstance(nt, GHNotation):
        sections = _gh_levels(nt) if form != "combined" else []
        if form != "levels":
            sections.append(_gh_combined(nt, form))
    else:
        sections = _flat(nt)
    if model.design.dpar is not None:
        from hierbayes.equations.dpar import dpar_lines, dpar_title

        sections.append(Section(_title(dpar_title(model.design)), dpar_lines(model.design)))
    if priors:
        sections.append(Section(_title("Priors"), prior_lines(nt, model)))
    return Equations(tuple(sections), notation, form)
