"""Plot of a conditional effect: lines with HDI bands, or points with HDI bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hierbayes.build import response_name
from hierbayes.design import is_continuous
from hierbayes.summaries.effects import conditional_effects
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["plot_effects"]


def plot_effects(
    fit: Fit,
    x: str,
    *,
    by: str | None = None,
    at: Mapping[str, Any] | None = None,
    grid: Sequence[Any] | None = None,
    scale: str = "response",
    prob: float = DEFAULT_PROB,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """The population-level effect of ``x`` (by ``by``), as brms's ``conditional_effects``.

    A numeric ``x`` gives a line per level of ``by`` with its HDI band; a categorical ``x``
    gives points with HDI bars, dodged by ``by``.

    Parameters
    ----------
    fit : Fit
    x : str
        A population-level predictor (data column), numeric or categorical.
    by : str, optional
        A second predictor: one line (or set of points) per level, or at mean - SD, mean and
        mean + SD when numeric.
    at : dict, optional
        Values of other predictors (default: mean or reference level).
    grid : sequence, optional
        Values of ``x`` (default: 50 evenly spaced values over its range, or its levels).
    scale : {"response", "link"}
        Expected response (inverse link) or linear predictor.
    prob : float
        HDI probability of the band (bars).
    figsize : (float, float), optional
        Figure size in inches (default 5.5 x 3.8).

    Returns
    -------
    (Figure, ndarray of Axes)
        One panel; the table it draws is
        :func:`hierbayes.summaries.effects.conditional_effects`.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_effects("Days")  # doctest: +SKIP
    """
    table = conditional_effects(fit, x, by=by, at=at, grid=grid, scale=scale, prob=prob)
    lo, hi = hdi_columns(prob)
    fig, ax = plt.subplots(figsize=figsize or (5.5, 3.8))
    groups = [(None, table)] if by is None else list(table.groupby(by, sort=False))
    numeric = is_continuous(fit.design, x)
    width = 0.6 / max(len(groups), 1)
    for k, (level, part) in enumerate(groups):
        label = None if by is None else f"{by} = {_fmt(level)}"
        color = f"C{k}"
        if numeric:
            ax.fill_between(part[x], part[lo], part[hi], color=color, alpha=0.2, lw=0)
            ax.plot(part[x], part["mean"], color=color, lw=2, label=label)
        else:
            pos = np.arange(len(part)) + (k - (len(groups) - 1) / 2) * width
            ax.errorbar(
                pos,
                part["mean"],
                yerr=[part["mean"] - part[lo], part[hi] - part["mean"]],
                fmt="o",
                color=color,
                capsize=3,
                label=label,
            )
            ax.set_xticks(np.arange(len(part)), [str(v) for v in part[x]])
    name = response_name(fit.design)
    ax.set_xlabel(x)
    ax.set_ylabel(name if scale == "response" else f"linear predictor of {name}")
    held = [c for c in table.columns if c not in (x, by, "mean", "sd", lo, hi)]
    if held:
        shown = ", ".join(f"{c} = {_fmt(table[c].iloc[0])}" for c in held)
        ax.set_title(f"population level ({prob:.0%} HDI); {shown}", fontsize=8)
    if by is not None:
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig, np.array([ax])


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)
