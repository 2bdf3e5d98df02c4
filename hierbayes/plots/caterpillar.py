"""Caterpillar plot of the group deviations (lme4's ``dotplot(ranef(fit))``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hierbayes.errors import SummaryError
from hierbayes.plots.layout import COLORS, coefficient_label, facet_grid
from hierbayes.summaries.posterior import factor_blocks
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns
from hierbayes.summaries.tables import ranef

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["plot_caterpillar"]

_MAX_LABELS = 100
#: With more than _MAX_LABELS groups, this many highest and lowest groups of each panel are named.
_EXTREMES = 5


def _spread(rows: list[int], gap: float, upward: bool) -> list[float]:
    """Label heights at least ``gap`` rows apart, each as close to its row as the others allow,
    moving away from the panel's edge (``upward``: the bottom group is pushed up)."""
    heights: list[float] = []
    for row in sorted(rows, reverse=not upward):
        if heights:
            nearest = heights[-1] + gap if upward else heights[-1] - gap
            row = max(row, nearest) if upward else min(row, nearest)
        heights.append(float(row))
    order = sorted(rows, reverse=not upward)
    by_row = dict(zip(order, heights, strict=True))
    return [by_row[r] for r in rows]


def _label_extremes(ax, part: pd.DataFrame, lo: str, hi: str, gap: float) -> None:
    """Name the ``_EXTREMES`` groups with the highest and the lowest posterior mean, next to
    the outer end of their interval, labels kept ``gap`` rows apart (with a leader line when a
    label had to move off its row)."""
    means = part["mean"].to_numpy()
    ranks = np.argsort(means, kind="stable")
    k = min(_EXTREMES, len(means) // 2)
    for positions, high in ((list(ranks[len(ranks) - k :]), True), (list(ranks[:k]), False)):
        rows = [int(p) for p in positions]
        # labels of the highest groups sit right of their intervals, of the lowest left; the
        # rows of the sorted coefficient cluster at the top and bottom: spread them inward
        upward = np.mean(rows) < len(means) / 2
        heights = _spread(rows, gap, upward)
        for row, height in zip(rows, heights, strict=True):
            x = part[hi].iloc[row] if high else part[lo].iloc[row]
            ax.annotate(
                str(part.index[row]),
                xy=(x, row),
                xytext=(4 if high else -4, height),
                textcoords=("offset points", "data"),
                ha="left" if high else "right",
                va="center",
                fontsize=6,
                color=COLORS["population"],
                arrowprops=None
                if height == row
                else {"arrowstyle": "-", "lw": 0.4, "color": COLORS["data"], "shrinkA": 0},
            )


def plot_caterpillar(
    fit: Fit,
    *,
    factor: str | None = None,
    terms: Sequence[str] | None = None,
    sort_by: str | None = None,
    prob: float = DEFAULT_PROB,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """Group deviations from the population (``ranef``) with their HDIs, sorted.

    One panel per varying coefficient, sharing the vertical axis: each group's posterior mean
    deviation (dot) and HDI (bar), with a reference line at 0 (the population value). Groups are
    sorted by the posterior mean of ``sort_by`` (default: the first coefficient), as lme4's
    ``dotplot`` does, so a row is the same group in every panel. Group labels are shown for up to
    100 groups; with more, each panel names its 5 highest and 5 lowest groups next to their
    intervals, so that the outliers can be identified.

    Parameters
    ----------
    fit : Fit
        A fitted model with at least one grouping factor.
    factor : str, optional
        Grouping factor (required when the model has several).
    terms : sequence of str, optional
        Varying coefficients to draw (default: all of the factor's).
    sort_by : str, optional
        Coefficient whose posterior mean orders the groups.
    prob : float
        HDI probability.
    figsize : (float, float), optional

    Returns
    -------
    (Figure, ndarray of Axes)
        One axes per coefficient.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_caterpillar()  # doctest: +SKIP
    """
    fb = factor_blocks(fit.design, factor)
    terms = list(fb.terms) if terms is None else [terms] if isinstance(terms, str) else list(terms)
    unknown = [t for t in terms if t not in fb.terms]
    if unknown or not terms:
        raise SummaryError(
            f"terms={terms!r}: choose among the varying coefficients of {fb.factor}: "
            f"{', '.join(fb.terms)}."
        )
    sort_by = terms[0] if sort_by is None else sort_by
    if sort_by not in fb.terms:
        raise SummaryError(
            f"sort_by={sort_by!r} is not a varying coefficient of {fb.factor}; choose one of "
            f"{', '.join(fb.terms)}."
        )
    lo, hi = hdi_columns(prob)
    table = ranef(fit, prob=prob)
    table = table[table["factor"] == fb.factor]
    order = table[table["term"] == sort_by].sort_values("mean")["group"].tolist()  # bottom to top
    J = len(order)
    height = max(2.5, 0.16 * J + 1.2) if J <= _MAX_LABELS else 10.0
    fig, axes = facet_grid(
        len(terms),
        ncols=len(terms),
        panel_size=(3.4, height),
        figsize=figsize,
        sharex=False,
        sharey=True,
    )
    for ax, term in zip(axes, terms, strict=True):
        part = table[table["term"] == term].set_index("group").loc[order]
        ys = np.arange(J)
        ax.axvline(0.0, color=COLORS["population"], lw=0.8, ls=":", zorder=0)
        ax.hlines(ys, part[lo], part[hi], color=COLORS["partial"], lw=1.2, alpha=0.7)
        ax.scatter(part["mean"], ys, s=14, color=COLORS["partial"], zorder=3)
        ax.set_title(coefficient_label(fit.design, term), fontsize=10)
        if J > _MAX_LABELS:
            # rows are about 0.85 * 10 in / J apart; a 6-point label needs 8 points
            _label_extremes(ax, part, lo, hi, gap=max(1.0, 8 / (0.85 * 720 / J)))
        ax.set_xlabel(f"deviation from population ({prob:.0%} HDI)", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0].set_ylim(-0.8, J - 0.2)
    if J <= _MAX_LABELS:
        axes[0].set_yticks(np.arange(J), order, fontsize=min(8.0, max(5.0, 400 / J)))
    else:
        axes[0].set_yticks([])
    axes[0].set_ylabel(f"{fb.factor} (sorted by {sort_by})", fontsize=9)
    fig.tight_layout()
    return fig, axes
