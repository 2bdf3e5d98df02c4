"""Data for a model written as level equations: level-2 tables and level-2 predictors checked.

:func:`level_data` merges the level-2 tables (as ``level2={group: table}`` does for a formula),
checks that every predictor of a level-2 equation is constant within each group, and declares those
predictors as group-level, so that the model is the same as the equivalent formula with
``level2=`` and is rendered with each predictor at its level.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hierbayes.design.level2 import check_constant_within, merge_level2
from hierbayes.errors import ArgumentError, Level2Error, MissingColumnError
from hierbayes.spec.levels import LevelSpec

__all__ = ["Level2Data", "level_data"]

Level2Data = pd.DataFrame | Mapping[str, pd.DataFrame]


def _tables(levels: LevelSpec, level2_data: Level2Data | None) -> dict[str, pd.DataFrame]:
    if level2_data is None:
        return {}
    if isinstance(level2_data, pd.DataFrame):
        if len(levels.group) > 1:
            raise Level2Error(
                "With several grouping levels, pass level2_data as a dict by grouping column, "
                f"e.g. {{'{levels.group[0]}': table}}, so each table is matched at its level."
            )
        return {levels.group[0]: level2_data}
    if not isinstance(level2_data, Mapping):
        raise ArgumentError(
            "level2_data must be a DataFrame with one row per group or a dict of them by grouping "
            f"column, got {type(level2_data).__name__}."
        )
    for key in level2_data:
        if key not in levels.group:
            raise Level2Error(
                f"level2_data has a table for '{key}', which is not a grouping column of the model "
                f"({', '.join(levels.group)})."
            )
    return dict(level2_data)


def _unique_labels(data: pd.DataFrame, group: tuple[str, ...], k: int) -> bool:
    """Whether the labels of ``group[k]`` alone tell its groups apart (none repeats across the
    groups of the levels above it)."""
    if k == 0:
        return True
    outer = data[list(group[:k])].astype(str).agg(":".join, axis=1)
    return bool((outer.groupby(data[group[k]], observed=True).nunique() <= 1).all())


def level_data(
    levels: LevelSpec, data: pd.DataFrame, level2_data: Level2Data | None = None
) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """Merge level-2 tables and check the level-2 predictors of ``levels``.

    Parameters
    ----------
    levels : LevelSpec
    data : DataFrame
        One row per observation.
    level2_data : DataFrame or dict of DataFrame, optional
        One row per group of ``levels.group`` (a dict by grouping column with several levels).

    Returns
    -------
    data : DataFrame
        ``data`` with the tables' columns merged (the same object when there is no table).
    level2 : dict
        Grouping column -> its group-level columns, for ``hb.Model(..., level2=level2)``.

    Raises
    ------
    MissingColumnError
        When a level-2 predictor is in neither the data nor a table.
    Level2Error
        When a level-2 predictor varies within a group (naming the group), or a table does not
        match the groups (see :func:`~hierbayes.design.level2.merge_level2`).

    Examples
    --------
    >>> from hierbayes.spec.levels import parse_levels
    >>> levels = parse_levels("y ~ x", {"Intercept": "~ w"}, group="g")
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [0.0, 1, 0, 1], "g": [1, 1, 2, 2],
    ...                    "w": [0.5, 0.5, 0.7, 0.7]})
    >>> level_data(levels, df)[1]
    {'g': ('w',)}
    >>> df.loc[1, "w"] = 0.6
    >>> level_data(levels, df)
    Traceback (most recent call last):
    ...
    hierbayes.errors.Level2Error: Level-2 predictor 'w' varies within 'g' = 1: ...
    """
    if not isinstance(data, pd.DataFrame):
        raise ArgumentError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    group = levels.group
    for name in group:
        if name not in data.columns:
            raise MissingColumnError(f"Grouping column '{name}' is not a column of the data.")
    tables = _tables(levels, level2_data)
    for key in tables:
        if not _unique_labels(data, group, group.index(key)):
            raise Level2Error(
                f"The '{key}' labels repeat across groups of '{group[group.index(key) - 1]}', so "
                f"a table keyed by '{key}' alone cannot be matched to them; give each '{key}' a "
                "unique label first."
            )
    merged, table_columns = merge_level2(data, tables)
    variables = levels.level2_variables
    for name in variables:
        if name not in merged.columns:
            where = " or of level2_data" if tables else ""
            raise MissingColumnError(
                f"Level-2 predictor '{name}' is not a column of the data{where}."
            )
    innermost = ":".join(group)
    if len(group) == 1:
        check_constant_within(merged, innermost, list(variables))
    elif variables:
        keyed = merged[list(variables)].copy()
        keyed[innermost] = merged[list(group)].astype(str).agg(":".join, axis=1)
        check_constant_within(keyed, innermost, list(variables))
    declared: dict[str, tuple[str, ...]] = {}
    placed: set[str] = set()
    for k, name in enumerate(group):
        columns = list(table_columns.get(name, ()))
        if _unique_labels(merged, group, k):
            for variable in variables:
                if variable in placed or variable in columns:
                    continue
                constant = merged.groupby(name, observed=True)[variable].nunique(dropna=False)
                if (constant <= 1).all():
                    columns.append(variable)
        placed.update(columns)
        if columns:
            declared[name] = tuple(columns)
    return merged, declared
