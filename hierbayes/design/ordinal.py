"""The response and the fixed design of an ordinal (cumulative) model.

An ordinal response is an ordered pandas ``Categorical`` (its categories in their order, every
category kept, observed or not) or numbers taking integer values (their distinct observed values
in increasing order); it is coded ``1..K`` and the categories' labels are kept. The cut-points
take the place of the population intercept, so the fixed design loses its ``Intercept`` column
(built with it, so that categorical predictors keep their reduced-rank coding, as brms).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
from scipy.special import ndtri

from hierbayes.errors import DataError, FamilyError
from hierbayes.linalg import first_dependent_column

__all__ = ["cutpoint_labels", "drop_intercept", "ordinal_response", "start_cutpoints"]


def _label(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def ordinal_response(column: pd.Series, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes ``1..K`` (floats) and the categories' labels of an ordinal response.

    Raises
    ------
    FamilyError
        For an unordered or non-numeric response, a non-integer number, or fewer than three
        categories (a binary response is a bernoulli model).

    Examples
    --------
    >>> codes, labels = ordinal_response(pd.Series([3, 5, 5, 9]), "y")
    >>> codes.tolist(), labels
    ([1.0, 2.0, 2.0, 3.0], ('3', '5', '9'))
    >>> s = pd.Series(pd.Categorical(["lo", "hi", "mid"], ["lo", "mid", "hi"], ordered=True))
    >>> ordinal_response(s, "y")
    (array([1., 3., 2.]), ('lo', 'mid', 'hi'))
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        if not column.dtype.ordered:
            raise FamilyError(
                f"Response '{name}' is an unordered categorical; the cumulative family needs "
                'its categories in order: make it ordered, e.g. data["{name}"] = '
                f'data["{name}"].cat.as_ordered() (or pd.Categorical(..., categories=[...], '
                "ordered=True))."
            )
        labels = tuple(_label(c) for c in column.cat.categories)
        codes = column.cat.codes.to_numpy().astype(float) + 1.0
        empty = [labels[k] for k in range(len(labels)) if not (codes == k + 1).any()]
        if empty and len(labels) >= 3:
            warnings.warn(
                f"Response '{name}': categor{'y' if len(empty) == 1 else 'ies'} {empty} "
                "ha" + ("s" if len(empty) == 1 else "ve") + " no observation; "
                "the cut-points around them are known from their priors only "
                "(drop unused categories with .cat.remove_unused_categories()).",
                UserWarning,
                stacklevel=4,
            )
    elif pd.api.types.is_numeric_dtype(column) or column.dtype == bool:
        values = column.to_numpy(dtype=float)
        if not np.isfinite(values).all() or (np.round(values) != values).any():
            bad = np.unique(values[~np.isfinite(values) | (np.round(values) != values)])[:5]
            raise FamilyError(
                f"Response '{name}' of the cumulative family must hold integer category numbers "
                f"or be an ordered categorical; found {bad.tolist()}."
            )
        levels = np.unique(values)
        labels = tuple(_label(v) for v in levels)
        codes = np.searchsorted(levels, values).astype(float) + 1.0
    else:
        raise FamilyError(
            f"Response '{name}' of the cumulative family must be an ordered categorical or "
            f'integer category numbers, found {column.dtype}: e.g. data["{name}"] = '
            f'pd.Categorical(data["{name}"], categories=[...in order...], ordered=True).'
        )
    if len(labels) < 3:
        raise FamilyError(
            f"Response '{name}' has {len(labels)} categor{'y' if len(labels) == 1 else 'ies'} "
            f"({list(labels)}); the cumulative family needs at least 3. For two, use "
            "family='bernoulli' (a 0/1 response)."
        )
    return codes, labels


def drop_intercept(
    X: np.ndarray, columns: tuple[str, ...], response: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The fixed design without its ``Intercept`` column; checks that no column is constant or a
    combination of others once the cut-points are there (they act as an intercept).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> drop_intercept(X, ("Intercept", "x"), "y")[1]
    ('x',)
    """
    keep = [j for j, c in enumerate(columns) if c != "Intercept"]
    X, columns = X[:, keep], tuple(columns[j] for j in keep)
    k = first_dependent_column(np.column_stack([np.ones(len(X)), X]))
    if k is not None and k > 0:
        raise DataError(
            f"The fixed-effect column '{columns[k - 1]}' of the ordinal model of '{response}' is "
            "constant or a linear combination of the cut-points (an intercept) and the columns "
            "before it: the model cannot tell their effects apart. Remove it (a formula without "
            "an intercept, '0 + ...', codes every level of a categorical predictor: keep the "
            "intercept, the cut-points take its place)."
        )
    return np.ascontiguousarray(X), columns


def cutpoint_labels(levels: tuple[str, ...]) -> list[str]:
    """Labels of the cut-points between consecutive categories (ordinal's ``"1|2"`` style).

    Examples
    --------
    >>> cutpoint_labels(("lo", "mid", "hi"))
    ['lo|mid', 'mid|hi']
    """
    return [f"{a}|{b}" for a, b in itertools.pairwise(levels)]


def start_cutpoints(
    y: np.ndarray, n_levels: int, weights: np.ndarray | None, link: str = "logit"
) -> np.ndarray:
    """Starting cut-points: the logits (probit link: the normal quantiles) of the response's
    cumulative proportions (with likelihood weights), each category counted at least half a row
    and consecutive ones 0.001 apart.

    Examples
    --------
    >>> start_cutpoints(np.array([1.0, 2.0, 2.0, 3.0]), 3, None).round(4).tolist()
    [-1.0986, 1.0986]
    """
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    counts = np.maximum(
        np.bincount(np.asarray(y).astype(int) - 1, weights=w, minlength=n_levels), 0.5
    )
    cum = np.cumsum(counts)[:-1] / counts.sum()
    c = ndtri(cum) if link == "probit" else np.log(cum / (1.0 - cum))
    return c[0] + np.concatenate([[0.0], np.cumsum(np.maximum(np.diff(c), 1e-3))])
