"""Any dataframe in, pandas inside: polars, PyArrow, Modin, cuDF, ... through narwhals.

hierbayes works on pandas. Tables given by the user (``data=``, ``level2=`` tables, ``newdata``,
``x=``) are converted once, where they enter, by :func:`as_pandas`; anything that is not a
dataframe passes through unchanged, so the callee's own checks still name what was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["as_pandas", "level2_as_pandas"]


def as_pandas(table: Any) -> Any:
    """``table`` as a pandas DataFrame when it is a dataframe of any library narwhals knows
    (a lazy frame is collected), or one with the dataframe interchange protocol; else unchanged.

    Examples
    --------
    >>> import pyarrow as pa  # doctest: +SKIP
    >>> as_pandas(pa.table({"y": [1.0, 2.0]}))  # doctest: +SKIP
         y
    0  1.0
    1  2.0
    >>> as_pandas([1, 2])
    [1, 2]
    """
    if table is None or isinstance(table, pd.DataFrame | str | Mapping | list | tuple):
        return table
    import narwhals.stable.v2 as nw

    frame = nw.from_native(table, pass_through=True)
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    if isinstance(frame, nw.DataFrame):
        return frame.to_pandas()
    if hasattr(table, "__dataframe__"):
        return pd.api.interchange.from_dataframe(table)
    return table


def level2_as_pandas(level2: Any) -> Any:
    """A ``level2=`` argument with its tables converted by :func:`as_pandas` (a dict's values,
    or a single table); other values unchanged.

    Examples
    --------
    >>> level2_as_pandas({"school": ["meanses"]})
    {'school': ['meanses']}
    """
    if isinstance(level2, Mapping):
        return {key: as_pandas(value) for key, value in level2.items()}
    return as_pandas(level2)
