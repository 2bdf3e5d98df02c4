"""Raudenbush & Bryk's level-1 coefficients of each group: ``β_qj`` of the level-2 equations.

In a two-level model written as equations,

    level 1:  y_ij = β_0j + β_1j x_ij + e_ij
    level 2:  β_qj = γ_q0 + γ_q1 W_1j + ... + u_qj

a group's coefficient ``β_qj`` includes the level-2 predictors ``W`` of the group. lme4's ``coef``
(:func:`hierbayes.summaries.coef`) adds only the deviation to the term of the same name
(``γ_q0 + u_qj``). :func:`level_coefficients` computes ``β_qj`` draw by draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.errors import SummaryError
from hierbayes.summaries.stats import DEFAULT_PROB

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["level_coefficients"]


def _level2_values(X: np.ndarray, columns: list[str], column: str, predictor: str) -> np.ndarray:
    """The level-2 predictor's column (constant within each group), read from its main effect."""
    if predictor not in columns:
        raise SummaryError(
            f"coef(kind='level') reads the level-2 predictor of '{column}' from its main effect "
            f"'{predictor}', which the model does not have: add + {predictor} to the formula, or "
            "use coef() and fixef(by='level')."
        )
    return X[:, columns.index(predictor)]


def level_coefficients(fit: Fit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Each group's level-1 coefficients ``β_qj`` with its level-2 predictors (two levels).

    ``β_qj = sum_s γ_qs W_sj + u_qj`` draw by draw: every population effect of the coefficient's
    level-2 equation times the group's value of its level-2 predictor (1 for the constant
    ``γ_q0``), plus the group's deviation ``u_qj`` when the coefficient varies randomly. A
    coefficient without a deviation still varies across groups through its level-2 predictors
    (R&B's non-randomly varying coefficient); one without level-2 predictors or deviation is the
    same in every group.

    Returns
    -------
    DataFrame
        As :func:`~hierbayes.summaries.coef`: ``factor``, ``group``, ``term`` (the level-1
        coefficient: ``Intercept`` or the level-1 predictor), ``mean``, ``sd`` and the HDI
        bounds.

    Raises
    ------
    SummaryError
        The model is not a two-level model (one grouping factor, or several that are not
        nested), or a level-2 predictor enters only in a cross-level interaction.
    """
    from hierbayes.equations.structure import CONSTANT, level_structure
    from hierbayes.summaries.tables import _group_draws, _posterior, _tidy, check_aligned

    design = fit.design
    structure = level_structure(design)
    factors = list(dict.fromkeys(block.factor for block in design.blocks))
    if not structure.hierarchical or structure.depth != 2 or len(factors) != 1:
        raise SummaryError(
            "coef(kind='level') needs a two-level model: one grouping factor whose coefficients "
            f"have level-2 equations; this model's factors are {factors or 'none'}. Use coef() "
            "(population effect plus deviation, as lme4) instead."
        )
    factor = factors[0]
    block = next(b for b in design.blocks if b.factor == factor)
    columns = list(design.fixed_columns)
    b = _posterior(fit)["b"]
    u = _group_draws(fit)[factor]
    check_aligned(design.fixed_columns, factor, u["term"].values.tolist())
    # one observation of each group, in the order of the draws' group labels
    _, first = np.unique(block.codes, return_index=True)
    position = {str(label): k for k, label in enumerate(block.levels)}
    rows = first[[position[str(g)] for g in u["group"].values]]
    varying = {entry.column: entry.path[0] for entry in structure.random}
    coefficients = list(
        dict.fromkeys([e.path[0] for e in structure.fixed] + [e.path[0] for e in structure.random])
    )
    parts = []
    for q in coefficients:
        total = xr.zeros_like(u.isel(term=0, drop=True))
        for entry in structure.fixed:
            if entry.path[0] != q:
                continue
            gamma = b.isel({b.dims[-1]: columns.index(entry.column)}, drop=True)
            if entry.path[1] == CONSTANT:
                total = total + gamma
            else:
                values = _level2_values(design.X, columns, entry.column, entry.path[1])[rows]
                total = total + gamma * xr.DataArray(values, dims="group")
        for column, path0 in varying.items():
            if path0 == q:
                total = total + u.sel(term=column, drop=True)
        name = "Intercept" if q == CONSTANT else q
        parts.append(total.expand_dims(term=[name]))
    draws = xr.concat(parts, dim="term").transpose("chain", "draw", "group", "term")
    return _tidy({factor: draws}, prob)
