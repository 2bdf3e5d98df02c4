"""Likelihood weights: each row's log-likelihood counts ``w`` times (brms's ``weights()``).

With integer weights this is frequency weighting: a row with weight 3 is three identical rows,
so aggregated data (one row per distinct combination, with its count as weight) give the same
posterior as the expanded data. Weights are not normalised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hierbayes.errors import ArgumentError, DataError, MissingColumnError

__all__ = ["column_means", "weight_values"]


def weight_values(data: pd.DataFrame, name: str) -> np.ndarray:
    """The weights in column ``name`` of ``data``, checked: numbers, finite, not negative.

    Examples
    --------
    >>> weight_values(pd.DataFrame({"n": [1, 3, 2]}), "n").tolist()
    [1.0, 3.0, 2.0]
    """
    if not isinstance(name, str):
        raise ArgumentError(f"weights must be a column name, got {type(name).__name__}.")
    if name not in data.columns:
        raise MissingColumnError(
            f"Column '{name}' given as weights= is not in the data; give a column of "
            "non-negative numbers."
        )
    column = data[name]
    if not pd.api.types.is_numeric_dtype(column) or column.dtype == bool:
        raise DataError(f"Weights column '{name}' must hold numbers (found {column.dtype}).")
    values = column.to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        rows = data.index[bad][:5].tolist()
        raise DataError(
            f"Weights column '{name}' has {int(bad.sum())} missing, infinite or negative "
            f"value(s), e.g. at rows {rows}; weights must be non-negative numbers."
        )
    return values


def column_means(X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Means of the columns of ``X``, weighted by the likelihood weights when given.

    Examples
    --------
    >>> column_means(np.array([[1.0], [4.0]]), np.array([2.0, 1.0])).tolist()
    [2.0]
    """
    if X.shape[1] == 0:
        return np.zeros(0)
    if weights is None:
        return X.mean(axis=0)
    return weights @ X / weights.sum()
