"""``hb.table()``: the side-by-side table of several fitted models every multilevel paper has.

Rows, in sections: population-level (fixed) effects, variance components (SDs, correlations,
residual SD, as :func:`~hierbayes.summaries.varcorr` names them), the ICC of each grouping factor
(:func:`~hierbayes.summaries.icc`), the number of observations and of groups per factor, and
ELPD-LOO (:func:`~hierbayes.comparison.loo`). Each cell is the number the fit's own method
reports: posterior mean, posterior SD and HDI bounds; for ELPD-LOO the estimate and its standard
error (in ``sd``); for counts the count (in ``mean``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hierbayes.errors import SummaryError
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["SECTIONS", "ModelTable", "latex_escape", "model_table"]

SECTIONS = ("fixed effects", "variance components", "ICC", "N", "fit")
_STATS = ("mean", "sd")
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters.

    Examples
    --------
    >>> print(latex_escape("cses:sector[T.Public] & 5% of sd_1"))
    cses:sector[T.Public] \\& 5\\% of sd\\_1
    """
    return "".join(_LATEX_SPECIAL.get(c, c) for c in str(text))


class ModelTable(pd.DataFrame):
    """A DataFrame (HTML repr in notebooks) whose :meth:`to_latex` needs no extra package."""

    @property
    def _constructor(self) -> type[ModelTable]:
        return ModelTable

    def to_latex(self, *, caption: str | None = None, digits: int = 2, **_: object) -> str:  # type: ignore[override]
        """The table as a LaTeX ``tabular`` (booktabs rules), sections as row groups.

        Examples
        --------
        >>> t = ModelTable({"M1": ["1.00 [0.50, 1.50]"]},
        ...                index=pd.MultiIndex.from_tuples([("fixed effects", "x_1")]))
        >>> print(t.to_latex())
        \\begin{tabular}{llr}
        \\toprule
         &  & M1 \\\\
        \\midrule
        fixed effects & x\\_1 & 1.00 [0.50, 1.50] \\\\
        \\bottomrule
        \\end{tabular}
        """
        columns = [
            " ".join(str(p) for p in c) if isinstance(c, tuple) else str(c) for c in self.columns
        ]
        lines = [
            "\\begin{tabular}{ll" + "r" * len(columns) + "}",
            "\\toprule",
            " &  & " + " & ".join(latex_escape(c) for c in columns) + " \\\\",
            "\\midrule",
        ]
        previous = None
        for key, row in zip(self.index, self.itertuples(index=False), strict=True):
            section, parameter = key if isinstance(key, tuple) else ("", key)
            if previous is not None and section != previous:
                lines.append("\\midrule")
            shown = latex_escape(section) if section != previous else ""
            previous = section
            cells = []
            for value in row:
                if isinstance(value, float):
                    cells.append("" if math.isnan(value) else f"{value:.{digits}f}")
                else:
                    cells.append(latex_escape(value))
            lines.append(f"{shown} & {latex_escape(parameter)} & " + " & ".join(cells) + " \\\\")
        lines += ["\\bottomrule", "\\end{tabular}"]
        body = "\n".join(lines)
        if caption:
            body = (
                "\\begin{table}\n\\centering\n"
                + body
                + f"\n\\caption{{{latex_escape(caption)}}}\n\\end{{table}}"
            )
        return body


def _fixed_rows(fit: Fit, prob: float) -> pd.DataFrame:
    table = fit.fixef(prob=prob)
    rows = table[[*_STATS, *hdi_columns(prob)]].copy()
    rows.index = pd.MultiIndex.from_tuples(
        [("fixed effects", str(t)) for t in table.index], names=("section", "parameter")
    )
    return rows


def _variance_rows(fit: Fit, prob: float) -> pd.DataFrame:
    if not fit.design.blocks and not fit.design.family.has_sigma:
        return pd.DataFrame()
    try:
        table = fit.varcorr(prob=prob)
    except (ValueError, SummaryError):
        return pd.DataFrame()
    labels = []
    for factor, term, stat in zip(table["factor"], table["term"], table["stat"], strict=True):
        if factor == "Residual":
            labels.append(("variance components", "sigma (residual SD)"))
            continue
        label = f"{stat}({term})" if term else stat
        labels.append(("variance components", f"{label} | {factor}"))
    rows = table[[*_STATS, *hdi_columns(prob)]].copy()
    rows.index = pd.MultiIndex.from_tuples(labels, names=("section", "parameter"))
    return rows


def _icc_rows(fit: Fit, prob: float) -> pd.DataFrame:
    if not fit.design.blocks:
        return pd.DataFrame()
    try:
        table = fit.icc(prob=prob)
    except (ValueError, SummaryError):
        return pd.DataFrame()
    rows = table[[*_STATS, *hdi_columns(prob)]].copy()
    rows.index = pd.MultiIndex.from_tuples(
        [("ICC", str(f)) for f in table["factor"]], names=("section", "parameter")
    )
    return rows


