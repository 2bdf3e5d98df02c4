"""Group-level (level-2) predictors: merge one-row-per-group tables and check constancy.

``level2={"school": schools}`` merges the columns of ``schools`` onto the long data by the
``school`` key; ``level2={"school": ["meanses", "sector"]}`` declares columns already in the long
data as school-level and checks that each is constant within every school.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hierbayes.errors import ArgumentError, Level2Error, MissingColumnError
from hierbayes.validate import check_level2

__all__ = ["Level2Input", "check_constant_within", "merge_level2"]

Level2Input = Mapping[str, pd.DataFrame | Sequence[str]]


def _plain(value: object) -> object:
    """NumPy scalars as Python ones, so messages read ``1`` rather than ``np.int64(1)``."""
    return value.item() if isinstance(value, np.generic) else value


def _show(values: Sequence[object], limit: int = 5) -> str:
    shown = ", ".join(repr(_plain(v)) for v in values[:limit])
    more = len(values) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def check_constant_within(data: pd.DataFrame, factor: str, columns: Sequence[str]) -> None:
    """Raise :class:`Level2Error` if a column takes more than one value within a group.

    Examples
    --------
    >>> df = pd.DataFrame({"g": [1, 1, 2], "w": [0.5, 0.7, 1.0]})
    >>> check_constant_within(df, "g", ["w"])
    Traceback (most recent call last):
    ...
    hierbayes.errors.Level2Error: Level-2 predictor 'w' varies within 'g' = 1: it takes the
    values 0.5, 0.7 there. ...
    """
    for column in columns:
        if column not in data.columns:
            raise MissingColumnError(
                f"Level-2 predictor '{column}' declared for '{factor}' is not a column of the data."
            )
        counts = data.groupby(factor, sort=True, observed=True)[column].nunique(dropna=False)
        varying = counts[counts > 1]
        if len(varying):
            group = _plain(varying.index[0])
            values = pd.unique(data.loc[data[factor] == group, column])
            raise Level2Error(
                f"Level-2 predictor '{column}' varies within '{factor}' = {group!r}: it takes the "
                f"values {_show(list(values))} there. A level-2 predictor must be constant within "
                f"each group ({len(varying)} of {len(counts)} groups vary); use it as a level-1 "
                f"predictor, or aggregate it per group first (e.g. its group mean)."
            )


def _key_values(table: pd.DataFrame, factor: str) -> pd.DataFrame:
    if factor in table.columns:
        return table.reset_index(drop=True)
    if table.index.name == factor:
        return table.reset_index()
    raise MissingColumnError(
        f"The level-2 table for '{factor}' has no '{factor}' column (nor an index of that name) "
        f"to match groups by; its columns are {_show(list(table.columns), 10)}."
    )


def merge_level2(data: pd.DataFrame, level2: Level2Input | None) -> tuple[pd.DataFrame, dict]:
    """Merge level-2 tables onto the long data and validate level-2 predictors.

    Parameters
    ----------
    data : DataFrame
        Long (one row per observation) data.
    level2 : mapping
        Grouping factor -> one-row-per-group DataFrame, or -> list of column names of ``data`` that
        are group-level.

    Returns
    -------
    data : DataFrame
        A copy of ``data`` with the level-2 columns added.
    columns : dict
        Grouping factor -> tuple of its level-2 column names.

    Examples
    --------
    >>> students = pd.DataFrame({"school": [1, 1, 2], "y": [1.0, 2.0, 3.0]})
    >>> schools = pd.DataFrame({"school": [1, 2], "sector": ["Public", "Catholic"]})
    >>> merged, cols = merge_level2(students, {"school": schools})
    >>> merged["sector"].tolist(), cols
    (['Public', 'Public', 'Catholic'], {'school': ('sector',)})
    """
    if not check_level2(level2):
        return data, {}
    merged = data.copy()
    columns: dict[str, tuple[str, ...]] = {}
    for factor, table in level2.items():
        if factor not in merged.columns:
            raise MissingColumnError(
                f"level2 names the grouping factor '{factor}', which is not a column of the data."
            )
        if isinstance(table, pd.DataFrame):
            merged, added = _merge_table(merged, factor, table)
            columns[factor] = added
        elif isinstance(table, Sequence) and not isinstance(table, str):
            check_constant_within(merged, factor, list(table))
            columns[factor] = tuple(table)
        else:
            raise ArgumentError(
                f"level2['{factor}'] must be a DataFrame with one row per group or a list of "
                f"column names, got {type(table).__name__}."
            )
    return merged, columns


def _merge_table(
    data: pd.DataFrame, factor: str, table: pd.DataFrame
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    table = _key_values(table, factor)
    keys = table[factor]
    if keys.isna().any():
        raise Level2Error(
            f"The level-2 table for '{factor}' has a missing '{factor}' key in "
            f"{int(keys.isna().sum())} row(s); every row must name its group."
        )
    duplicated = keys[keys.duplicated()].unique()
    if len(duplicated):
        raise Level2Error(
            f"The level-2 table for '{factor}' must have one row per group, but "
            f"{_show(list(duplicated))} appear(s) more than once."
        )
    groups = pd.unique(data[factor].dropna())
    absent = [g for g in groups if g not in set(keys)]
    if absent:
        hint = ""
        if data[factor].dtype != keys.dtype:
            hint = (
                f" (the '{factor}' column is {data[factor].dtype} in the data but {keys.dtype} in "
                "the table: convert one to match)"
            )
        raise Level2Error(
            f"{len(absent)} '{factor}' group(s) in the data are missing from the level-2 table: "
            f"{_show(absent)}{hint}. Add their rows to the table."
        )
    lookup = table.set_index(factor)
    index = pd.Index(lookup.index).get_indexer(data[factor])
    added = []
    for column in lookup.columns:
        # .array keeps extension dtypes: a Categorical keeps its levels and their order
        merged = pd.Series(lookup[column].iloc[index].array, index=data.index, name=column)
        values = merged.to_numpy()
        if column in data.columns:
            same = pd.Series(values, index=data.index).eq(data[column]) | (
                pd.isna(values) & data[column].isna().to_numpy()
            )
            if not same.all():
                pos = int(np.flatnonzero(~same.to_numpy())[0])
                raise Level2Error(
                    f"Column '{column}' is in both the data and the level-2 table for '{factor}', "
                    f"with different values (at '{factor}' = {_plain(data[factor].iloc[pos])!r}: "
                    f"{_plain(data[column].iloc[pos])!r} in the data, {_plain(values[pos])!r} in "
                    "the table). "
                    "Drop it from one of them."
                )
        else:
            data[column] = merged
        added.append(column)
    return data, tuple(added)
