"""Each group's data with its no-pooling, partial-pooling and population lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hierbayes.design import Design, is_continuous
from hierbayes.errors import SummaryError
from hierbayes.plots.layout import COLORS, facet_grid
from hierbayes.summaries.lines import (
    group_lines,
    line_variables,
    select_groups,
    within_group_predictors,
)
from hierbayes.summaries.posterior import FactorBlocks, single_factor
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["default_groups", "default_x", "plot_group_lines"]

DEFAULT_MAX_GROUPS = 12


def default_x(design: Design, fb: FactorBlocks) -> str:
    """The predictor to draw lines over: the first varying slope that is a numeric data column
    varying within groups, else the first numeric predictor that varies within groups."""
    assert design.data is not None
    usable = within_group_predictors(design, fb)
    for term in fb.terms:
        if term in usable:
            return term
    if usable:
        return usable[0]
    level2 = [v for v in line_variables(design) if is_continuous(design, v) and v not in usable]
    raise SummaryError(
        f"This model has no numeric predictor that varies within {fb.factor}s (a level-1 "
        "predictor) to draw group lines over"
        + (
            f"; {', '.join(level2)} {'is' if len(level2) == 1 else 'are'} constant within every "
            f"{fb.factor} (level-2)"
            if level2
            else ""
        )
        + ". Compare the groups with plot_caterpillar() or plot_pooling() instead."
    )


def default_groups(fb: FactorBlocks, max_groups: int) -> list[int]:
    """All groups, or ``max_groups`` of them at evenly spaced ranks of size (smallest to
    largest), so that the selection shows both small and large groups."""
    J = len(fb.levels)
    if J <= max_groups:
        return list(range(J))
    order = np.lexsort((np.arange(J), fb.counts))
    picks = np.unique(np.round(np.linspace(0, J - 1, max_groups)).astype(int))
    return sorted(order[picks].tolist(), key=lambda j: (fb.counts[j], j))


def _response(design: Design) -> np.ndarray:
    y = design.y
    return y / design.trials if design.trials is not None else y


def plot_group_lines(
    fit: Fit,
    x: str | None = None,
    *,
    groups: Sequence[object] | None = None,
    max_groups: int = DEFAULT_MAX_GROUPS,
    grid: Sequence[float] | np.ndarray | None = None,
    at: Mapping[str, Any] | None = None,
    prob: float = DEFAULT_PROB,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """Data faceted by group with the group's no-pooling, partial-pooling and population lines.

    Each panel shows one group's observations, the line of its own fit (no pooling, dashed), its
    posterior mean line with the HDI band (partial pooling, solid) and its population line
    (fixed part with the group's level-2 predictors, dotted). Lines are computed by
    :func:`hierbayes.summaries.group_lines`, on the response scale.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    x : str, optional
        Level-1 predictor on the horizontal axis (default: the first varying slope, else the
        first numeric predictor that varies within groups). A predictor constant within every
        group (level-2) is refused, as in :func:`~hierbayes.summaries.group_lines`.
    groups : sequence, optional
        Group labels to show. Default: all groups when there are at most ``max_groups``,
        otherwise ``max_groups`` groups at evenly spaced ranks of size, smallest first.
    max_groups : int
        Largest number of panels drawn by default.
    grid, at, prob
        As in :func:`~hierbayes.summaries.group_lines`.
    ncols : int, optional
        Panels per row (default: up to 4).
    figsize : (float, float), optional

    Returns
    -------
    (Figure, ndarray of Axes)
        One axes per group, in the order drawn. Nothing is shown: call ``fig.savefig`` or let the
        notebook display it.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_group_lines("Days", groups=["308", "309"])  # doctest: +SKIP
    """
    design = fit.design
    fb = single_factor(design, "plot_group_lines()")
    if not isinstance(max_groups, int) or max_groups < 1:
        raise SummaryError(f"max_groups must be a positive integer, got {max_groups!r}.")
    x = default_x(design, fb) if x is None else x
    positions = default_groups(fb, max_groups) if groups is None else select_groups(fb, groups)
    labels = [fb.levels[j] for j in positions]
    lines = group_lines(fit, x, grid=grid, groups=labels, at=at, prob=prob)
    lo, hi = hdi_columns(prob)
    assert design.data is not None
    xs = design.data[x].to_numpy(dtype=float)
    ys = _response(design)

    fig, axes = facet_grid(len(positions), ncols=ncols, figsize=figsize)
    for ax, j, label in zip(axes, positions, labels, strict=True):
        rows = fb.codes == j
        part = lines[lines["group"] == label]
        grid_x = part[x].to_numpy()
        ax.scatter(xs[rows], ys[rows], s=14, color=COLORS["data"], alpha=0.8, zorder=1)
        ax.fill_between(grid_x, part[lo], part[hi], color=COLORS["partial"], alpha=0.2, lw=0)
        ax.plot(grid_x, part["mean"], color=COLORS["partial"], lw=2)
        title = f"{fb.factor} {label} (n = {fb.counts[j]})"
        if part["no_pool"].notna().all():
            ax.plot(grid_x, part["no_pool"], color=COLORS["no_pool"], lw=1.5, ls="--")
        else:
            title += "\nno-pooling fit not identified"
        ax.plot(grid_x, part["population"], color=COLORS["population"], lw=1.2, ls=":")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
    ncols_used = min(ncols or 4, len(positions))
    for i, ax in enumerate(axes):
        if i % ncols_used == 0:
            ax.set_ylabel(design.spec.response, fontsize=9)
        if i + ncols_used >= len(positions):
            ax.set_xlabel(x, fontsize=9)
    handles = [
        Line2D([], [], ls="", marker="o", color=COLORS["data"], label="data"),
        Line2D([], [], color=COLORS["no_pool"], lw=1.5, ls="--", label="no pooling"),
        Line2D([], [], color=COLORS["partial"], lw=2, label="partial pooling"),
        Patch(color=COLORS["partial"], alpha=0.2, label=f"{prob:.0%} HDI"),
        Line2D([], [], color=COLORS["population"], lw=1.2, ls=":", label="population"),
    ]
    fig.suptitle(f"{design.spec.response} by {x}: each {fb.factor}'s lines", fontsize=11)
    fig.legend(handles=handles, loc="lower center", ncol=5, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, 1))
    return fig, axes