def _count_rows(fit: Fit, prob: float) -> pd.DataFrame:
    counts = {("N", "observations"): fit.design.n_obs}
    for block in fit.design.blocks:
        counts.setdefault(("N", f"groups | {block.factor}"), len(block.levels))
    lo, hi = hdi_columns(prob)
    return pd.DataFrame(
        {"mean": [float(v) for v in counts.values()], "sd": np.nan, lo: np.nan, hi: np.nan},
        index=pd.MultiIndex.from_tuples(list(counts), names=("section", "parameter")),
    )


def _loo_rows(fit: Fit, prob: float) -> pd.DataFrame:
    lo, hi = hdi_columns(prob)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fit.loo()
    return pd.DataFrame(
        {"mean": [float(result.elpd)], "sd": [float(result.se)], lo: np.nan, hi: np.nan},
        index=pd.MultiIndex.from_tuples([("fit", "ELPD-LOO")], names=("section", "parameter")),
    )


def _one(fit: Fit, prob: float, loo: bool) -> pd.DataFrame:
    parts = [_fixed_rows(fit, prob), _variance_rows(fit, prob), _icc_rows(fit, prob)]
    parts.append(_count_rows(fit, prob))
    if loo:
        parts.append(_loo_rows(fit, prob))
    return pd.concat([p for p in parts if len(p)])


def _format(value: float, lo: float, hi: float, digits: int) -> str:
    if not math.isfinite(value):
        return ""
    if math.isfinite(lo) and math.isfinite(hi):
        return f"{value:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
    return f"{value:.{digits}f}"


def _text(frame: pd.DataFrame, names: list[str], prob: float, digits: int) -> pd.DataFrame:
    lo, hi = hdi_columns(prob)
    out = pd.DataFrame(index=frame.index)
    for name in names:
        cells = []
        for key, row in frame[name].iterrows():
            if key[0] == "N":
                cells.append("" if np.isnan(row["mean"]) else f"{int(row['mean']):,}")
            elif key[0] == "fit":
                se = row["sd"]
                cells.append("" if np.isnan(row["mean"]) else f"{row['mean']:.1f} (SE {se:.1f})")
            else:
                cells.append(_format(row["mean"], row[lo], row[hi], digits))
        out[name] = cells
    return out


def model_table(
    fits: Mapping[str, Fit],
    *,
    prob: float = DEFAULT_PROB,
    loo: bool = True,
    format: str = "numbers",
    digits: int = 2,
) -> pd.DataFrame:
    """Several fits side by side: fixed effects, variance components, ICC, N, ELPD-LOO.

    Parameters
    ----------
    fits : dict
        Model name -> :class:`~hierbayes.Fit`, in the order of the columns.
    prob : float
        HDI probability.
    loo : bool
        Add ELPD-LOO with its standard error (computes the log-likelihood when a fit did not
        store it).
    format : {"numbers", "text"}
        ``"numbers"``: columns ``(model, mean | sd | hdi_lo | hdi_hi)``, the numbers each fit's
        own method reports. ``"text"``: one column per model, ``"mean [lo, hi]"`` per cell, the
        counts, and ``"elpd (SE se)"``: the table of a paper, which ``.to_latex()`` exports.
    digits : int
        Decimals of the text format.

    Returns
    -------
    ModelTable
        A DataFrame, rows indexed by ``(section, parameter)``; a row a model lacks is empty
        (``NaN``). Its ``to_latex(caption=...)`` writes a booktabs ``tabular``.

    Examples
    --------
    >>> table = hb.table({"M1": fit1, "M2": fit2})  # doctest: +SKIP
    >>> print(hb.table({"M1": fit1, "M2": fit2}, format="text").to_latex())  # doctest: +SKIP
    """
    if not isinstance(fits, Mapping) or not fits:
        raise SummaryError("table() needs a dict of fits by name, e.g. {'M1': fit1, 'M2': fit2}.")
    if format not in ("numbers", "text"):
        raise SummaryError(f"format must be 'numbers' or 'text', got {format!r}.")
    from hierbayes.fit import Fit

    bad = [str(k) for k, v in fits.items() if not isinstance(v, Fit)]
    if bad:
        raise SummaryError(f"table() takes fits; {', '.join(bad)} is not a hierbayes.Fit.")
    names = [str(k) for k in fits]
    frames = [_one(fit, prob, loo) for fit in fits.values()]
    order: list[tuple[str, str]] = []
    for section in SECTIONS:
        for frame in frames:
            for key in frame.index:
                if key[0] == section and key not in order:
                    order.append(key)
    index = pd.MultiIndex.from_tuples(order, names=("section", "parameter"))
    numbers = pd.concat(
        [frame.reindex(index) for frame in frames], axis=1, keys=names, names=("model", "stat")
    )
    if format == "text":
        return ModelTable(_text(numbers, names, prob, digits))
    return ModelTable(numbers)
