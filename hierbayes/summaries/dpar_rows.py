"""The family's own parameters draw by draw for the summaries that evaluate its mean
(:func:`~hierbayes.summaries.effects.conditional_effects`, :func:`~hierbayes.summaries.variance.r2`,
:func:`~hierbayes.summaries.lines.group_lines`) when one of them has its own linear predictor
(``sigma="~ ..."``, ``shape=``, ``phi=``): ``σ_i = exp(X_σ b_σ + Z_σ u_σ)`` at each row of the
summary, beside the scalar ones (shape (S, 1) each), ready for ``family.expected``.

On an effects grid the parameter is its population value (group effects on it at zero), as
brms's ``conditional_effects`` evaluates every distributional parameter with ``re_formula = NA``;
the parameter's predictors that are not the mean's are held at their reference value (the mean
of a numeric one, the first level of a categorical one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.design import Design, is_continuous
from hierbayes.errors import SummaryError
from hierbayes.summaries.posterior import flatten

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["grid_params", "scalar_params", "training_params"]


def scalar_params(design: Design, posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """The family's scalar parameters, shape (S, 1) each (a modelled one is not among them).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep, family="student_t",
    ...              sigma="~ Days")
    >>> posterior = xr.Dataset({"nu": (("chain", "draw"), [[4.0, 5.0]]),
    ...                         "sigma": (("chain", "draw"), [[1.0, 2.0]])})
    >>> {k: v.shape for k, v in scalar_params(m.design, posterior).items()}
    {'nu': (2, 1)}
    """
    name = design.dpar.name if design.dpar is not None else None
    return {
        p: flatten(posterior[p])[:, None]
        for p in design.family.params
        if p in posterior and p != name
    }


def _fill(design: Design, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the parameter's predictors it lacks at their reference value."""
    from hierbayes.summaries.lines import _reference

    assert design.dpar is not None and design.data is not None
    frame = frame.copy()
    for v in sorted(str(v) for v in design.dpar.fixed_formulaic_spec.required_variables):
        if v not in frame.columns:
            frame[v] = _reference(design.data[v], is_continuous(design, v))
        if isinstance(design.data[v].dtype, pd.CategoricalDtype):
            frame[v] = pd.Categorical(frame[v], categories=design.data[v].cat.categories)
    return frame


def grid_params(
    fit: Fit,
    posterior: xr.Dataset,
    frame: pd.DataFrame,
    factor: str | None = None,
    groups: pd.Series | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The family's parameters at the rows of ``frame``: (with the group effects of ``factor``
    on the parameter at the groups ``groups``, population values).

    Without a modelled parameter both are the scalar parameters. Group effects of factors other
    than ``factor`` are left at zero (an average group of theirs).
    """
    from hierbayes.predict.dpar import dpar_draws, dpar_view  # predict imports summaries
    from hierbayes.predict.encode import block_matrix, encode

    design = fit.design
    scalars = scalar_params(design, posterior)
    if design.dpar is None:
        return scalars, scalars
    name = design.dpar.name
    view = dpar_view(design)
    filled = _fill(design, frame)
    try:
        X = encode(view, filled, groups=False).X
    except Exception as err:
        raise SummaryError(
            f"Could not evaluate {name}='{design.dpar.spec.formula}' at the requested values: {err}"
        ) from err
    draws = dpar_draws(posterior, design)
    S = draws.b.shape[0] * draws.b.shape[1]
    fixed = draws.b.reshape(S, -1) @ X.T
    log_value = fixed.copy()
    if factor is not None and groups is not None:
        for block in view.blocks:
            if block.factor != factor:
                continue
            where = pd.Index(block.levels).get_indexer(groups.to_numpy())
            u = draws.u[block.name].reshape(S, len(block.levels), -1)
            effects = np.where((where >= 0)[None, :, None], u[:, np.maximum(where, 0), :], 0.0)
            log_value += np.einsum("srq,rq->sr", effects, block_matrix(block, filled))
    return scalars | {name: np.exp(log_value)}, scalars | {name: np.exp(fixed)}


def training_params(fit: Fit, posterior: xr.Dataset, groups: bool) -> dict[str, np.ndarray]:
    """The family's parameters at the fitted rows: a modelled one (S, n) with its group effects
    (``groups=True``) or at its population value (``False``, brms's ``re_formula = NA``)."""
    from hierbayes.predict.dpar import dpar_rows

    design = fit.design
    scalars = scalar_params(design, posterior)
    if design.dpar is None:
        return scalars
    rows = dpar_rows(posterior, design, groups="existing" if groups else "population")
    return scalars | {design.dpar.name: rows.reshape(-1, rows.shape[-1])}
