"""Predictions of an ordinal (cumulative) model: expected category number, each category's
probability, and posterior predictive draws as category labels.

brms's ``posterior_epred`` of an ordinal model is an S x n x K array of category probabilities;
here it is ``predict(kind="prob")``, a labelled ``(chain, draw, obs, category)`` array.
``predict(kind="mean")`` is the expected category number ``Σ_k k P(y = k)`` (categories numbered
``1..K``; what brms's ``bayes_R2`` uses), and ``predict(kind="pps")`` draws category labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.design import Design
from hierbayes.errors import ArgumentError
from hierbayes.families.cumulative import category_probabilities, expected_category

__all__ = [
    "CATEGORY_DIM",
    "check_kind",
    "labels_of",
    "ordered_prior_draws",
    "ordinal_values",
    "pps_table",
]

CATEGORY_DIM = "category"


def check_kind(design: Design, kind: str, groups: str) -> None:
    """Refuse ``kind="prob"`` outside ordinal models and population-averaged ordinal means."""
    if kind == "prob" and not design.family.cutpoints:
        raise ArgumentError(
            f"kind='prob' gives each category's probability of an ordinal (cumulative) model; "
            f"this model is {design.family.name}: use kind='mean'."
        )
    if design.family.cutpoints and groups == "marginal" and kind != "linear":
        raise ArgumentError(
            "groups='marginal' is not available for the cumulative family's "
            f"kind='{kind}'; use groups='new' (averaging over the draws of new groups) or "
            "groups='population'."
        )


def ordinal_values(
    eta: np.ndarray, cutpoints: np.ndarray, kind: str, link: str = "logit"
) -> np.ndarray:
    """``kind="mean"``: the expected category number; ``"prob"``: the categories'
    probabilities on a new last axis. ``cutpoints``: (C, D, 1, K - 1) against ``eta`` (C, D, n).

    Examples
    --------
    >>> eta, cut = np.zeros((1, 1, 2)), np.array([-1.0, 1.0]).reshape(1, 1, 1, 2)
    >>> ordinal_values(eta, cut, "prob").shape, ordinal_values(eta, cut, "mean").round(3).tolist()
    ((1, 1, 2, 3), [[[2.0, 2.0]]])
    """
    if kind == "prob":
        return category_probabilities(eta, cutpoints, link)
    return expected_category(eta, cutpoints, link)


def labels_of(design: Design, codes: np.ndarray) -> np.ndarray:
    """Category labels (object array) of category numbers ``1..K``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> labels_of(SimpleNamespace(response_levels=("lo", "hi", "top")), np.array([3, 1])).tolist()
    ['top', 'lo']
    """
    assert design.response_levels is not None
    return np.asarray(design.response_levels, dtype=object)[np.asarray(codes, dtype=int) - 1]


def pps_table(da: xr.DataArray, design: Design) -> pd.DataFrame:
    """Per row, the share of the posterior predictive draws in each category (columns: the
    categories, in order)."""
    assert design.response_levels is not None
    values = np.asarray(da.values)
    flat = values.reshape(-1, values.shape[-1])
    shares = {label: (flat == label).mean(axis=0) for label in design.response_levels}
    index = pd.Index(np.asarray(da[da.dims[-1]].values), name=str(da.dims[-1]))
    table = pd.DataFrame(shares, index=index)
    table.columns.name = CATEGORY_DIM
    return table


def ordered_prior_draws(draw, n: int, name: str, *, exchangeable: bool) -> np.ndarray:
    """``n`` draws of cut-points from independent priors restricted to increasing values (the
    density the model gives them); ``draw(m)`` returns ``m`` unrestricted draws ``(m, K - 1)``.

    One prior for every cut-point (``exchangeable``): the sorted draws, exactly (the restriction
    of exchangeable values to increasing order is their order statistics). Otherwise the
    increasing ones among fresh batches of draws.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> c = ordered_prior_draws(lambda m: rng.normal(size=(m, 3)), 5, "c", exchangeable=True)
    >>> c.shape, bool((np.diff(c, axis=1) > 0).all())
    ((5, 3), True)
    """
    if exchangeable:
        return np.sort(draw(n), axis=1)
    kept: list[np.ndarray] = []
    total = 0
    for _ in range(200):
        values = draw(n)
        ordered = values[(np.diff(values, axis=1) > 0).all(axis=1)]
        kept.append(ordered)
        total += len(ordered)
        if total >= n:
            return np.concatenate(kept)[:n]
    raise ArgumentError(
        f"The priors of '{name}' rarely give increasing cut-points ({total} of {200 * n} "
        "draws): give them locations in increasing order, or one prior for all."
    )
