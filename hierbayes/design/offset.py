"""Offsets: terms of the linear predictor with a coefficient fixed at 1.

``offset(np.log(expected))`` in a formula (lme4's, brms's and bambi's spelling; any number of
them, summed) or ``offset="column"``. Each expression is evaluated by formulaic as arithmetic
(``I(...)``), on the model's data and again on the rows of a prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from formulaic import model_matrix

from hierbayes.errors import DataError, MissingColumnError
from hierbayes.spec.safety import FORMULA_CONTEXT, check_offset
from hierbayes.spec.variables import column_names

__all__ = ["offset_values", "offset_variables"]


def offset_variables(expr: str) -> list[str]:
    """The data columns an offset expression reads.

    Examples
    --------
    >>> offset_variables("np.log(expected)")
    ['expected']
    """
    return column_names(f"0 + I({expr})")


def offset_values(
    offsets: Sequence[str], data: pd.DataFrame, *, where: str = "the data"
) -> np.ndarray | None:
    """The sum of the offsets on each row of ``data`` (``None`` without offsets).

    Raises
    ------
    MissingColumnError
        When a column an offset needs is not in ``data`` (named, with the offset).
    DataError
        When an offset cannot be evaluated, or is missing or infinite on a row.

    Examples
    --------
    >>> df = pd.DataFrame({"expected": [1.0, np.e], "x": [0.5, 0.5]})
    >>> offset_values(["np.log(expected)", "x"], df).tolist()
    [0.5, 1.5]
    """
    if not offsets:
        return None
    total = np.zeros(len(data))
    for expr in offsets:
        check_offset(expr)  # an offset= argument is text from the user, like a formula
        for name in offset_variables(expr):
            if name not in data.columns:
                raise MissingColumnError(
                    f"Column '{name}' of the offset offset({expr}) is not in {where}; the "
                    f"offset is part of every prediction, so give '{name}' on every row."
                )
        try:
            mm = model_matrix(
                f"0 + I({expr})", data, na_action="ignore", output="pandas", context=FORMULA_CONTEXT
            )
            values = mm.to_numpy(dtype=float)
        except Exception as err:  # formulaic's, or the user's transform's (np.log of text)
            raise DataError(f"Could not evaluate the offset offset({expr}): {err}") from err
        if values.shape != (len(data), 1):
            raise DataError(
                f"The offset offset({expr}) must be one number per row, got {values.shape[1]} "
                "columns (a categorical variable?)."
            )
        bad = ~np.isfinite(values[:, 0])
        if bad.any():
            rows = data.index[bad][:5].tolist()
            raise DataError(
                f"The offset offset({expr}) is missing or infinite on {int(bad.sum())} row(s), "
                f"e.g. rows {rows} (np.log(0)?). Fix or drop those rows."
            )
        total += values[:, 0]
    return total
