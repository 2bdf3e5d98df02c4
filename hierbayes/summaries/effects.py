"""``fit.conditional_effects()``: the population-level line of one predictor, as brms draws it.

For a numeric predictor ``x``, the fitted population-level value (group effects zero: the
*average group*, brms's ``re_formula = NA``) over a grid of ``x``; for a categorical one, at each
of its levels. ``by=`` draws one line per level of a categorical predictor, or at its mean and
mean ± 1 SD for a numeric one (brms's default for a numeric moderator), which is the plot of a
cross-level interaction such as ``cses * sector``. Every other predictor is held at its mean
over the data (numeric) or its reference level (categorical), or at the value ``at=`` gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hierbayes.design import Design, encode_like_training, is_continuous
from hierbayes.errors import SummaryError
from hierbayes.families.cumulative import expected_category
from hierbayes.summaries.dpar_rows import grid_params
from hierbayes.summaries.lines import _reference
from hierbayes.summaries.posterior import flatten, unflatten
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = [
    "GRID_SIZE",
    "conditional_effects",
    "fixed_matrix",
    "fixed_variables",
    "levels_of",
]

GRID_SIZE = 50


def fixed_variables(design: Design) -> list[str]:
    """Data columns of the fixed part, in a stable order."""
    return sorted(str(v) for v in design.fixed_formulaic_spec.required_variables)


def levels_of(design: Design, name: str) -> list[Any]:
    """Observed levels of a categorical predictor, in the encoding's order."""
    assert design.data is not None
    column = design.data[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.unique().tolist())


def fixed_matrix(design: Design, frame: pd.DataFrame) -> np.ndarray:
    """The fixed-effect columns of ``frame``, encoded as the training data (n x p)."""
    assert design.data is not None
    frame = frame.copy()
    for v in frame.columns:
        if v in design.data.columns and isinstance(design.data[v].dtype, pd.CategoricalDtype):
            frame[v] = pd.Categorical(frame[v], categories=design.data[v].cat.categories)
    try:
        X = encode_like_training(
            design.fixed_formulaic_spec, frame, na_action="raise", output="pandas"
        )
        return X[list(design.fixed_columns)].to_numpy(dtype=float)
    except Exception as err:
        raise SummaryError(f"Could not evaluate the model at the requested values: {err}") from err


def _check_variable(design: Design, name: str, what: str, variables: Sequence[str]) -> None:
    if not isinstance(name, str) or name not in variables:
        raise SummaryError(
            f"{what}={name!r} is not a population-level predictor of this model; its predictors "
            f"are {', '.join(variables) or 'none'}."
        )


def _values(design: Design, name: str, numeric_by: bool = False) -> list[Any]:
    assert design.data is not None
    column = design.data[name]
    if not is_continuous(design, name):
        return levels_of(design, name)
    if numeric_by:
        mean, sd = float(column.mean()), float(column.std(ddof=1))
        return [mean - sd, mean, mean + sd]
    return list(np.linspace(float(column.min()), float(column.max()), GRID_SIZE))


def effect_frame(
    design: Design,
    x: str,
    by: str | None,
    at: Mapping[str, Any] | None,
    grid: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """The predictor values of the effect: ``x`` (by ``by``), the others held fixed."""
    assert design.data is not None
    variables = fixed_variables(design)
    _check_variable(design, x, "x", variables)
    if by is not None:
        _check_variable(design, by, "by", variables)
        if by == x:
            raise SummaryError(f"by={by!r} is the predictor itself; choose another predictor.")
    at = dict(at or {})
    bad = [k for k in at if k not in variables or k in (x, by)]
    if bad:
        raise SummaryError(
            f"at= names {bad}, which are not other population-level predictors of this model; "
            f"choose among {', '.join(v for v in variables if v not in (x, by))}."
        )
    xs = list(grid) if grid is not None else _values(design, x)
    if len(xs) == 0:
        raise SummaryError("grid= is empty: give at least one value of x.")
    if by is None:
        frame = pd.DataFrame({x: xs})
    else:
        bys = _values(design, by, numeric_by=True)
        frame = pd.DataFrame(
            {by: np.repeat(np.asarray(bys, dtype=object), len(xs)), x: xs * len(bys)}
        )
        if is_continuous(design, by):
            frame[by] = frame[by].astype(float)
    if is_continuous(design, x):
        try:
            frame[x] = frame[x].astype(float)
        except (TypeError, ValueError):
            raise SummaryError(
                f"grid= gives values of the numeric predictor '{x}' that are not numbers "
                f"({xs[:5]!r}); give numbers."
            ) from None
    for v in variables:
        if v in (x, by):
            continue
        frame[v] = at[v] if v in at else _reference(design.data[v], is_continuous(design, v))
    return frame


def conditional_effects(
    fit: Fit,
    x: str,
    *,
    by: str | None = None,
    at: Mapping[str, Any] | None = None,
    grid: Sequence[Any] | None = None,
    scale: str = "response",
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """The population-level effect of ``x`` (optionally by ``by``) with its HDI band.

    Parameters
    ----------
    fit : Fit
    x : str
        A population-level predictor (data column), numeric or categorical.
    by : str, optional
        A second predictor: one line per level (categorical) or at mean - SD, mean and
        mean + SD (numeric).
    at : dict, optional
        Values of other predictors (default: mean or reference level).
    grid : sequence, optional
        Values of ``x`` (default: 50 evenly spaced values over its range, or its levels).
    scale : {"response", "link"}
        Expected response (inverse link) or linear predictor.
    prob : float
        HDI probability.

    Returns
    -------
    DataFrame
        One row per grid point: the predictor values used (``x``, ``by``, the others), then
        ``mean``, ``sd`` and the HDI bounds of the population-level value (group effects at
        zero), draw by draw ``inverse_link(X b)`` (the expected response: lognormal's
        ``exp(X b + σ²/2)``, a zero-inflated family's ``(1 - zi) exp(X b)``, an ordinal model's
        expected category number, categories numbered 1..K).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.conditional_effects("Days").head(2)  # doctest: +SKIP
    """
    if scale not in ("response", "link"):
        raise SummaryError(f"scale must be 'response' or 'link', got {scale!r}.")
    design = fit.design
    if design.data is None:
        raise SummaryError("This fit does not carry its data; effects need the predictors.")
    frame = effect_frame(design, x, by, at, grid)
    X = fixed_matrix(design, frame)
    posterior = fit.idata["posterior"].to_dataset()
    b = flatten(posterior["b"].sel(term=list(design.fixed_columns)))
    eta = b @ X.T
    if scale == "response" and design.family.cutpoints:  # ordinal: the expected category number
        cut = flatten(posterior["cutpoints"])[:, None, :]
        values = expected_category(eta, cut, design.family.link)
    else:
        # a parameter that varies by row (sigma=) at its population value on the grid
        own = grid_params(fit, posterior, frame)[1] if scale == "response" else {}
        values = design.family.expected(eta, own) if scale == "response" else eta
    da = unflatten(values, posterior, ("row",), {"row": np.arange(len(frame))})
    summary = summarize(da, prob=prob).drop(columns="row")
    table = pd.concat([frame.reset_index(drop=True), summary], axis=1)
    table.attrs = {"x": x, "by": by, "scale": scale, "prob": prob}
    return table
