"""Text and HTML displays of models, fits and simulated groups, in the style of pandas and xarray.

``repr(fit)`` is a compact text block; Jupyter shows ``_repr_html_``. Every piece of user text
(formula, column names, group labels) is escaped with :func:`html.escape` in the HTML.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from hierbayes.design import Design
    from hierbayes.fit import Fit
    from hierbayes.model import Model
    from hierbayes.predict import SimulatedGroups

__all__ = [
    "fit_html",
    "fit_text",
    "model_html",
    "model_text",
    "simulated_groups_text",
]

_STYLE = (
    "<style>.hierbayes-repr table{border-collapse:collapse;margin:0.2em 0}"
    ".hierbayes-repr th{text-align:right;padding-right:1em;font-weight:bold}"
    ".hierbayes-repr td{text-align:left}"
    ".hierbayes-repr summary{cursor:pointer;font-weight:bold}</style>"
)


def _groups(design: Design) -> str:
    factors = {block.factor: len(block.levels) for block in design.blocks}
    return ", ".join(f"{factor} ({n} groups)" for factor, n in factors.items()) or "none"


def _model_rows(model: Model) -> list[tuple[str, str]]:
    design = model.design
    family = design.family
    return [
        ("formula", model.spec.formula or str(model.spec)),
        ("family", f"{family.name} (link: {family.link})"),
        ("data", f"{design.n_obs} observations"),
        ("groups", _groups(design)),
        *_effects(model),
    ]


def _effects(model: Model) -> list[tuple[str, str]]:
    """How the group effects are sampled or integrated out, in ``fit.summary()``'s words."""
    from hierbayes.summaries.parameterization import describe_parameterization

    chosen = getattr(model, "parameterization", None)
    if not model.design.blocks or not chosen:
        return []
    return [("effects", describe_parameterization(model.design, chosen))]


def _course(fit: Fit) -> list[tuple[str, str]]:
    """Whether sampling was run again or extended with more chains (the sampling notes, which
    ``fit.summary()`` prints in full)."""
    from hierbayes.density.rescue import SAMPLING_NOTES
    from hierbayes.diagnostics import requested_chains

    posterior = fit.idata["posterior"]
    notes = str(posterior.attrs.get(SAMPLING_NOTES, "")).splitlines()
    parts = []
    if any("run again" in note for note in notes):
        parts.append("run again")
    total, requested = int(posterior.sizes["chain"]), requested_chains(posterior)
    if total > requested:
        parts.append(f"extended from {requested} to {total} chains (it mixed slowly)")
    if not parts:
        return []
    return [("sampling", "; ".join(parts) + ": see fit.summary() for why")]


def _fit_rows(fit: Fit) -> list[tuple[str, str]]:
    posterior = fit.idata["posterior"]
    seconds = posterior.attrs.get("sampling_time")
    timing = f", sampled in {float(seconds):.1f} s" if seconds is not None else ""
    chains = int(posterior.sizes["chain"])
    draws = (
        f"{chains} chain{'' if chains == 1 else 's'} x {posterior.sizes['draw']} draws "
        f"({fit.sampler}){timing}"
    )
    return [
        *_model_rows(fit.model),
        ("draws", draws),
        *_course(fit),
        ("diagnostics", _status(fit)),
    ]


def _status(fit: Fit) -> str:
    d = fit.diagnostics
    if not d.ok:
        n = len(d.warnings)
        return (
            f"{n} convergence problem{'s' if n > 1 else ''} (max R-hat {d.max_rhat:.2f}, "
            f"{d.divergences} divergent): see fit.diagnostics.warnings"
        )
    return (
        f"ok (max R-hat {d.max_rhat:.2f}, min bulk ESS {d.min_ess_bulk:.0f}, "
        f"{d.divergences} divergent)"
    )


def _fixed_table(fit: Fit) -> pd.DataFrame:
    from hierbayes.summaries.format import format_estimates

    return format_estimates(fit.fixef())


def _text(title: str, rows: list[tuple[str, str]], tables: list[tuple[str, pd.DataFrame]]) -> str:
    width = max(len(k) for k, _ in rows)
    lines = [title, *(f"  {k.ljust(width)}  {v}" for k, v in rows)]
    for name, table in tables:
        lines.append(f"  {name}:")
        lines += ["    " + line for line in table.to_string().splitlines()]
    return "\n".join(lines)


def _html(title: str, rows: list[tuple[str, str]], tables: list[tuple[str, pd.DataFrame]]) -> str:
    header = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
    )
    sections = "".join(
        f"<details open><summary>{html.escape(name)}</summary>"
        f"{table.to_html(escape=True)}</details>"
        for name, table in tables
    )
    return (
        f"{_STYLE}<div class='hierbayes-repr'><div><b>{html.escape(title)}</b></div>"
        f"<table>{header}</table>{sections}</div>"
    )


def model_text(model: Model) -> str:
    """Compact text display of a :class:`~hierbayes.Model`: formula, family, data, groups, how
    the group effects are sampled or integrated out, priors.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> print(model_text(m))  # doctest: +NORMALIZE_WHITESPACE
    <hierbayes.Model>
      formula  Reaction ~ Days + (1 | Subject)
      family   gaussian (link: identity)
      data     180 observations
      groups   Subject (18 groups)
      effects  Subject: integrated out, drawn exactly afterwards
      priors:
                                            prior   source  ...
    ...
    """
    return _text("<hierbayes.Model>", _model_rows(model), [("priors", model.priors)])


def model_html(model: Model) -> str:
    """HTML display of a :class:`~hierbayes.Model` (every user string escaped)."""
    return _html("hierbayes.Model", _model_rows(model), [("Priors", model.priors)])


def fit_text(fit: Fit) -> str:
    """Compact text display of a :class:`~hierbayes.Fit`: the model's lines (with how the group
    effects were sampled or integrated out), draws, sampling time, whether sampling was run
    again or extended, diagnostics status and the fixed effects."""
    fixed = _fixed_table(fit)
    tables = [("fixed effects", fixed)] if len(fixed) else []
    return _text("<hierbayes.Fit>", _fit_rows(fit), tables)


def fit_html(fit: Fit) -> str:
    """HTML display of a :class:`~hierbayes.Fit` (every user string escaped)."""
    fixed = _fixed_table(fit)
    tables = [("Fixed effects", fixed)] if len(fixed) else []
    return _html("hierbayes.Fit", _fit_rows(fit), tables)


def simulated_groups_text(sim: SimulatedGroups) -> str:
    """A short summary of :class:`~hierbayes.predict.SimulatedGroups` instead of three tables."""
    groups = sim.groups
    n_groups = len(groups)
    level2 = [c for c in groups.columns if c not in ("group", "chain", "draw")]
    coefs = sim.coefficients.groupby("term", sort=False)["coefficient"].agg(["mean", "std"])
    spread = ", ".join(
        f"{term} {row['mean']:.3g} (SD {row['std']:.3g})" for term, row in coefs.iterrows()
    )
    lines = [
        f"<SimulatedGroups: {n_groups} new '{sim.factor}' groups>",
        f"  coefficients  {spread}  (mean and SD across the groups; .coefficients)",
        f"  level-2       {', '.join(level2) or 'none'}  (.groups)",
    ]
    if sim.data is None:
        lines.append("  data          none (pass x= or n_per_group= for level-1 rows)")
    else:
        lines.append(f"  data          {len(sim.data)} simulated rows  (.data)")
    return "\n".join(lines)
