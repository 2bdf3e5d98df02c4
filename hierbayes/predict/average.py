"""Averages over the data in marginaleffects' vocabulary: ``predictions``, ``comparisons``,
``slopes``.

Each is computed draw by draw on the data the model was fitted to (or ``newdata``), averaged
over its rows (within each level of ``by=``), and summarised by posterior mean, SD and HDI:

``predictions``
    The average expected response (marginaleffects' ``avg_predictions``).
``comparisons(variable)``
    The average change in the expected response when ``variable`` is set, on every row, to each
    level against its reference (first) level (categorical), or raised by ``delta`` (numeric,
    default 1): ``mean_i [f(x_i + Δ) - f(x_i)]``. For a gaussian model without interactions of
    the variable this is its coefficient, draw by draw.
``slopes(variable)``
    The average derivative of the expected response in a numeric ``variable`` (average
    marginal effect), by central finite difference with step ``1e-4`` times the variable's SD.

``groups`` chooses the group effects (as :func:`hierbayes.predict.predict`): ``"existing"``
(default: each row's fitted group effects, brms's and marginaleffects' default),
``"population"`` (the average group), ``"marginal"`` (population-averaged over new groups, by
quadrature; see :mod:`hierbayes.predict.marginal`) or ``"new"``. Both counterfactual data sets of
a comparison use the same draws of new groups' effects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.design import Design, is_continuous
from hierbayes.errors import ArgumentError, SummaryError
from hierbayes.frames import as_pandas
from hierbayes.predict.predict import GROUPS, predict
from hierbayes.summaries.effects import levels_of
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["comparisons", "predictions", "slopes"]

_SEED = 20240521  # new groups' effects: the same draws for every counterfactual


def _data(fit: Fit, newdata: pd.DataFrame | None) -> pd.DataFrame:
    if newdata is not None:
        newdata = as_pandas(newdata)  # polars & co. -> pandas, as predict() takes them
        if not isinstance(newdata, pd.DataFrame):
            raise ArgumentError(
                f"newdata must be a pandas DataFrame, got {type(newdata).__name__}: wrap it, as "
                "in pd.DataFrame(newdata)."
            )
        return newdata.reset_index(drop=True)
    if fit.design.data is None:
        raise SummaryError("This fit does not carry its data; pass newdata=.")
    return fit.design.data.reset_index(drop=True)


def _by_list(by: str | Sequence[str] | None, data: pd.DataFrame) -> list[str]:
    if by is None:
        return []
    names = [by] if isinstance(by, str) else list(by)
    missing = [b for b in names if b not in data.columns]
    if missing:
        raise SummaryError(
            f"by= names {missing}, which are not columns of the data; its columns are "
            f"{', '.join(map(str, data.columns))}."
        )
    return names


def _check_groups(groups: str) -> None:
    if groups not in GROUPS:
        raise SummaryError(
            f"groups must be one of {', '.join(repr(g) for g in GROUPS)}, got {groups!r}."
        )


def _draws(fit: Fit, data: pd.DataFrame, groups: str, scale: str) -> xr.DataArray:
    kind = "mean" if scale == "response" else "linear"
    if scale not in ("response", "link"):
        raise SummaryError(f"scale must be 'response' or 'link', got {scale!r}.")
    values = predict(fit, data, groups=groups, kind=kind, random_seed=_SEED)  # type: ignore[arg-type]
    assert isinstance(values, xr.DataArray)
    return values.rename({values.dims[-1]: "row"}).assign_coords(row=np.arange(len(data)))


def _average(values: xr.DataArray, data: pd.DataFrame, by: list[str], prob: float) -> pd.DataFrame:
    """Average draws over rows (within ``by`` cells) and summarise."""
    if not by:
        return summarize(values.mean("row"), prob=prob)
    keys = data[by].astype(object).apply(tuple, axis=1)
    cells = list(dict.fromkeys(keys))
    parts = []
    for cell in cells:
        rows = np.flatnonzero((keys == cell).to_numpy())
        table = summarize(values.isel(row=rows).mean("row"), prob=prob)
        for name, value in zip(by, cell, strict=True):
            table.insert(len(table.columns) - 4, name, value)
        parts.append(table)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(by, kind="stable").reset_index(drop=True)


def predictions(
    fit: Fit,
    newdata: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] | None = None,
    groups: str = "existing",
    scale: str = "response",
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """Average predictions over the rows of the data (within each level of ``by``).

    Parameters
    ----------
    fit : Fit
    newdata : DataFrame, optional
        Rows to average over (default: the data the model was fitted to).
    by : str or list of str, optional
        Columns of the data: one average per combination of their values (default: one
        average over all rows).
    groups : {"existing", "population", "marginal", "new"}
        Which group effects (see the module notes): each row's fitted ones (default), the
        average group's, population-averaged over new groups, or a new group's.
    scale : {"response", "link"}
        Expected response (inverse link) or linear predictor.
    prob : float
        HDI probability.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``mean``, ``sd`` and HDI of the average prediction.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.predictions(groups="marginal")  # doctest: +SKIP
    """
    _check_groups(groups)
    data = _data(fit, newdata)
    names = _by_list(by, data)
    return _average(_draws(fit, data, groups, scale), data, names, prob)


def _variable(design: Design, data: pd.DataFrame, variable: str) -> None:
    if not isinstance(variable, str) or variable not in data.columns:
        raise SummaryError(
            f"{variable!r} is not a column of the data; its columns are "
            f"{', '.join(map(str, data.columns))}."
        )
    assert design.data is not None
    if variable not in design.data.columns:
        raise SummaryError(f"{variable!r} is not a predictor of this model.")


def comparisons(
    fit: Fit,
    variable: str,
    newdata: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] | None = None,
    delta: float = 1.0,
    groups: str = "existing",
    scale: str = "response",
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """Average difference in the expected response between values of ``variable``.

    Parameters
    ----------
    variable : str
        A predictor. Categorical: each level against the reference (first) level. Numeric:
        ``x + delta`` against ``x``.
    newdata : DataFrame, optional
        Rows to average over (default: the data the model was fitted to).
    delta : float
        Step of a numeric ``variable`` (default 1).
    by, groups, scale, prob
        As :func:`predictions`.

    Returns
    -------
    DataFrame
        ``term`` (the variable), ``contrast`` (``"Public - Catholic"``, ``"+1"``), the ``by``
        columns, ``mean``, ``sd`` and HDI of the average difference.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.comparisons("Days")  # doctest: +SKIP
    """
    _check_groups(groups)
    design = fit.design
    data = _data(fit, newdata)
    names = _by_list(by, data)
    _variable(design, data, variable)
    pairs: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
    if is_continuous(design, variable):
        if not _is_number(delta) or not np.isfinite(delta) or delta == 0:
            raise SummaryError(f"delta must be a non-zero number, got {delta!r}.")
        high = data.copy()
        high[variable] = data[variable].astype(float) + delta
        pairs.append((f"+{delta:g}", high, data))
    else:
        levels = levels_of(design, variable)
        for level in levels[1:]:
            lo, hi = data.copy(), data.copy()
            lo[variable] = _like(data[variable], levels[0])
            hi[variable] = _like(data[variable], level)
            pairs.append((f"{level} - {levels[0]}", hi, lo))
    tables = []
    for label, hi, lo in pairs:
        diff = _draws(fit, hi, groups, scale) - _draws(fit, lo, groups, scale)
        table = _average(diff, data, names, prob)
        table.insert(0, "contrast", label)
        table.insert(0, "term", variable)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _like(column: pd.Series, value: object) -> pd.Series:
    """A column of ``value`` with the dtype (categories) of ``column``."""
    out = pd.Series([value] * len(column), index=column.index)
    if isinstance(column.dtype, pd.CategoricalDtype):
        return out.astype(column.dtype)
    return out


def slopes(
    fit: Fit,
    variable: str,
    newdata: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] | None = None,
    groups: str = "existing",
    scale: str = "response",
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """Average derivative of the expected response in the numeric ``variable``.

    Central finite difference ``[f(x + h) - f(x - h)] / 2h`` with ``h = 1e-4 * sd(x)``, row by
    row and draw by draw, averaged over the rows (within ``by``).

    Parameters
    ----------
    fit : Fit
    variable : str
        A numeric predictor (for a categorical one use :func:`comparisons`).
    newdata : DataFrame, optional
        Rows to average over (default: the data the model was fitted to).
    by, groups, scale, prob
        As :func:`predictions`.

    Returns
    -------
    DataFrame
        ``term``, the ``by`` columns, ``mean``, ``sd`` and HDI of the average slope.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.slopes("Days")  # doctest: +SKIP
    """
    _check_groups(groups)
    design = fit.design
    data = _data(fit, newdata)
    names = _by_list(by, data)
    _variable(design, data, variable)
    if not is_continuous(design, variable):
        raise SummaryError(
            f"{variable!r} is categorical: use comparisons({variable!r}) for the differences "
            "between its levels."
        )
    assert design.data is not None
    sd = float(design.data[variable].std(ddof=1))
    h = 1e-4 * (sd if np.isfinite(sd) and sd > 0 else 1.0)
    hi, lo = data.copy(), data.copy()
    hi[variable] = data[variable].astype(float) + h
    lo[variable] = data[variable].astype(float) - h
    derivative = (_draws(fit, hi, groups, scale) - _draws(fit, lo, groups, scale)) / (2 * h)
    table = _average(derivative, data, names, prob)
    table.insert(0, "term", variable)
    return table


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
