"""The priors section of :func:`hierbayes.equations.render.equations`: each prior of the model
on one line, with the symbol it sets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hierbayes.equations.math import Line, M, escape, join, sym
from hierbayes.equations.notation import GHNotation, Notation
from hierbayes.priors import Prior

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["prior_lines"]

SIM = M(" ~ ", r" \sim ")


def _prior(prior: Prior) -> M:
    return M(repr(prior), rf"\text{{{escape(repr(prior))}}}")


def _element(prior: Prior, k: int, size: int) -> Prior:
    params = {
        key: (value[k] if isinstance(value, tuple) and len(value) == size else value)
        for key, value in prior.params
    }
    return Prior(prior.dist, **params)


def prior_lines(nt: Notation, model: Model) -> tuple[Line, ...]:
    """One line per prior of ``model`` (``m.priors``): population coefficients in the order of
    the equations, then group SDs, correlations and the family's own parameters."""
    s = nt.structure
    fixed = {e.column: e for e in s.fixed}
    lines: list[Line] = []
    population: list[tuple[tuple[int, ...], Line]] = []
    dpar = model.design.dpar
    own = {b.name for b in dpar.blocks} if dpar is not None else set()
    for name, prior in model.prior_values.items():
        note = M(f"   [{name}]", rf"\qquad\text{{[{escape(name)}]}}")
        if dpar is not None and (
            name.startswith(f"{dpar.name}_")
            or name.split("|")[-1] in own
            or name.startswith(f"b|{dpar.name}_")
        ):
            lines.append(M(name, rf"\text{{{escape(name)}}}") + SIM + _prior(prior))
            continue
        if name == "Intercept" and "Intercept" in fixed:
            subject = nt.fixed_symbol(fixed["Intercept"])
            note = M(
                "   [Intercept, at the means of the predictors]",
                r"\qquad\text{[Intercept, at the means of the predictors]}",
            )
            population.append(
                (nt.key(fixed["Intercept"].path), subject + SIM + _prior(prior) + note)
            )
        elif name.startswith("b|") and name[2:] in fixed:
            entry = fixed[name[2:]]
            line = nt.fixed_symbol(entry) + SIM + _prior(prior) + note
            population.append((nt.key(entry.path), line))
        elif name.startswith("sd|"):
            block = next(b for b in s.blocks if b.name == name[3:])
            for k, column in enumerate(block.columns):
                entry = nt.entry(block.name, column)
                element = _element(prior, k, len(block.columns))
                lines.append(nt.sd(entry) + SIM + _prior(element) + note)
        elif name.startswith("cor|"):
            block = next(b for b in s.blocks if b.name == name[4:])
            entries = [nt.entry(block.name, c) for c in block.columns]
            subjects = [
                nt.base(e.path, "j") if isinstance(nt, GHNotation) else nt.deviation(e)
                for e in entries
            ]
            corr = M("corr(", r"\operatorname{corr}(") + join(subjects, ", ") + ")"
            lines.append(corr + SIM + _prior(prior) + note)
        elif name == "sigma":
            lines.append(nt.residual_sd + SIM + _prior(prior) + note)
        elif name in s.family.params[: len(s.family.param_symbols)]:  # φ of the law above
            symbol = s.family.param_symbols[s.family.params.index(name)]
            lines.append(M(*symbol) + SIM + _prior(prior) + note)
        elif name == "cutpoints":
            note = M(
                "   [cutpoints, at the means of the predictors]",
                r"\qquad\text{[cutpoints, at the means of the predictors]}",
            )
            lines.append(sym(M("c", "c"), "k") + SIM + _prior(prior) + note)
        else:
            lines.append(M(name, rf"\text{{{escape(name)}}}") + SIM + _prior(prior))
    population.sort(key=lambda kl: kl[0])
    return (*(line for _, line in population), *lines)
