"""Missing values: an error by default; ``missing="drop"`` drops the rows, never silently.

``missing="raise"`` (default) reports the first column with missing values, with their count
and rows. ``missing="drop"`` drops every row with a missing value in a column the model uses
(response, predictors, grouping factors, trials, offsets' and weights' columns, after merging
level-2 tables), warns with the count per column, and records it in the design
(:attr:`hierbayes.design.Design.dropped`), hence in ``fit.summary()`` and saved fits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hierbayes.design.na_hint import na_level_hint
from hierbayes.errors import ArgumentError, DataError, MissingDataWarning

__all__ = ["MISSING", "describe_dropped", "drop_missing"]

MISSING = ("raise", "drop")


def drop_missing(
    data: pd.DataFrame, names: Sequence[str], missing: str
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """Rows of ``data`` to model: ``(kept rows, mask of kept rows, missing count per column)``.

    With ``missing="raise"`` nothing is dropped (the caller's checks raise); with ``"drop"``
    rows with a missing value in any of ``names`` go, with a :class:`MissingDataWarning`.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, None, 3.0], "x": [None, None, 1.0]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     kept, mask, counts = drop_missing(df, ["y", "x"], "drop")
    >>> mask.tolist(), counts
    ([False, False, True], {'y': 1, 'x': 2})
    """
    if missing not in MISSING:
        raise ArgumentError(f"missing must be 'raise' or 'drop', got {missing!r}.")
    mask = np.ones(len(data), dtype=bool)
    if missing == "raise":
        return data, mask, {}
    counts: dict[str, int] = {}
    for name in names:
        if name not in data.columns:
            continue  # the caller reports the missing column
        na = data[name].isna().to_numpy()
        if na.any():
            counts[name] = int(na.sum())
            mask &= ~na
    if not counts:
        return data, mask, {}
    hint = next((h for h in (na_level_hint(data[name]) for name in counts) if h), "")
    if not mask.any():
        raise DataError(
            f"Every row has a missing value in a column the model uses ({describe_dropped(counts)})"
            f"; nothing is left to fit.{hint}"
        )
    warnings.warn(
        f"Dropped {int((~mask).sum())} of {len(data)} rows with missing values "
        f"({describe_dropped(counts)}).{hint}",
        MissingDataWarning,
        stacklevel=3,
    )
    return data.loc[mask], mask, counts


def describe_dropped(counts: dict[str, int]) -> str:
    """``"x: 2 missing, y: 1 missing"``.

    Examples
    --------
    >>> describe_dropped({"x": 2, "y": 1})
    'x: 2 missing, y: 1 missing'
    """
    return ", ".join(f"{name}: {n} missing" for name, n in counts.items())
