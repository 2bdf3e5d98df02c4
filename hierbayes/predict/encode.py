"""Encode new data exactly as the training data was encoded.

The fixed part goes through the training formulaic spec (its categorical levels, contrasts and
stateful transforms such as ``center(x)``), each group term through its block's spec, and group
labels are built by the same rule as in :func:`hierbayes.design.make_design`. Formulaic only warns
about categorical levels it has not seen (and turns them into NaN); here they are an error that
names the predictor and the level.

Level-2 predictors missing from new data are looked up: for groups the model was fitted to, from
the training data; for other groups, from a ``level2=`` table. Missing values are an error.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from formulaic import Formula
from formulaic import ModelSpec as FormulaicSpec
from formulaic.errors import FormulaicError

from hierbayes.design import (
    Design,
    GroupBlock,
    encode_like_training,
    merge_level2,
    required_variables,
)
from hierbayes.design.design import _group_codes, _label, is_continuous
from hierbayes.design.level2 import _key_values, _show
from hierbayes.design.na_hint import na_level_hint
from hierbayes.design.offset import offset_values
from hierbayes.errors import (
    ArgumentError,
    DataError,
    Level2Error,
    MissingColumnError,
    MissingValueError,
    UnknownLevelError,
)
from hierbayes.frames import as_pandas, level2_as_pandas
from hierbayes.spec.safety import FORMULA_CONTEXT, check_expression
from hierbayes.spec.variables import column_names
from hierbayes.validate import check_level2

__all__ = [
    "Encoded",
    "EncodedBlock",
    "attach_level2",
    "block_matrix",
    "encode",
    "encode_training",
    "predictor_variables",
]


@dataclass(frozen=True)
class EncodedBlock:
    """One group term of new data: its design ``Z`` (n x q) and each row's group label."""

    name: str
    Z: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True)
class Encoded:
    """New data encoded for a fitted model.

    Attributes
    ----------
    X : ndarray, shape (n, p)
        Fixed-effect design, columns as ``design.fixed_columns``.
    blocks : tuple of EncodedBlock
        One per group term (empty when group terms were not asked for).
    index : Index
        Labels of the rows (the new data's index when unique, positions otherwise).
    y : ndarray or None
        The response, when asked for.
    trials : ndarray or None
        Binomial trials, when asked for.
    offset : ndarray or None
        The model's summed offsets on each row (``None`` when the model has none).
    """

    X: np.ndarray
    blocks: tuple[EncodedBlock, ...]
    index: pd.Index
    y: np.ndarray | None = None
    trials: np.ndarray | None = None
    offset: np.ndarray | None = None

    @property
    def n_obs(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])


def predictor_variables(design: Design) -> list[str]:
    """Data columns the predictors use (fixed part, group terms and grouping factors).

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0], "x": [0.0, 1.0, 0.0, 2.0],
    ...                    "g": ["a", "a", "b", "b"]})
    >>> predictor_variables(make_design(parse_formula("y ~ x + (1 | g)"), df))
    ['x', 'g']
    """
    skip = {design.spec.fixed.response, design.spec.fixed.trials}
    response_vars = set(column_names(design.spec.fixed.response))
    return [v for v in required_variables(design.spec) if v not in skip | response_vars]


def _block_variables(block: GroupBlock) -> list[str]:
    return sorted(str(v) for v in block.formulaic_spec.required_variables)


def _fixed_variables(design: Design) -> list[str]:
    return sorted(str(v) for v in design.fixed_formulaic_spec.required_variables)


def _check_present(data: pd.DataFrame, names: list[str], what: str) -> None:
    for name in names:
        if name not in data.columns:
            raise MissingColumnError(
                f"Column '{name}' ({what}) is not in the new data; add it. "
                f"The new data has: {', '.join(str(c) for c in data.columns[:20])}."
            )
        missing = data[name].isna().to_numpy()
        if missing.any():
            rows = data.index[missing][:5].tolist()
            raise MissingValueError(
                f"Column '{name}' ({what}) has {int(missing.sum())} missing value(s) in the new "
                f"data, e.g. at rows {rows}; predictions need a value on every row."
                + na_level_hint(data[name])
            )


