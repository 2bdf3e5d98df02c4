"""Each group's fitted line over a grid of one predictor: ``group_lines()``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hierbayes.design import Design, encode_like_training, is_continuous
from hierbayes.errors import SummaryError
from hierbayes.summaries.dpar_rows import grid_params
from hierbayes.summaries.nopool import no_pooling
from hierbayes.summaries.population import population_map
from hierbayes.summaries.posterior import FactorBlocks, flatten, single_factor, unflatten
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = [
    "DEFAULT_GRID_SIZE",
    "group_lines",
    "line_variables",
    "select_groups",
    "varies_within_groups",
    "within_group_predictors",
]

DEFAULT_GRID_SIZE = 25


def line_variables(design: Design) -> list[str]:
    """The predictors (data columns) of the fixed part and the group terms, in a stable order."""
    names: list[str] = []
    specs = [design.fixed_formulaic_spec, *(b.formulaic_spec for b in design.blocks)]
    for spec in specs:
        for name in sorted(spec.required_variables):
            if name not in names:
                names.append(name)
    return names


def varies_within_groups(design: Design, fb: FactorBlocks, name: str) -> bool:
    """Whether predictor ``name`` takes more than one value inside at least one group."""
    assert design.data is not None
    return bool((design.data[name].groupby(fb.codes).nunique() > 1).any())


def within_group_predictors(design: Design, fb: FactorBlocks) -> list[str]:
    """Numeric predictors that vary within groups (level-1 predictors): what a line per group
    can be drawn over."""
    return [
        v
        for v in line_variables(design)
        if is_continuous(design, v) and varies_within_groups(design, fb, v)
    ]


def select_groups(fb: FactorBlocks, groups: Sequence[object] | None) -> list[int]:
    """Positions of the requested group labels (all groups when ``None``)."""
    if groups is None:
        return list(range(len(fb.levels)))
    if isinstance(groups, str) or not isinstance(groups, Sequence | np.ndarray | pd.Index):
        groups = [groups]
    index = {label: j for j, label in enumerate(fb.levels)}
    out = []
    for g in groups:
        label = str(int(g)) if isinstance(g, float) and g.is_integer() else str(g)
        if label not in index:
            shown = ", ".join(fb.levels[:8]) + (" ..." if len(fb.levels) > 8 else "")
            raise SummaryError(f"Unknown {fb.factor} {g!r}; its groups are {shown}.")
        out.append(index[label])
    if not out:
        raise SummaryError("groups= is empty: name at least one group.")
    return out


def _check_x(design: Design, fb: FactorBlocks, x: str, variables: list[str]) -> pd.Series:
    assert design.data is not None
    if x not in variables:
        raise SummaryError(
            f"x={x!r} is not a predictor of this model; its predictors are {', '.join(variables)}."
        )
    column = design.data[x]
    if not is_continuous(design, x):
        choices = [v for v in variables if is_continuous(design, v)]
        raise SummaryError(
            f"x={x!r} is categorical in this model; group lines need a numeric predictor. "
            + (f"Choose one of {', '.join(choices)}." if choices else "This model has none.")
        )
    if not varies_within_groups(design, fb, x):
        usable = within_group_predictors(design, fb)
        raise SummaryError(
            f"x={x!r} is constant within every {fb.factor} (a level-2 predictor), so each "
            f"{fb.factor}'s line over it would be drawn through a single value of {x}. Group "
            f"lines need a level-1 predictor that varies within {fb.factor}s: "
            + (
                f"use one of {', '.join(usable)}."
                if usable
                else "this model has none (compare groups with plot_caterpillar() or "
                "plot_pooling() instead)."
            )
        )
    return column


def _grid(column: pd.Series, grid: Sequence[float] | np.ndarray | None) -> np.ndarray:
    if grid is None:
        return np.linspace(float(column.min()), float(column.max()), DEFAULT_GRID_SIZE)
    values = np.asarray(grid, dtype=float).reshape(-1)
    if values.size == 0 or not np.isfinite(values).all():
        raise SummaryError(f"grid= must be a non-empty sequence of finite numbers, got {grid!r}.")
    return values


def _reference(column: pd.Series, continuous: bool) -> Any:
    """Reference value of a predictor: its mean if continuous, else its first (reference) level."""
    if column.dtype == bool:
        return False
    if continuous:
        return float(column.mean())
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.categories[0]
    return sorted(column.unique())[0]


def line_frame(
    design: Design,
    fb: FactorBlocks,
    x: str,
    grid: np.ndarray,
    positions: list[int],
    at: Mapping[str, Any] | None,
) -> pd.DataFrame:
    """Predictor values of each group's line: ``x`` over ``grid``; every other predictor at the
    group's own value when it is constant within groups, else at ``at`` or its reference value."""
    assert design.data is not None
    data = design.data
    variables = line_variables(design)
    at = dict(at or {})
    unknown = [k for k in at if k not in variables or k == x]
    if unknown:
        raise SummaryError(
            f"at= names {unknown}, which are not other predictors of this model; choose among "
            f"{', '.join(v for v in variables if v != x)}."
        )
    by_group = data.groupby(fb.codes, sort=True)
    rows = []
    for j in positions:
        part = pd.DataFrame({x: grid})
        part.insert(0, "group", fb.levels[j])
        rows.append(part)
    frame = pd.concat(rows, ignore_index=True)
    codes = np.repeat(positions, grid.size)
    for v in variables:
        if v == x:
            continue
        if v in at:
            frame[v] = at[v]
        elif (by_group[v].nunique(dropna=False) == 1).all():
            frame[v] = by_group[v].first().to_numpy()[codes]
        else:
            frame[v] = _reference(data[v], is_continuous(design, v))
        if isinstance(data[v].dtype, pd.CategoricalDtype):
            frame[v] = pd.Categorical(frame[v], categories=data[v].cat.categories)
    return frame


