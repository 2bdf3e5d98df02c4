"""A hint for missing values in a text column: the file may spell a level "NA" or "None".

``pandas.read_csv`` reads the text ``NA``, ``N/A``, ``None``, ``NULL``, ``nan`` (and a few
more) as missing by default, so a factor or grouping level spelled that way (guPrenat's
``momEd`` level "None", a region coded "NA" for North America) arrives as a missing value.
The errors and warnings that report missing values in such a column say so and how to keep
the level.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["na_level_hint"]


def na_level_hint(column: pd.Series) -> str:
    """A sentence to append to a missing-value message about ``column``, or ``""``.

    The hint is given for a column of text, categories or booleans (a factor or grouping
    column), and for a column with no value at all whatever its type: ``read_csv`` reads a
    column whose every entry is "NA" as numbers (all NaN). Not for a numeric column with some
    values.

    Examples
    --------
    >>> na_level_hint(pd.Series(["Public", None, "Private"]))[:39]
    ' If the file spells a level "NA", "N/A"'
    >>> na_level_hint(pd.Series([1.0, None]))
    ''
    >>> na_level_hint(pd.Series([float("nan")] * 3))[:39]
    ' If the file spells a level "NA", "N/A"'
    """
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if numeric and not (len(column) and bool(column.isna().all())):
        return ""
    return (
        ' If the file spells a level "NA", "N/A" or "None", read it with '
        'pd.read_csv(..., keep_default_na=False, na_values=[""]) to keep that level.'
    )