def _check_numeric(design: Design, data: pd.DataFrame, names: list[str]) -> None:
    """Refuse text in a column that was a number in training (formulaic would misread it)."""
    if design.data is None:
        return
    factors = {name for block in design.blocks for name in block.term.factor}
    for name in names:
        if name in factors:  # group labels match as labels: 308 and "308" are one subject
            continue
        if name not in data.columns or name not in design.data.columns:
            continue
        column = data[name]
        if pd.api.types.is_numeric_dtype(column) and column.dtype != bool:
            continue
        if is_continuous(design, name):
            raise DataError(
                f"Column '{name}' was numeric in the data the model was fitted to but is "
                f"{column.dtype} in the new data (e.g. {column.iloc[0]!r}); give numbers."
            )


def _training_level2(design: Design, factor: str, columns: list[str]) -> pd.DataFrame:
    if design.data is None or any(c not in design.data.columns for c in [factor, *columns]):
        return pd.DataFrame(columns=[factor, *columns])
    table = design.data.groupby(factor, sort=True, observed=True)[columns].first()
    return table.reset_index()


def _user_table(table: pd.DataFrame, factor: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ArgumentError(
            f"level2['{factor}'] must be a DataFrame with one row per group, got "
            f"{type(table).__name__}."
        )
    return _key_values(table, factor)


def _as_training_keys(design: Design, data: pd.DataFrame, factor: str) -> pd.DataFrame:
    """Write the group keys of ``data`` as the training data wrote them.

    Group effects are matched by label (``"1224"`` and ``1224`` are the same school), so the
    level-2 lookup must match the same way.
    """
    if design.data is None or factor not in design.data.columns:
        return data
    by_label = {_label(v): v for v in pd.unique(design.data[factor])}
    keys = data[factor].map(lambda v: by_label.get(_label(v), v))
    if keys.equals(data[factor]):
        return data
    data = data.copy()
    data[factor] = keys
    return data


def attach_level2(
    design: Design,
    data: pd.DataFrame,
    level2: Mapping[str, pd.DataFrame] | None,
    used: list[str],
) -> pd.DataFrame:
    """Add the level-2 predictors that ``data`` lacks, by group.

    A group the model was fitted to takes its training values; any group listed in ``level2``
    (``{factor: one-row-per-group table}``) takes the table's values, which also serve new groups.
    Level-2 columns already in ``data`` are used as they are.
    """
    level2 = dict(check_level2(level2) or {})
    unknown = [f for f in level2 if f not in design.level2_columns]
    if unknown:
        have = list(design.level2_columns) or "none"
        raise Level2Error(
            f"level2 names {unknown}, which is not a grouping factor with level-2 predictors in "
            f"this model (those are: {have})."
        )
    for factor, table in level2.items():
        given = [c for c in _user_table(table, factor).columns if c != factor]
        twice = [c for c in given if c in data.columns and c in design.level2_columns[factor]]
        if twice:
            raise Level2Error(
                f"{', '.join(repr(c) for c in twice)} given twice: as column(s) of the new data "
                f"and in the level-2 table for '{factor}'. Keep one."
            )
    for factor, columns in design.level2_columns.items():
        lacking = [c for c in columns if c in used and c not in data.columns]
        if not lacking:
            continue
        if factor not in data.columns:
            raise MissingColumnError(
                f"The level-2 predictor(s) {', '.join(repr(c) for c in lacking)} of '{factor}' "
                f"are not in the new data, and neither is '{factor}' to look them up by group. "
                "Add the columns (or the group column) to the new data."
            )
        data = _as_training_keys(design, data, factor)
        table = _training_level2(design, factor, lacking)
        if factor in level2:
            user = _user_table(level2[factor], factor)
            absent = [c for c in lacking if c not in user.columns]
            if absent:
                raise MissingColumnError(
                    f"The level-2 table for '{factor}' lacks {', '.join(repr(c) for c in absent)}"
                    "; add the column(s) to the table or to the new data."
                )
            user = user[[factor, *lacking]]
            keep = ~table[factor].isin(set(user[factor]))
            table = pd.concat([user, table[keep]], ignore_index=True)
        groups = pd.unique(data[factor].dropna())
        known = set(table[factor])
        absent_groups = [g for g in groups if g not in known]
        if absent_groups:
            raise Level2Error(
                f"{len(absent_groups)} '{factor}' group(s) of the new data are not among the "
                f"groups the model was fitted to and have no value of the level-2 predictor(s) "
                f"{', '.join(repr(c) for c in lacking)}: {_show(absent_groups)}. Add the "
                f"column(s) to the new data, or pass level2={{'{factor}': table}} with one row "
                "per new group."
            )
        data, _ = merge_level2(data, {factor: table})
    return data


def _categorised_column(key: str) -> str | None:
    """The column that ``C(column, ...)`` encodes as it is; None for a computed value.

    Examples
    --------
    >>> _categorised_column("C(school, Sum)"), _categorised_column("C(s > 4)")
    ('school', None)
    """
    try:
        node = ast.parse(key, mode="eval").body
    except SyntaxError:
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "C"
        and node.args
        and isinstance(node.args[0], ast.Name)
    ):
        return node.args[0].id
    return None