def model_matrices(
    design: Design, fb: FactorBlocks, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-part and varying-coefficient columns of ``frame``, encoded as the training data."""
    try:
        X = encode_like_training(
            design.fixed_formulaic_spec, frame, na_action="raise", output="pandas"
        )
        X = X[list(design.fixed_columns)].to_numpy(dtype=float)
        Z = np.hstack(
            [
                encode_like_training(b.formulaic_spec, frame, na_action="raise", output="pandas")[
                    list(b.columns)
                ].to_numpy(dtype=float)
                for b in fb.blocks
            ]
        )
    except Exception as err:
        raise SummaryError(f"Could not evaluate the model at the requested values: {err}") from err
    return X, Z


def group_lines(
    fit: Fit,
    x: str,
    *,
    grid: Sequence[float] | np.ndarray | None = None,
    groups: Sequence[object] | None = None,
    at: Mapping[str, Any] | None = None,
    scale: str = "response",
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """Posterior mean and HDI of each group's fitted line over a grid of ``x``.

    Defined for models with one grouping factor (several terms on it are fine), like
    :func:`~hierbayes.summaries.pooling`, whose no-pooling fit it draws on.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    x : str
        A numeric level-1 predictor of the model (``"cses"``, ``"Days"``): one that varies
        within groups. A predictor constant within every group (a level-2 predictor such as
        ``meanses``) is refused with a :class:`~hierbayes.errors.SummaryError` that names the
        ones that can be used.
    grid : sequence of float, optional
        Values of ``x`` (default: 25 evenly spaced values over its observed range).
    groups : sequence, optional
        Group labels (default: every group).
    at : dict, optional
        Values for other predictors. Otherwise a predictor constant within groups (a level-2
        predictor such as ``meanses`` or ``sector``) takes each group's own value, a numeric
        level-1 predictor its mean over the data and a categorical one its reference (first)
        level, as ``brms::conditional_effects`` does.
    scale : {"response", "link"}
        ``"response"``: the expected response (probability for bernoulli/binomial, rate for
        poisson, ``exp(η + σ²/2)`` for lognormal, its no-pooling line with the posterior mean
        of ``σ``); ``"link"``: the linear predictor.
    prob : float
        HDI probability.

    Returns
    -------
    DataFrame
        Long format, one row per group and grid value: ``group``, ``x`` (named after the
        predictor), the other predictors' values used, ``mean``, ``sd`` and HDI of the group's
        line (fixed part plus the group's effects), ``population`` (posterior mean of the
        group's population line, its fixed part, level-2 predictors included) and ``no_pool``
        (the line of the group's own fit, ``NaN`` when not identified; see
        :mod:`hierbayes.summaries.nopool`).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.group_lines("Days", grid=[0, 9], groups=["308", "309"])  # doctest: +SKIP
    """
    if scale not in ("response", "link"):
        raise SummaryError(f"scale must be 'response' or 'link', got {scale!r}.")
    design = fit.design
    fb = single_factor(design, "group_lines()")
    if design.data is None:
        raise SummaryError("This fit does not carry its data; group lines need the predictors.")
    column = _check_x(design, fb, x, line_variables(design))
    values = _grid(column, grid)
    positions = select_groups(fb, groups)
    frame = line_frame(design, fb, x, values, positions, at)
    X, Z = model_matrices(design, fb, frame)
    codes = np.repeat(positions, values.size)

    posterior = fit.idata["posterior"].to_dataset()
    b = flatten(posterior["b"].transpose("chain", "draw", "term"))
    u = fb.deviations(posterior)[:, codes, :]  # (S, rows, q)
    fixed = b @ X.T
    eta = fixed + np.einsum("srq,rq->sr", u, Z)
    pmap = population_map(design, fb)
    own = no_pooling(design, fb, pmap)
    own_eta = np.einsum("rq,rq->r", Z, own.estimates[codes]) + X[:, list(pmap.shared)] @ own.shared
    family = design.family
    if scale == "response":
        # a parameter that varies by row (sigma=): each line's group's value, its population one
        draws, pop = grid_params(fit, posterior, frame, fb.factor, frame["group"])
        means = {p: v.mean(axis=0) for p, v in draws.items()}  # for the no-pooling line
        lines, population = family.expected(eta, draws), family.expected(fixed, pop)
        no_pool = family.expected(own_eta, means)
    else:
        lines, population, no_pool = eta, fixed, own_eta

    da = unflatten(lines, posterior, ("row",), {"row": np.arange(len(frame))})
    summary = summarize(da, prob=prob).drop(columns="row")
    table = pd.concat([frame, summary], axis=1)
    table["population"] = population.mean(axis=0)
    table["no_pool"] = no_pool
    return table
