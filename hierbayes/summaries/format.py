"""Numbers as a reader wants them: estimates to the precision of their uncertainty, R-hat with
two decimals, effective sample sizes as integers."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["decimals_for", "format_estimates", "format_number"]

RHAT_COLUMNS = ("r_hat",)
ESS_COLUMNS = ("ess_bulk", "ess_tail")


def decimals_for(sd: float, significant: int = 2) -> int:
    """Decimals that show ``significant`` significant digits of ``sd`` (0 for large SDs).

    Examples
    --------
    >>> decimals_for(0.16), decimals_for(6.9), decimals_for(140.0), decimals_for(0.0)
    (2, 1, 0, 2)
    """
    if not math.isfinite(sd) or sd <= 0:
        return 2
    return max(0, significant - 1 - math.floor(math.log10(sd)))


def format_number(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals; ``nan`` as ``-``.

    Examples
    --------
    >>> format_number(0.0010354, 3), format_number(float("nan"), 2), format_number(-0.0001, 2)
    ('0.001', '-', '0.00')
    """
    if not math.isfinite(value):
        return "-"
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_estimates(table: pd.DataFrame, *, sd_column: str = "sd") -> pd.DataFrame:
    """A table of posterior summaries as strings, consistently rounded row by row.

    Every number of a row that is on the parameter's scale (``mean``, ``sd``, HDI bounds, ...)
    gets the decimals that show two significant digits of the row's posterior SD (one more
    than the SD's precision would be noise); ``r_hat`` gets two decimals; ``ess_*`` columns are
    integers. Other columns are left as they are.

    Examples
    --------
    >>> t = pd.DataFrame({"mean": [0.3126, 251.4], "sd": [0.16, 6.93], "hdi_3%": [0.001035, 238.1],
    ...                   "r_hat": [1.0, 0.9995], "ess_bulk": [812.6, 1500.2]}, index=["x", "y"])
    >>> format_estimates(t)
       mean    sd hdi_3% r_hat ess_bulk
    x  0.31  0.16   0.00  1.00      813
    y 251.4   6.9  238.1  1.00     1500
    """
    out = pd.DataFrame(index=table.index)
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    for column in table.columns:
        values = table[column]
        if column not in numeric:
            out[column] = values.astype(str)
        elif column in RHAT_COLUMNS:
            out[column] = [format_number(float(v), 2) for v in values]
        elif column in ESS_COLUMNS:
            out[column] = [format_number(float(v), 0) for v in values]
        else:
            sds = table[sd_column] if sd_column in table else values.abs()
            out[column] = [
                format_number(float(v), decimals_for(float(s)))
                for v, s in zip(values, sds, strict=True)
            ]
    return out
