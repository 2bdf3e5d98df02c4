"""The shrinkage plot: each group's own estimate, its partial-pooling estimate, the population."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse
from scipy.stats import chi2

from hierbayes.errors import SummaryError
from hierbayes.plots.layout import COLORS, coefficient_label, facet_grid
from hierbayes.summaries.posterior import factor_covariance, single_factor

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["plot_pooling"]

_ORDERS = {
    "no_pool": "no-pooling estimate",
    "n": "group size",
    "partial": "partial-pooling estimate",
}
_MAX_TICK_LABELS = 30


def _sizes(n: np.ndarray, n_max: float) -> np.ndarray:
    """Marker areas (points²) proportional to the group size, with a visible minimum."""
    return 8.0 + 150.0 * n / n_max


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], size: float) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "0.35",
            "lw": 0.8,
            "mutation_scale": 8,
            "shrinkA": np.sqrt(size) / 2,
            "shrinkB": np.sqrt(size) / 2,
        },
        zorder=2,
    )


def _constant(values: np.ndarray) -> bool:
    return bool(np.ptp(values) <= 1e-9 * (1.0 + np.abs(values).max()))


def _size_handles(n: np.ndarray) -> list[Line2D]:
    n_max = float(n.max())
    picks = sorted({int(n.min()), int(n.max())})
    return [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            color="0.6",
            markersize=np.sqrt(_sizes(np.array(k), n_max)),
            label=f"n = {k}",
        )
        for k in picks
    ]


def _panel_1d(ax: Axes, part: pd.DataFrame, order: str, n_max: float) -> bool:
    """One coefficient; returns whether the population value is the same for every group."""
    if order == "n":
        part = part.sort_values(["n", "no_pool"], na_position="last")
    else:
        part = part.sort_values(order, na_position="last")
    xs = np.arange(len(part))
    sizes = _sizes(part["n"].to_numpy(dtype=float), n_max)
    own, partial = part["no_pool"].to_numpy(), part["partial"].to_numpy()
    population = part["population"].to_numpy()
    constant = _constant(population)
    if constant:
        ax.axhline(population[0], color=COLORS["population"], lw=1, ls=":", zorder=0)
    else:
        ax.scatter(xs, population, marker="_", s=60, color=COLORS["population"], zorder=0)
    finite = np.isfinite(own)
    ax.scatter(
        xs[finite],
        own[finite],
        s=sizes[finite],
        facecolors="none",
        edgecolors=COLORS["no_pool"],
        lw=1.2,
        zorder=3,
    )
    ax.scatter(xs, partial, s=sizes, color=COLORS["partial"], alpha=0.85, lw=0, zorder=4)
    for x, a, b, s in zip(xs[finite], own[finite], partial[finite], sizes[finite], strict=True):
        _arrow(ax, (x, a), (x, b), s)
    if len(part) <= _MAX_TICK_LABELS:
        ax.set_xticks(xs, part["group"].tolist(), rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
    return constant


def _panel_size(n_groups: int) -> tuple[float, float]:
    """Wider and taller panels for more groups."""
    width = max(6.0, min(12.0, 0.12 * n_groups + 3.0))
    return width, 3.2 if n_groups <= _MAX_TICK_LABELS else 4.2


def _plot_1d(
    table: pd.DataFrame,
    terms: list[str],
    factor: str,
    order: str,
    figsize,
    labels: dict[str, str] | None = None,
) -> tuple[Figure, np.ndarray]:
    labels = labels or {t: t for t in terms}
    fig, axes = facet_grid(
        len(terms),
        ncols=1,
        panel_size=_panel_size(table["group"].nunique()),
        figsize=figsize,
        sharex=False,
        sharey=False,
    )
    n_max = float(table["n"].max())
    constant = True
    for ax, term in zip(axes, terms, strict=True):
        constant &= _panel_1d(ax, table[table["term"] == term], order, n_max)
        ax.set_ylabel(labels[term])
        xlabel = f"{factor}, sorted by {_ORDERS[order]}"
        missing = int(table.loc[table["term"] == term, "no_pool"].isna().sum())
        if missing:
            xlabel += f"\n{missing} group(s) without a no-pooling estimate: partial pooling only"
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_title(f"{labels[term]}: shrinkage toward the population", fontsize=10)
    population = (
        Line2D([], [], color=COLORS["population"], ls=":", label="population")
        if constant
        else Line2D(
            [],
            [],
            color=COLORS["population"],
            ls="",
            marker="_",
            markersize=8,
            label="population (with the group's level-2 predictors)",
        )
    )
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            markerfacecolor="none",
            color=COLORS["no_pool"],
            label="no pooling (own fit)",
        ),
        Line2D([], [], ls="", marker="o", color=COLORS["partial"], label="partial pooling"),
        population,
        *_size_handles(table["n"].to_numpy()),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig, axes


def _ellipse_axes(T: np.ndarray, level: float) -> tuple[float, float, float]:
    values, vectors = np.linalg.eigh(T)
    r = np.sqrt(chi2.ppf(level, 2))
    width, height = 2 * r * np.sqrt(np.maximum(values[::-1], 0))
    angle = np.degrees(np.arctan2(vectors[1, -1], vectors[0, -1]))
    return float(width), float(height), float(angle)


def _plot_2d(
    fit: Fit,
    table: pd.DataFrame,
    terms: list[str],
    factor: str,
    levels: Sequence[float],
    figsize,
) -> tuple[Figure, np.ndarray]:
    fb = single_factor(fit.design, "plot_pooling()")
    a, b = (fb.terms.index(t) for t in terms)
    T = factor_covariance(fit.idata["posterior"].to_dataset(), fb).mean(axis=0)[
        np.ix_([a, b], [a, b])
    ]
    wide = {
        col: table.pivot(index="group", columns="term", values=col).loc[list(fb.levels), terms]
        for col in ("no_pool", "partial", "population", "n")
    }
    own, partial, population = (
        wide[c].to_numpy(dtype=float) for c in ("no_pool", "partial", "population")
    )
    n = wide["n"].iloc[:, 0].to_numpy(dtype=float)
    relative = not (_constant(population[:, 0]) and _constant(population[:, 1]))
    if relative:
        own, partial = own - population, partial - population
        center = np.zeros(2)
    else:
        center = population[0]
    fig, axes = facet_grid(
        1, ncols=1, panel_size=(6.2, 6.0), figsize=figsize, sharex=False, sharey=False
    )
    ax = axes[0]
    for level in sorted(levels):
        width, height, angle = _ellipse_axes(T, level)
        ax.add_patch(
            Ellipse(
                tuple(center),
                width,
                height,
                angle=angle,
                fill=False,
                lw=1,
                color=COLORS["population"],
                alpha=0.35 + 0.5 * (1 - level),
                zorder=4.5,  # outlines above the points, so that no point hides them
            )
        )
    sizes = _sizes(n, n.max())
    finite = np.isfinite(own).all(axis=1)
    ax.scatter(
        own[finite, 0],
        own[finite, 1],
        s=sizes[finite],
        facecolors="none",
        edgecolors=COLORS["no_pool"],
        lw=1.2,
        zorder=3,
    )
    ax.scatter(
        partial[:, 0], partial[:, 1], s=sizes, color=COLORS["partial"], alpha=0.85, lw=0, zorder=4
    )
    for start, end, s in zip(own[finite], partial[finite], sizes[finite], strict=True):
        _arrow(ax, tuple(start), tuple(end), s)
    ax.scatter(*center, marker="P", s=90, color=COLORS["population"], zorder=5)
    ax.update_datalim(np.vstack([own[finite], partial]))
    ax.autoscale_view()
    suffix = " − population value" if relative else ""
    ax.set_xlabel(f"{coefficient_label(fit.design, terms[0])}{suffix}")
    ax.set_ylabel(f"{coefficient_label(fit.design, terms[1])}{suffix}")
    ax.set_title(
        f"{factor}: {terms[0]} and {terms[1]}, shrinkage toward the population", fontsize=10
    )
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            markerfacecolor="none",
            color=COLORS["no_pool"],
            label="no pooling (own fit)",
        ),
        Line2D([], [], ls="", marker="o", color=COLORS["partial"], label="partial pooling"),
        Line2D(
            [],
            [],
            ls="",
            marker="P",
            color=COLORS["population"],
            label="population value" if relative else "population mean",
        ),
        Line2D(
            [],
            [],
            color=COLORS["population"],
            alpha=0.6,
            label="population covariance (" + ", ".join(f"{lv:.0%}" for lv in sorted(levels)) + ")",
        ),
        *_size_handles(n),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.7 / fig.get_figheight(), 1, 1))
    return fig, axes


def plot_pooling(
    fit: Fit,
    *,
    terms: Sequence[str] | None = None,
    kind: str = "1d",
    order: str = "no_pool",
    levels: Sequence[float] = (0.5, 0.9),
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """The shrinkage plot: no-pooling vs partial-pooling estimate of every group.

    ``kind="1d"`` (one panel per coefficient): each group's own estimate (open marker) with an
    arrow to its partial-pooling posterior mean (filled marker), marker area proportional to the
    group's size, and the population value the group shrinks toward (a line when it is the same
    for every group, a tick per group when level-2 predictors make it differ). Groups are ordered
    by ``order``.

    ``kind="2d"`` (two coefficients, e.g. intercept and slope): the same arrows in the plane,
    with the population mean and ellipses holding ``levels`` of the estimated population
    distribution of the group coefficients, ``N(population, T)`` with ``T`` the posterior mean
    covariance of the group effects. When level-2 predictors make the population value differ
    between groups, both estimates are drawn relative to each group's population value.

    Numbers come from :func:`hierbayes.summaries.pooling`. Defined for models with one grouping
    factor.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    terms : sequence of str, optional
        Varying coefficients to draw (default: all for ``"1d"``, the first two for ``"2d"``).
    kind : {"1d", "2d"}
    order : {"no_pool", "n", "partial"}
        Order of the groups along the horizontal axis of ``"1d"``.
    levels : sequence of float
        Probability contents of the ellipses of ``"2d"``.
    figsize : (float, float), optional

    Returns
    -------
    (Figure, ndarray of Axes)

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_pooling(kind="2d")  # doctest: +SKIP
    """
    if kind not in ("1d", "2d"):
        raise SummaryError(f"kind must be '1d' or '2d', got {kind!r}.")
    if order not in _ORDERS:
        raise SummaryError(f"order must be one of {', '.join(map(repr, _ORDERS))}, got {order!r}.")
    fb = single_factor(fit.design, "plot_pooling()")
    if terms is None:
        terms = list(fb.terms) if kind == "1d" else list(fb.terms[:2])
    elif isinstance(terms, str):
        terms = [terms]
    terms = list(terms)
    unknown = [t for t in terms if t not in fb.terms]
    if unknown or not terms:
        raise SummaryError(
            f"terms={terms!r}: choose among the varying coefficients of {fb.factor}: "
            f"{', '.join(fb.terms)}."
        )
    table = fit.pooling()  # a fit from Dask data: from its statistics
    if kind == "1d":
        labels = {t: coefficient_label(fit.design, t) for t in terms}
        return _plot_1d(table, terms, fb.factor, order, figsize, labels)
    if len(terms) != 2:
        raise SummaryError(
            f"kind='2d' needs two varying coefficients; {fb.factor} has {', '.join(fb.terms)}"
            + (" (only one)" if len(fb.terms) < 2 else f" and terms={terms!r} names {len(terms)}")
            + "."
        )
    if not all(0 < lv < 1 for lv in levels) or not len(levels):
        raise SummaryError(f"levels must be probabilities between 0 and 1, got {levels!r}.")
    return _plot_2d(fit, table, terms, fb.factor, levels, figsize)
