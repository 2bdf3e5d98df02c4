"""Data columns to checked numeric arrays: the columns a formula needs, the response, model
matrices and group codes, each with the checks that name the column at fault, and new data
encoded as the training data were (:func:`encode_like_training`). :mod:`hierbayes.design.design`
assembles them into a :class:`~hierbayes.design.Design`.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

import numpy as np
import pandas as pd
from formulaic import ModelSpec as FormulaicSpec
from formulaic import model_matrix
from formulaic.errors import FormulaicError

from hierbayes.design.na_hint import na_level_hint
from hierbayes.design.validate import check_group_labels
from hierbayes.errors import DataError, FamilyError, MissingColumnError, MissingValueError
from hierbayes.linalg import first_dependent_column
from hierbayes.spec import ModelSpec
from hierbayes.spec.safety import FORMULA_CONTEXT, check_expression
from hierbayes.spec.variables import column_names

__all__ = ["encode_like_training", "required_variables"]


def required_variables(spec: ModelSpec) -> list[str]:
    """Data columns a model needs, in a stable order.

    Examples
    --------
    >>> from hierbayes.spec import parse_formula
    >>> required_variables(parse_formula("y | trials(n) ~ np.log(x) + (1 + z | g1/g2)"))
    ['y', 'n', 'x', 'z', 'g1', 'g2']
    """
    names: list[str] = []

    def add(found: object) -> None:
        for name in sorted(str(v) for v in found):
            if name not in names:
                names.append(name)

    add(column_names(spec.fixed.response))
    if spec.fixed.trials is not None:
        add([spec.fixed.trials])
    add(column_names(spec.fixed.expr))
    for offset in spec.fixed.offsets:
        add(column_names(f"0 + I({offset})"))
    for group in spec.groups:
        add(column_names(group.expr))
        for name in group.factor:
            if name not in names:
                names.append(name)
    return names


def _check_columns(data: pd.DataFrame, names: list[str], level2: dict[str, tuple]) -> None:
    available = [str(c) for c in data.columns]
    for name in names:
        if name not in data.columns:
            close = difflib.get_close_matches(name, available, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise MissingColumnError(
                f"Column '{name}' used in the formula is not in the data.{hint} "
                f"Available columns: {', '.join(available[:20])}"
                + (" ..." if len(available) > 20 else "")
            )
    for name in names:
        missing = data[name].isna().to_numpy()
        if missing.any():
            rows = data.index[missing][:5].tolist()
            where = next(
                (f" (from the level-2 table for '{f}')" for f, c in level2.items() if name in c), ""
            )
            if missing.all():  # nothing to drop or impute from: the column itself is wrong
                raise MissingValueError(
                    f"Column '{name}'{where} has {int(missing.sum())} missing value(s): every row "
                    "is missing, so the column holds no data. Check how it was read or built."
                    + na_level_hint(data[name])
                )
            raise MissingValueError(
                f"Column '{name}'{where} has {int(missing.sum())} missing value(s), e.g. at rows "
                f'{rows}. hierbayes never drops rows silently: pass missing="drop" to drop the '
                "rows with a missing value in a column the model uses (lme4's na.omit; it warns "
                "with the count), or drop or impute them before fitting."
                + na_level_hint(data[name])
            )


def _group_codes(data: pd.DataFrame, factor: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    keys = data[list(factor)]
    grouped = keys.groupby(list(factor), sort=True, observed=True)
    codes = grouped.ngroup().to_numpy().astype(np.int64)
    keys = grouped.size().index
    labels = tuple(
        ":".join(_label(v) for v in (key if isinstance(key, tuple) else (key,))) for key in keys
    )
    check_group_labels(factor, keys, labels)
    return codes, labels


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _matrix(
    expr: str, data: pd.DataFrame, what: str
) -> tuple[np.ndarray, tuple[str, ...], FormulaicSpec]:
    check_expression(expr)
    try:
        mm = model_matrix(expr, data, na_action="raise", output="pandas", context=FORMULA_CONTEXT)
    except FormulaicError as err:
        raise DataError(f"Could not build the design of {what} ('{expr}'): {err}") from err
    except Exception as err:  # errors raised while evaluating user transforms such as np.log(x)
        raise DataError(f"Could not evaluate {what} ('{expr}'): {err}") from err
    values = np.asarray(mm.to_numpy(dtype=float))
    columns = tuple(str(c) for c in mm.columns)
    _check_finite(values, columns, what)
    return values, columns, mm.model_spec


def _check_finite(values: np.ndarray, columns: tuple[str, ...], what: str) -> None:
    bad = ~np.isfinite(values.reshape(len(values), -1))
    if bad.any():
        k = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = np.flatnonzero(bad[:, k])
        raise DataError(
            f"Column '{columns[k]}' of {what} has {rows.size} infinite value(s), e.g. at rows "
            f"{rows[:5].tolist()} (a transform such as np.log(0)?). Fix or drop those rows."
        )


def _response(data: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    name = spec.fixed.response
    if name in data.columns:
        column = data[name]
        if column.dtype == bool:
            return column.to_numpy(dtype=float)
        if not pd.api.types.is_numeric_dtype(column):
            raise FamilyError(
                f"Response '{name}' must be numeric (found {column.dtype}); code a yes/no outcome "
                "as 0/1 or True/False."
            )
        values = column.to_numpy(dtype=float)
        _check_finite(values, (name,), "the response")
        return values
    values, columns, _ = _matrix(f"0 + {name}", data, "the response")
    if values.shape[1] != 1:
        raise FamilyError(f"Response '{name}' must be a single numeric column, got {columns}.")
    return values[:, 0]


def _check_rank(X: np.ndarray, columns: tuple[str, ...], n_rows: int | None = None) -> None:
    # scale-aware: see hierbayes.linalg; X may be the R factor of n_rows rows (R'R = X'X)
    k = first_dependent_column(X, n_rows=n_rows)
    if k is None:
        return
    before = ", ".join(columns[:k])
    raise DataError(
        f"The fixed-effect column '{columns[k]}' is a linear combination of the columns before "
        f"it ({before}): the model cannot tell their effects apart. Remove it or one of those "
        "terms."
        if k
        else f"The fixed-effect column '{columns[k]}' is zero on every row. Remove it."
    )


def encode_like_training(spec: FormulaicSpec, data: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """Encode ``data`` with a training encoding ``spec``, leaving ``spec`` untouched.

    formulaic updates a spec's encoder state in place when new data disagree with it (a string
    column where the training data were numeric turns the variable categorical for every later
    call), so each encoding works on a copy.

    Examples
    --------
    >>> from formulaic import model_matrix
    >>> spec = model_matrix("1 + x", pd.DataFrame({"x": [0.0, 1.0]})).model_spec
    >>> encode_like_training(spec, pd.DataFrame({"x": ["a"]}), output="pandas")
    Traceback (most recent call last):
    ...
    formulaic.errors.FactorEncodingError: Term `x` has generated columns that are inconsistent ...
    >>> encode_like_training(spec, pd.DataFrame({"x": [2.0]}), output="pandas")["x"].tolist()
    [2.0]
    """
    check_expression(str(spec.formula))
    return copy.deepcopy(spec).get_model_matrix(data, context=FORMULA_CONTEXT, **kwargs)
