"""Imagine many new groups: the population line plus the lines of simulated new groups."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
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
    """Level-2 values shared by every new group: those given, the others at their typical value
    over the fitted groups (mean, or most frequent value)."""
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
        values[column] = given[column] if column in given else _typical_level2(design, column)
    return values


def _per_group(design: Design, column: str) -> pd.Series:
    """One value of a level-2 column per fitted group of the factor that owns it."""
    assert design.data is not None
    owner = next(f for f, cols in design.level2_columns.items() if column in cols)
    return design.data.groupby(owner, sort=True, observed=True)[column].first()


def _typical_level2(design: Design, column: str) -> Any:
    return _typical(_per_group(design, column), is_continuous(design, column))


def _fmt(value: Any) -> str:
    """A value for a title: floats to 3 significant digits, without a negative zero."""
    if isinstance(value, float | np.floating):
        text = f"{float(value):.3g}"
        return "0" if text in ("-0", "0") else text
    return str(value)


def _title_values(design: Design, values: Mapping[str, Any], given: Mapping[str, Any]) -> str:
    """``sector = Catholic; meanses at its mean``: values the user gave are printed, defaults
    held at their mean are named, the most frequent level of a categorical one is printed."""
    shown, at_mean = [], []
    for column, value in values.items():
        if column not in given and is_continuous(design, column):
            at_mean.append(column)
        else:
            shown.append(f"{column} = {_fmt(value)}")
    if at_mean:
        shown.append(f"{', '.join(at_mean)} at {'its' if len(at_mean) == 1 else 'their'} mean")
    return "; ".join(shown)


def _check_by(design: Design, by: str, level2: object) -> None:
    needed = level2_variables(design)
    if by not in needed:
        raise SummaryError(
            f"by={by!r} is not a level-2 predictor of this model; colour the new groups by one "
            f"of {', '.join(needed) or 'none (this model has no level-2 predictors)'}."
        )
    if isinstance(level2, pd.DataFrame) and by not in level2.columns:
        raise SummaryError(
            f"by={by!r} colours the new groups by their values of {by}, but the level2= table "
            f"has no column {by!r}: add it, or leave level2= out to sample it."
        )
    if isinstance(level2, Mapping) and by in level2:
        raise SummaryError(
            f"by={by!r} colours the new groups by their values of {by}, but level2= holds it "
            f"at {level2[by]!r} for every group: leave {by} out of level2= (its values are "
            "then sampled from the fitted groups)."
        )


def _level2_table(
    design: Design,
    factor: str,
    level2: Mapping[str, Any] | pd.DataFrame | str | None,
    by: str | None,
    n_groups: int,
    rng: np.random.Generator,
) -> tuple[Mapping[str, Any] | pd.DataFrame | str, dict[str, Any]]:
    """What to pass to simulate_new_groups, and the level-2 values of the average group(s)."""
    if isinstance(level2, str):
        if level2 != "sample":
            raise SummaryError(f"level2 must be a dict, a DataFrame or 'sample', got {level2!r}.")
        return "sample", _level2(design, factor, None)
    if isinstance(level2, pd.DataFrame):
        return level2, _level2(design, factor, None)
    if by is None:
        values = _level2(design, factor, level2)
        return values, values
    # by= with some values held fixed: the others (by among them) sampled from fitted groups
    fixed = _level2(design, factor, level2)
    sample = [c for c in level2_variables(design) if c not in (level2 or {})]
    owner = {c: next(f for f, cols in design.level2_columns.items() if c in cols) for c in sample}
    foreign = [c for c in sample if owner[c] != factor]
    if foreign:
        raise SummaryError(
            f"by={by!r} samples the level-2 predictors of new {factor} groups, but "
            f"{', '.join(foreign)} belong(s) to another factor: give their values in level2=."
        )
    assert design.data is not None
    table = design.data.groupby(factor, sort=True, observed=True)[sample].first()
    rows = table.iloc[rng.integers(0, len(table), size=n_groups)].reset_index(drop=True)
    for column, value in fixed.items():
        if column not in sample:
            rows[column] = value
    return rows, fixed


def _colours(
    design: Design, by: str | None, values: pd.Series | None, n_groups: int
) -> tuple[list[Any], list[tuple[Any, Any]], Any]:
    """Colour of each new group's line, (level, colour) pairs of a categorical ``by``, and a
    ScalarMappable for the colourbar of a numeric one."""
    if by is None or values is None:
        return [COLORS["partial"]] * n_groups, [], None
    if is_continuous(design, by):
        norm = Normalize(float(values.min()), float(values.max()))
        mappable = ScalarMappable(norm=norm, cmap=colormaps["viridis"])
        return [mappable.to_rgba(float(v)) for v in values], [], mappable
    levels = _levels(design, by, values)
    palette = {level: f"C{i % 10}" for i, level in enumerate(levels)}
    return [palette[v] for v in values], list(palette.items()), None


def _levels(design: Design, by: str, values: pd.Series) -> list[Any]:
    assert design.data is not None
    column = design.data[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [c for c in column.cat.categories if c in set(values)]
    return sorted(set(values), key=str)


def plot_new_groups(
    fit: Fit,
    x: str | None = None,
    *,
    n_groups: int = 100,
    factor: str | None = None,
    grid: Sequence[float] | np.ndarray | None = None,
    at: Mapping[str, Any] | None = None,
    level2: Mapping[str, Any] | pd.DataFrame | str | None = None,
    by: str | None = None,
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
    (``groups="population"``: group effects zero) with its HDI band, drawn above the fan. With a
    non-identity link and ``kind="mean"`` the dashed line is the population-averaged curve: the
    mean of the new groups' curves, which differs from the average group's curve.

    Parameters
    ----------
    fit : Fit
        A fitted model with at least one grouping factor.
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
    level2 : dict, DataFrame or "sample", optional
        Level-2 predictors of the new groups. A dict holds them at the given values for every
        group (predictors it leaves out: their mean, or most frequent value, over the fitted
        groups); a DataFrame gives one row per new group; ``"sample"`` takes each new group's
        values from a randomly chosen fitted group, so the fan shows groups like the observed
        ones. The title names the values used; numeric ones at their default read
        "... at its mean".
    by : str, optional
        A level-2 predictor to colour the new groups by (e.g. ``"sector"``). Its values are
        sampled from the fitted groups (unless ``level2`` is a DataFrame). A categorical ``by``
        gets one colour per level and one average-group line with its HDI band per level (other
        level-2 predictors at their typical value); a numeric one a colour scale with a
        colourbar.
    kind : {"mean", "linear"}
        Response scale or linear predictor.
    prob : float
        Probability of the population line's HDI band.
    random_seed : int, optional
        The same seed gives the same new groups.
    figsize : (float, float), optional
        Figure size in inches.

    Returns
    -------
    (Figure, ndarray of Axes)
        One axes.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_new_groups("Days", n_groups=1000, random_seed=1)  # doctest: +SKIP

    New schools of the High School and Beyond data, their level-2 predictors sampled from the
    fitted schools and coloured by sector:

    >>> hsb = hb.Model("mAch ~ cses * (meanses + sector) + (1 + cses | school)",
    ...                data=hb.datasets.load("hsb"))
    >>> hsb_fit = hsb.fit(random_seed=1)  # doctest: +SKIP
    >>> fig, axes = hsb_fit.plot_new_groups("cses", by="sector", n_groups=300)  # doctest: +SKIP
    """
    if kind not in ("mean", "linear"):
        raise SummaryError(f"kind must be 'mean' or 'linear', got {kind!r}.")
    design = fit.design
    assert design.data is not None
    factor = choose_factor(design, factor)
    if by is not None:
        _check_by(design, by, level2)
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
    rng = np.random.default_rng(random_seed)
    request, average = _level2_table(design, factor, level2, by, n_groups, rng)
    sim = simulate_new_groups(fit, n_groups, factor=factor, x=rows, level2=request, random_seed=rng)
    assert sim.data is not None
    lo, hi = hdi_columns(prob)
    by_values = sim.groups[by] if by is not None else None
    colours, levels, mappable = _colours(design, by, by_values, n_groups)

    fig, axes = facet_grid(1, panel_size=(6.0, 4.2), figsize=figsize)
    ax = axes[0]
    lines = sim.data[kind].to_numpy().reshape(n_groups, values.size)
    alpha = float(min(0.4, max(0.03, 8.0 / n_groups)))
    for line, colour in zip(lines, colours, strict=True):
        ax.plot(values, line, color=colour, alpha=alpha, lw=0.8, zorder=1)
    averages = (
        [(None, COLORS["population"], average)]
        if not levels
        else [(level, colour, {**average, by: level}) for level, colour in levels]
    )
    handles: list[Any] = []
    for level, colour, group_values in averages:
        population = predict(
            fit,
            rows.assign(**group_values),
            groups="population",
            kind=kind,
            summary=True,
            prob=prob,
        )
        ax.fill_between(
            values, population[lo], population[hi], color=colour, alpha=0.35, lw=0, zorder=3
        )
        for edge in (lo, hi):
            ax.plot(values, population[edge], color=colour, lw=0.8, zorder=3.5)
        ax.plot(values, population["mean"], color=colour, lw=2.5, zorder=4)
        if level is not None:
            count = int((by_values == level).sum())
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    lw=2.5,
                    label=f"{by} = {level} ({count} new group{'' if count == 1 else 's'})",
                )
            )
    if levels:
        handles.append(
            Patch(
                facecolor="0.5",
                alpha=0.35,
                edgecolor="0.3",
                label=f"average group with its {prob:.0%} HDI (thick line, band)",
            )
        )
    else:
        if mappable is None:
            handles.append(
                Line2D(
                    [],
                    [],
                    color=COLORS["partial"],
                    alpha=0.6,
                    label=f"{n_groups} new {factor} groups",
                )
            )
        handles += [
            Line2D([], [], color=COLORS["population"], lw=2.5, label="average group"),
            Patch(
                facecolor=COLORS["population"],
                alpha=0.35,
                edgecolor=COLORS["population"],
                label=f"{prob:.0%} HDI of the average group",
            ),
        ]
    if kind == "mean" and design.family.link != "identity":
        ax.plot(values, lines.mean(axis=0), color=COLORS["no_pool"], lw=2, ls="--", zorder=5)
        handles.append(
            Line2D([], [], color=COLORS["no_pool"], lw=2, ls="--", label="population-averaged")
        )
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, label=f"{by} of the new group")
    ax.set_xlabel(x)
    response = design.spec.response
    if kind == "linear":
        ylabel = f"linear predictor of {response}"
    elif design.family.link in ("logit", "probit", "cloglog"):
        ylabel = f"probability ({response})"
    else:
        ylabel = response
    ax.set_ylabel(ylabel)
    ax.set_title(_title(design, factor, n_groups, level2, by, average), fontsize=9)
    ax.legend(handles=handles, fontsize=8, frameon=True, framealpha=0.85)
    fig.tight_layout()
    return fig, axes


def _title(
    design: Design,
    factor: str,
    n_groups: int,
    level2: Mapping[str, Any] | pd.DataFrame | str | None,
    by: str | None,
    average: Mapping[str, Any],
) -> str:
    title = f"{n_groups} simulated new {factor} groups"
    if not average:
        return title
    held = dict(level2) if isinstance(level2, Mapping) else {}
    if isinstance(level2, pd.DataFrame):
        parts = ["level-2 predictors as given"]
    elif level2 == "sample" or by is not None:
        parts = [f"{k} = {_fmt(v)} for every group" for k, v in held.items()]
        parts.append(
            f"{'other ' if held else ''}level-2 predictors sampled from the fitted {factor}s"
        )
    else:
        return f"{title}\n" + textwrap.fill(f"({_title_values(design, average, held)})", 70)
    shown = {k: v for k, v in average.items() if k != by and k not in held}
    if shown:
        plural = by is not None and not is_continuous(design, by)
        parts.append(f"average group{'s' if plural else ''}: {_title_values(design, shown, {})}")
    return f"{title}\n" + textwrap.fill(f"({'; '.join(parts)})", 70)
