"""A fit's tables in the language of the level equations.

``fixef_by_level`` orders the population effects by equation and labels each with its symbol and
the level-1 coefficient it explains (``γ_11: cses slope ~ meanses``). ``varcorr_labelled`` adds the
variances and covariances of the group effects and the residual variance (``τ_00``, ``τ_01``,
``σ²``), computed draw by draw, and a ``symbol`` column to every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from hierbayes.equations.notation import Notation, get_notation
from hierbayes.equations.structure import RandomEntry
from hierbayes.summaries import tables
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["fixef_by_level", "varcorr_labelled"]


def fixef_by_level(fit: Fit, *, prob: float = DEFAULT_PROB, notation: str = "rb") -> pd.DataFrame:
    """Population-level effects by level equation, labelled with their symbols.

    Rows follow the equations (the intercept's equation first; within one, its constant, then its
    predictors); the index is the ``term`` of :func:`~hierbayes.summaries.fixef`. Added columns:
    ``symbol`` (``γ_11``), ``explains`` (the level-1 coefficient: ``intercept``, ``cses slope``),
    ``predictor`` (the level-2 predictor, ``1`` for the equation's constant) and ``label``
    (``γ_11: cses slope ~ meanses``).

    Examples
    --------
    >>> fit.fixef(by="level")[["symbol", "label"]]  # doctest: +SKIP
    """
    table = tables.fixef(fit, prob=prob)
    labels = get_notation(fit.design, notation).fixed_labels()
    out = table.loc[[label.column for label in labels]].copy()
    for position, (name, values) in enumerate(
        [
            ("symbol", [label.symbol.text for label in labels]),
            ("explains", [label.explains for label in labels]),
            ("predictor", [label.predictor for label in labels]),
            ("label", [label.label for label in labels]),
        ]
    ):
        out.insert(position, name, values)
    return out


def _rows(
    draws: xr.DataArray, prob: float, factor: str, stat: str, term: str | None
) -> pd.DataFrame:
    table = summarize(draws, prob=prob, diagnostics=True)
    rest = [c for c in table.columns if c in draws.dims]
    if rest:
        table = table.rename(columns={rest[0]: "term"})
    else:
        table.insert(0, "term", term)
    table.insert(0, "stat", stat)
    table.insert(0, "factor", factor)
    return table


def _ordered(nt: Notation, block: str, a: str, b: str) -> tuple[RandomEntry, RandomEntry]:
    """The two entries of a pair in the order the equations index them (``τ_12``, not ``τ_21``)."""
    first, second = nt.entry(block, a), nt.entry(block, b)
    return (first, second) if nt.key(first.path) <= nt.key(second.path) else (second, first)


def varcorr_labelled(fit: Fit, *, prob: float = DEFAULT_PROB, notation: str = "rb") -> pd.DataFrame:
    """:func:`~hierbayes.summaries.varcorr` with variances, covariances and symbols.

    For each group term: its SD rows (``√τ_00`` in Raudenbush & Bryk's notation, ``σ_α`` in
    Gelman & Hill's) and correlation rows, then the variances (``stat == "var"``: ``τ_00``,
    ``σ_α²``) and covariances (``"cov"``: ``τ_01``) of its effects; then the residual SD
    (``σ``) and variance (``σ²``). Variances and covariances are summarised from their own draws
    (``sd²`` and ``cor·sd·sd``, draw by draw), not from the SDs' summaries.
    """
    base = tables.varcorr(fit, prob=prob)
    nt = get_notation(fit.design, notation)
    posterior = fit.idata["posterior"].to_dataset()
    frames = []
    dpar = fit.design.dpar
    # sigma="~ ...": rows of the SDs of effects on log σ (terms sigma_...) keep brms's names
    on_sigma = base["term"].str.startswith(f"{dpar.name}_") if dpar is not None else None
    sigma_rows = base[on_sigma].copy() if on_sigma is not None else base.iloc[:0]
    base = base[~on_sigma] if on_sigma is not None else base
    for block in fit.design.blocks:
        rows = base[base["factor"] == block.name].copy()
        pairs = {
            f"{a}:{b}": (a, b) for i, a in enumerate(block.columns) for b in block.columns[i + 1 :]
        }
        symbols = []
        for stat, term in zip(rows["stat"], rows["term"], strict=True):
            if stat == "sd":
                symbols.append(nt.sd(nt.entry(block.name, term)).text)
            else:
                a, b = pairs[term]
                symbols.append(nt.correlation(*_ordered(nt, block.name, a, b)).text)
        rows.insert(3, "symbol", symbols)
        sd = posterior[f"sd|{block.name}"]
        variance = _rows(sd**2, prob, block.name, "var", None)
        variance.insert(
            3, "symbol", [nt.variance(nt.entry(block.name, t)).text for t in variance["term"]]
        )
        parts = [rows, variance]
        if block.correlated:
            cor = posterior[f"cor|{block.name}"]
            for i, a in enumerate(block.columns):
                for j in range(i + 1, len(block.columns)):
                    b = block.columns[j]
                    draws = (
                        cor.isel({block.term_dim: i, f"{block.term_dim}_bis": j}, drop=True)
                        * sd.isel({block.term_dim: i}, drop=True)
                        * sd.isel({block.term_dim: j}, drop=True)
                    )
                    row = _rows(draws, prob, block.name, "cov", f"{a}:{b}")
                    row.insert(3, "symbol", nt.covariance(*_ordered(nt, block.name, a, b)).text)
                    parts.append(row)
        frames += parts
    residual = base[base["factor"] == "Residual"].copy()
    if len(residual):
        residual.insert(3, "symbol", nt.residual_sd.text)
        variance = _rows(posterior["sigma"] ** 2, prob, "Residual", "var", "")
        variance.insert(3, "symbol", nt.residual_variance.text)
        frames += [residual, variance]
    if len(sigma_rows):
        sigma_rows.insert(
            3,
            "symbol",
            [f"{st}({t})" for st, t in zip(sigma_rows["stat"], sigma_rows["term"], strict=True)],
        )
        frames.append(sigma_rows)
    table = pd.concat(frames, ignore_index=True)
    return table[[*base.columns[:3], "symbol", *base.columns[3:]]]
