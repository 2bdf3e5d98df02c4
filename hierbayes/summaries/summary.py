"""An lme4-like printed summary of a fit, for terminals (``str``) and notebooks (HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from hierbayes.design.missing import describe_dropped
from hierbayes.summaries.cutpoints import cutpoints
from hierbayes.summaries.format import decimals_for, format_estimates, format_number
from hierbayes.summaries.parameterization import describe_parameterization
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns, summarize
from hierbayes.summaries.tables import fixef, varcorr

if TYPE_CHECKING:
    from hierbayes.design import Design
    from hierbayes.fit import Fit

__all__ = ["Summary", "summary"]


@dataclass(frozen=True)
class Summary:
    """What ``summary(lmer)`` shows, for a Bayesian fit.

    Attributes
    ----------
    header : list of (str, str)
        Model, formula, data and sampling lines.
    random : DataFrame
        :func:`~hierbayes.summaries.tables.varcorr` table.
    fixed : DataFrame
        :func:`~hierbayes.summaries.tables.fixef` table.
    diagnostics : list of str
        Convergence warnings and notes.
    prob : float
        HDI probability.
    family : DataFrame
        The family's own parameters other than the residual SD (Student-t's ``nu``, a
        ``shape``), indexed by name (brms's "further distributional parameters"); empty when
        there are none.
    """

    header: list[tuple[str, str]]
    random: pd.DataFrame
    fixed: pd.DataFrame
    diagnostics: list[str]
    prob: float
    family: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _random_lines(self) -> list[list[str]]:
        rows = [["Groups", "Name", "Std.Dev.", f"{self.prob:.0%} HDI", "Corr"]]
        lo, hi = hdi_columns(self.prob)
        if self.random.empty:
            return rows
        for factor, block in self.random.groupby("factor", sort=False):
            sds = block[block["stat"] == "sd"]
            cors = block[block["stat"] == "cor"]
            terms = list(sds["term"])
            for i, (_, row) in enumerate(sds.iterrows()):
                corr = []
                for j in range(i):
                    match = cors[cors["term"] == f"{terms[j]}:{terms[i]}"]
                    if len(match):
                        corr.append(f"{match['mean'].iloc[0]:+.2f}")
                places = decimals_for(float(row["sd"]))
                rows.append(
                    [
                        str(factor) if i == 0 else "",
                        str(row["term"]),
                        format_number(float(row["mean"]), places),
                        f"[{format_number(float(row[lo]), places)}, "
                        f"{format_number(float(row[hi]), places)}]",
                        " ".join(corr),
                    ]
                )
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self.header)
        lines = [f"{k.rjust(width)}: {v}" if k else v for k, v in self.header]
        lines += ["", "Random effects (posterior mean and HDI):"]
        rows = self._random_lines()
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        for r in rows:
            lines.append(
                " " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            )
        lines += ["", "Fixed effects:"]
        text = format_estimates(self.fixed).to_string()
        lines += [" " + line for line in text.splitlines()]
        if not self.family.empty:
            lines += ["", "Family parameters:"]
            text = format_estimates(self.family).to_string()
            lines += [" " + line for line in text.splitlines()]
        lines += ["", "Diagnostics:"]
        lines += [f" - {d}" for d in self.diagnostics] or [" - none"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header = "".join(
            f"<tr><th style='text-align:right'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self.header
        )
        rows = self._random_lines()
        random = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr>"
        random += "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:]
        )
        diag = "".join(f"<li>{html.escape(d)}</li>" for d in self.diagnostics) or "<li>none</li>"
        return (
            f"<div><table>{header}</table><h4>Random effects</h4><table>{random}</table>"
            f"<h4>Fixed effects</h4>{format_estimates(self.fixed).to_html()}"
            + (
                f"<h4>Family parameters</h4>{format_estimates(self.family).to_html()}"
                if not self.family.empty
                else ""
            )
            + f"<h4>Diagnostics</h4><ul>{diag}</ul></div>"
        )

    def __repr__(self) -> str:
        return str(self)


def summary(fit: Fit, *, prob: float = DEFAULT_PROB) -> Summary:
    """Summarise a fit like ``summary(lmer)``: formula, data, random and fixed effects, checks.

    The header names the family, formula, data size, groups and draws with the sampler's
    convergence checks (divergences, largest R-hat, smallest bulk ESS); then come the random
    effects (:func:`varcorr`) and the fixed effects (:func:`fixef`), and any diagnostic
    warnings in plain words.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    prob : float
        Probability of the highest-density intervals in both tables.

    Returns
    -------
    Summary
        Prints as text (``print(fit.summary())``) and displays as HTML in a notebook; its
        ``random`` and ``fixed`` attributes are the two tables as DataFrames.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> print(fit.summary())  # doctest: +SKIP
    >>> fit.summary().fixed  # doctest: +SKIP
    """
    design = fit.design
    family = design.family
    posterior = fit.idata["posterior"]
    levels = {b.factor: len(b.levels) for b in design.blocks}
    groups = "; ".join(f"{factor}, {n}" for factor, n in levels.items()) or "none"
    d = fit.diagnostics
    header = [
        ("Model", f"{family.title} (family: {family.name}, link: {family.link})"),
        ("Formula", fit.spec.formula or str(fit.spec)),
        ("Data", f"{design.n_obs} observations; groups: {groups}"),
        *([("Missing", _dropped(design))] if design.n_dropped else []),
        (
            "Draws",
            f"{posterior.sizes['chain']} chains x {posterior.sizes['draw']} draws "
            f"(sampler: {fit.sampler}); {d.divergences} divergent; max R-hat {d.max_rhat:.2f}; "
            f"min bulk ESS {d.min_ess_bulk:.0f}",
        ),
    ]
    chosen = getattr(fit.model, "parameterization", None)
    if design.blocks and chosen:  # how the group effects were sampled (or integrated out)
        header.append(("Effects", describe_parameterization(design, chosen)))
    random = varcorr(fit, prob=prob) if (design.blocks or family.has_sigma) else pd.DataFrame()
    # sigma: the Residual row; cut-points: the population-level table
    own = [name for name in family.params if name not in ("sigma", "cutpoints")]
    if design.dpar is not None:  # shape="~ ...": its coefficients are population-level rows
        own = [name for name in own if name != design.dpar.name]
    table = (
        pd.concat(
            [
                summarize(posterior[name], prob=prob, diagnostics=True).assign(parameter=name)
                for name in own
            ]
        ).set_index("parameter")
        if own
        else pd.DataFrame()
    )
    fixed = fixef(fit, prob=prob)
    if family.cutpoints:  # an ordinal model's cut-points head the population-level table
        fixed = pd.concat([cutpoints(fit, prob=prob), fixed])
    # notes first: a cause (a predictor far from 0, an SD at 0) before the remedy (draw more)
    return Summary(header, random, fixed, [*d.notes, *d.warnings], prob, family=table)


def _dropped(design: Design) -> str:
    """What ``missing="drop"`` dropped."""
    return f"dropped {design.n_dropped} rows: {describe_dropped(design.dropped)}"
