"""Imagine many new groups: the population line plus the lines of simulated new groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hierbayes.design import Design, is_continuous
from hierbayes.errors import SummaryError
from hierbayes.plots.layout import COLORS, facet_grid
from hierbayes.predict.predict import predict
from hierbayes.predict.simulate import (
    choose_factor,
    level1_variables,
    level2_variables,
    simulate_new_groups,
)
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["plot_new_groups"]

GRID_SIZE = 25


def _typical(column: pd.Series, continuous: bool) -> Any:
    """Mean of a continuous predictor, most frequent value otherwise."""
    if continuous:
        return float(column.mean())
    return column.value_counts(sort=True).index[0]


def _default_x(design: Design, factor: str, candidates: list[str]) -> str:
    assert design.data is not None
    numeric = [v for v in candidates if is_continuous(design, v)]
    varying = [t for b in design.blocks if b.factor == factor for t in b.columns]
    for name in [*[t for t in varying if t in numeric], *numeric]:
        return name
    raise SummaryError(
        "This model has no numeric level-1 predictor to draw group lines over; "
        "plot_new_groups() needs one."
    )


def _level2(design: Design, factor: str, level2: Mapping[str, Any] | None) -> dict[str, Any]:
    assert design.data is not None
    needed = level2_variables(design)
    given = dict(level2 or {})
    unknown = [k for k in given if k not in needed]
    if unknown:
        raise SummaryError(
            f"level2= names {unknown}, which are not level-2 predictors of this model "
            f"({', '.join(needed) or 'it has none'})."
        )
    values = {}
    for column in needed:
        if column in given:
            values[column] = given[column]
            continue
        owner = next(f for f, cols in design.level2_columns.items() if column in cols)
        per_group = design.data.groupby(owner, sort=True, observed=True)[column].first()
        values[column] = _typical(per_group, is_continuous(design, column))
    return values


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def plot_new_groups(
    fit: Fit,
    x: str | None = None,
    *,
    n_groups: int = 100,
    factor: str | None = None,
    grid: Sequence[float] | np.ndarray | None = None,
    at: Mapping[str, Any] | None = None,
    level2: Mapping[str, Any] | None = None,
    kind: str = "mean",
    prob: float = DEFAULT_PROB,
    random_seed: int | None = None,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """The population line with its HDI band and the lines of ``n_groups`` simulated new groups.

    Each thin line is one new group from :func:`hierbayes.predict.simulate_new_groups`: a random
    posterior draw and group effects drawn from its ``N(0, T)`` with the estimated correlations,
    so the fan of lines shows how much new groups are expected to differ (in level and in slope)
    beyond the uncertainty of the population line. The thick line is the average group
    (``groups="population"``: group effects zero) with its HDI band. With a non-identity link and
    ``kind="mean"`` the dashed line is the population-averaged curve: the mean of the new
    groups' curves, which differs from the average group's curve.

    Parameters
    ----------
    x : str, optional
        Level-1 predictor on the horizontal axis (default: the first numeric varying slope, else
        the first numeric level-1 predictor).
    n_groups : int
        Number of simulated new groups.
    factor : str, optional
        Grouping factor (needed when the model has several).
    grid : sequence of float, optional
        Values of ``x`` (default: 25 points over its observed range).
    at : dict, optional
        Values of the other level-1 predictors (default: mean, or most frequent value).
    level2 : dict, optional
        Level-2 predictors of the new groups (default: their mean, or most frequent value, over
        the groups the model was fitted to), shown in the title.
    kind : {"mean", "linear"}
        Response scale or linear predictor.
    prob : float
        Probability of the population line's HDI band.
    random_seed : int, optional
    figsize : (float, float), optional

    Returns
    -------
    (Figure, ndarray of Axes)
        One axes.

    Examples
    --------
    >>> fig, axes = fit.plot_new_groups("Days", n_groups=1000, random_seed=1)  # doctest: +SKIP
    """
    if kind not in ("mean", "linear"):
        raise SummaryError(f"kind must be 'mean' or 'linear', got {kind!r}.")
    design = fit.design
    assert design.data is not None
    factor = choose_factor(design, factor)
    level1 = level1_variables(design)
    x = _default_x(design, factor, level1) if x is None else x
    if x not in level1 or not is_continuous(design, x):
        raise SummaryError(
            f"x={x!r} is not a numeric level-1 predictor of this model; choose among "
            f"{', '.join(v for v in level1 if is_continuous(design, v)) or 'none'}."
        )
    column = design.data[x]
    values = (
        np.linspace(float(column.min()), float(column.max()), GRID_SIZE)
        if grid is None
        else np.asarray(grid, dtype=float).reshape(-1)
    )
    at = dict(at or {})
    unknown = [k for k in at if k not in level1 or k == x]
    if unknown:
        raise SummaryError(
            f"at= names {unknown}, which are not other level-1 predictors of this model."
        )
    rows = pd.DataFrame({x: values})
    for v in level1:
        if v != x:
            rows[v] = at.get(v, _typical(design.data[v], is_continuous(design, v)))
        if isinstance(design.data[v].dtype, pd.CategoricalDtype):
            rows[v] = pd.Categorical(rows[v], categories=design.data[v].cat.categories)
    group_values = _level2(design, factor, level2)
    sim = simulate_new_groups(
        fit, n_groups, factor=factor, x=rows, level2=group_values, random_seed=random_seed
    )
    assert sim.data is not None
    population_rows = rows.assign(**group_values)
    population = predict(
        fit, population_rows, groups="population", kind=kind, summary=True, prob=prob
    )
    lo, hi = hdi_columns(prob)

    fig, axes = facet_grid(1, panel_size=(6.0, 4.2), figsize=figsize)
    ax = axes[0]
    lines = sim.data[kind].to_numpy().reshape(n_groups, values.size)
    alpha = float(min(0.4, max(0.03, 8.0 / n_groups)))
    ax.plot(values, lines.T, color=COLORS["partial"], alpha=alpha, lw=0.8)
    ax.fill_between(
        values, population[lo], population[hi], color=COLORS["population"], alpha=0.25, lw=0
    )
    ax.plot(values, population["mean"], color=COLORS["population"], lw=2.5)
    handles = [
        Line2D([], [], color=COLORS["partial"], alpha=0.6, label=f"{n_groups} new {factor} groups"),
        Line2D([], [], color=COLORS["population"], lw=2.5, label="average group"),
        Patch(color=COLORS["population"], alpha=0.25, label=f"{prob:.0%} HDI"),
    ]
    if kind == "mean" and design.family.link != "identity":
        ax.plot(values, lines.mean(axis=0), color=COLORS["no_pool"], lw=2, ls="--")
        handles.append(
            Line2D([], [], color=COLORS["no_pool"], lw=2, ls="--", label="population-averaged")
        )
    ax.set_xlabel(x)
    response = design.spec.response
    if kind == "linear":
        ylabel = f"linear predictor of {response}"
    elif design.family.link in ("logit", "probit", "cloglog"):
        ylabel = f"probability ({response})"
    else:
        ylabel = response
    ax.set_ylabel(ylabel)
    shown = ", ".join(f"{k} = {_fmt(v)}" for k, v in group_values.items())
    ax.set_title(f"Simulated new {factor} groups" + (f" ({shown})" if shown else ""), fontsize=10)
    ax.legend(handles=handles, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig, axes