def _check_levels(spec: FormulaicSpec, data: pd.DataFrame, what: str) -> None:
    """Raise :class:`UnknownLevelError` for a categorical level the training data did not have."""
    for key, (kind, state) in spec.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical" or "categories" not in state:
            continue
        if key in data.columns:
            column = key
        else:
            check_expression(key)  # formulaic evaluates transform arguments to find variables
            column = _categorised_column(key)
            if column is None or column not in data.columns:
                # a category of a computed value (``C(s > 4)``): formulaic's encoding below
                # reports a level it has not seen
                continue
        values = data[column]
        categories = list(state["categories"])
        unseen = pd.unique(values[~values.isin(categories)])
        if len(unseen):
            raise UnknownLevelError(
                f"Column '{column}' ({what}) has level(s) {_show(list(unseen))} that the model "
                f"was not fitted with; its levels are {_show(categories, 10)}. A model cannot "
                "predict for a category it has not seen: recode those rows or drop them."
            )


def _matrix(spec: FormulaicSpec, data: pd.DataFrame, columns: tuple[str, ...], what: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mm = encode_like_training(spec, data, output="pandas", na_action="ignore")
        except FormulaicError as err:
            raise DataError(f"Could not encode {what} for the new data: {err}") from err
        except Exception as err:  # errors raised while evaluating transforms such as np.log(x)
            raise DataError(f"Could not evaluate {what} for the new data: {err}") from err
    for warning in caught:
        text = str(warning.message)
        if "categories outside of the nominated levels" in text:
            raise UnknownLevelError(f"The new data has an unseen level in {what}: {text}")
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if "Intercept" in mm.columns and "Intercept" not in columns:  # ordinal: the cut-points
        mm = mm.drop(columns="Intercept")
    got = tuple(str(c) for c in mm.columns)
    if got != columns:
        raise DataError(
            f"The new data encode {what} as columns {list(got)}, but the model was fitted with "
            f"{list(columns)}."
        )
    values = np.asarray(mm.to_numpy(dtype=float))
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = data.index[bad[:, k]][:5].tolist()
        raise DataError(
            f"Column '{columns[k]}' of {what} is missing or infinite in {int(bad[:, k].sum())} "
            f"row(s) of the new data, e.g. at rows {rows} (a transform such as np.log(0)?)."
        )
    return values


def block_matrix(block: GroupBlock, data: pd.DataFrame) -> np.ndarray:
    """``Z`` of one group term for new data (n x q), encoded with the term's training spec."""
    what = f"the group term {block.term}"
    _check_present(data, _block_variables(block), what)
    _check_levels(block.formulaic_spec, data, what)
    return _matrix(block.formulaic_spec, data, block.columns, what)


def _row_index(data: pd.DataFrame) -> pd.Index:
    return data.index if data.index.is_unique else pd.RangeIndex(len(data))


def encode(
    design: Design,
    newdata: pd.DataFrame,
    *,
    level2: Mapping[str, pd.DataFrame] | None = None,
    groups: bool = True,
    response: bool = False,
    trials: bool = False,
) -> Encoded:
    """Encode ``newdata`` with the training encoding of ``design``.

    Parameters
    ----------
    design : Design
    newdata : DataFrame
        One row per prediction. Level-2 predictors may be left out (see :func:`attach_level2`).
    level2 : dict, optional
        ``{factor: one-row-per-group table}`` with level-2 predictors of new groups.
    groups : bool
        Encode the group terms (their ``Z`` and each row's group label).
    response, trials : bool
        Also read the response / the binomial trials.

    Returns
    -------
    Encoded

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0], "x": [0.0, 1.0, 0.0, 2.0],
    ...                    "g": ["a", "a", "b", "b"]})
    >>> d = make_design(parse_formula("y ~ x + (1 | g)"), df)
    >>> enc = encode(d, pd.DataFrame({"x": [3.0], "g": ["c"]}))
    >>> enc.X.tolist(), enc.blocks[0].labels.tolist()
    ([[1.0, 3.0]], ['c'])
    """
    newdata, level2 = as_pandas(newdata), level2_as_pandas(level2)  # polars & co. -> pandas
    if not isinstance(newdata, pd.DataFrame):
        raise ArgumentError(
            f"newdata must be a pandas DataFrame, got {type(newdata).__name__}: wrap it, as in "
            "pd.DataFrame(newdata)."
        )
    if len(newdata) == 0:
        raise DataError("The new data has no rows.")
    index = _row_index(newdata)
    data = newdata.reset_index(drop=True)
    used = predictor_variables(design)
    data = attach_level2(design, data, level2, used)

    fixed_vars = _fixed_variables(design)
    _check_present(data, fixed_vars, "a predictor of the fixed part")
    _check_numeric(design, data, used)
    _check_levels(design.fixed_formulaic_spec, data, "a predictor of the fixed part")
    X = _matrix(design.fixed_formulaic_spec, data, design.fixed_columns, "the fixed effects")

    blocks: list[EncodedBlock] = []
    if groups:
        for block in design.blocks:
            what = f"the group term {block.term}"
            _check_present(data, list(block.term.factor), what)
            Z = block_matrix(block, data)
            codes, labels = _group_codes(data, block.term.factor)
            blocks.append(EncodedBlock(block.name, Z, np.asarray(labels, dtype=object)[codes]))

    y = None
    if response:
        name = design.spec.fixed.response
        if name in data.columns:
            _check_present(data, [name], "the response")
            y = data[name].to_numpy(dtype=float)
        else:
            check_expression(f"0 + {name}")
            variables = column_names(name)
            _check_present(data, variables, "the response")
            mm = Formula(f"0 + {name}").get_model_matrix(
                data, output="pandas", context=FORMULA_CONTEXT
            )
            y = mm.to_numpy(dtype=float)[:, 0]
    trials_values = None
    if trials and design.spec.fixed.trials is not None:
        name = design.spec.fixed.trials
        _check_present(data, [name], "the number of binomial trials")
        trials_values = data[name].to_numpy(dtype=float)
        if (trials_values < 0).any() or (np.round(trials_values) != trials_values).any():
            raise DataError(
                f"Column '{name}' (binomial trials) must hold non-negative integers in the new "
                "data."
            )
    offset = offset_values(design.spec.fixed.offsets, data, where="the new data")
    return Encoded(X, tuple(blocks), index, y, trials_values, offset)


def encode_training(design: Design, index: pd.Index) -> Encoded:
    """The training data as :class:`Encoded`, straight from the design's arrays."""
    blocks = tuple(
        EncodedBlock(b.name, b.Z, np.asarray(b.levels, dtype=object)[b.codes])
        for b in design.blocks
    )
    return Encoded(design.X, blocks, pd.Index(index), design.y, design.trials, design.offset)
