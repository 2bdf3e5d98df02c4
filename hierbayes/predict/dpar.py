"""A distributional parameter per row and per draw (``sigma="~ ..."``): ``σ_i = exp(X_σ b_σ +
Z_σ u_σ)``, for the fitted rows or new data.

The parameter's linear predictor has the structure of the mean's (fixed columns, group blocks), so
it is computed by the mean's own machinery (:func:`~hierbayes.predict.encode.encode`,
:func:`~hierbayes.predict.predict.linear_predictor`) applied to a view of the design whose
fixed part and blocks are the parameter's (:func:`dpar_view`). New groups draw their own
effects on log σ from the estimated SDs, independently of their effects on the mean (the model has
no correlation between the two).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.design import Design
from hierbayes.errors import ArgumentError
from hierbayes.predict.draws import PosteriorDraws, draws_of
from hierbayes.predict.encode import Encoded, encode, encode_training

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = [
    "dpar_draws",
    "dpar_rows",
    "dpar_view",
    "needs_rows",
    "own_params",
    "predict_dpar",
    "rows_only",
]


def needs_rows(design: Design, kind: str) -> bool:
    """Whether a prediction of ``kind`` needs the parameter row by row: draws of the response,
    and the mean of a family whose mean reads it (lognormal's ``exp(η + σ_i²/2)``)."""
    if design.dpar is None:
        return False
    return kind == "pps" or (kind == "mean" and design.family.mean is not None)


def dpar_view(design: Design) -> Design:
    """``design`` with the parameter's fixed design and blocks in place of the mean's (and a
    family without own parameters: ``σ`` is what the view's linear predictor gives).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"),
    ...              sigma="~ 1 + (1 | Subject)")
    >>> view = dpar_view(m.design)
    >>> view.fixed_columns, [b.name for b in view.blocks]
    (('Intercept',), ['sigma_Subject'])
    """
    dpar = design.dpar
    assert dpar is not None
    return replace(
        design,
        spec=dpar.spec,
        X=dpar.X,
        fixed_columns=dpar.fixed_columns,
        blocks=dpar.blocks,
        fixed_formulaic_spec=dpar.fixed_formulaic_spec,
        offset=None,
        dpar=None,
        family=replace(design.family, params=()),  # the view has no parameters of its own
    )


def dpar_draws(posterior: xr.Dataset, design: Design) -> PosteriorDraws:
    """The draws of the parameter's coefficients and group effects."""
    dpar = design.dpar
    assert dpar is not None
    return draws_of(
        posterior, dpar_view(design), f"b_{dpar.name}", dpar.term_dim, list(dpar.labels)
    )


def dpar_rows(
    posterior: xr.Dataset,
    design: Design,
    newdata: pd.DataFrame | None = None,
    *,
    index: pd.Index | None = None,
    groups: str = "existing",
    level2: Mapping[str, pd.DataFrame] | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The parameter on its natural scale (``σ``), shape (chain, draw, n).

    Rows: the fitted data (``newdata=None``) or ``newdata`` (encoded as the training data);
    ``groups`` as for :func:`hierbayes.predict.predict.predict` (``"population"``: group effects
    on log σ left out, the σ of an average group; ``"new"``: new groups' effects drawn).
    """
    from hierbayes.predict.predict import linear_predictor

    view = dpar_view(design)
    encoded: Encoded
    if newdata is None:
        encoded = encode_training(view, pd.RangeIndex(design.n_obs) if index is None else index)
    else:
        encoded = encode(view, newdata, level2=level2, groups=groups != "population")
    draws = dpar_draws(posterior, design)
    rng = rng if rng is not None else np.random.default_rng()
    return np.exp(linear_predictor(draws, view, encoded, groups, rng))


def own_params(
    draws: PosteriorDraws, design: Design, rows: np.ndarray | None
) -> dict[str, np.ndarray]:
    """The family's own parameters shaped to broadcast against (chain, draw, n) rows: scalar
    ones (C, D, 1), the modelled one ``rows`` (C, D, n)."""
    out = {name: value[:, :, None] for name, value in draws.params.items()}
    if design.dpar is not None and rows is not None:
        out[design.dpar.name] = rows
    return out


def predict_dpar(
    fit: Fit,
    draws: PosteriorDraws,
    encoded: Encoded,
    newdata: pd.DataFrame | None,
    dpar: str | None,
    kind: str,
    groups: str,
    level2: Mapping[str, pd.DataFrame] | None,
    rng: np.random.Generator,
) -> np.ndarray:
    """``σ`` (``shape``, ``phi``) of every row of a prediction, shape (chain, draw, n) (see
    :func:`hierbayes.predict.predict.predict`'s ``dpar``)."""
    design = fit.design
    if dpar is not None:
        name = design.dpar.name if design.dpar is not None else design.family.dpar
        if dpar != name or name not in design.family.params:
            raise ArgumentError(
                f"dpar={dpar!r}: the {design.family.name} family's parameters are "
                f"{list(design.family.params) or 'none'}; dpar takes the family's residual SD "
                "or dispersion ('sigma' for gaussian, student_t, lognormal; 'shape' for "
                "negativebinomial, gamma; 'phi' for beta)."
            )
        if kind not in ("mean", "linear"):
            raise ArgumentError(
                f"dpar={dpar!r} takes kind='mean' (the parameter) or 'linear' (its log), not "
                f"{kind!r}."
            )
        if groups == "marginal":
            raise ArgumentError(f"dpar={dpar!r} takes groups 'existing', 'new' or 'population'.")
    if design.dpar is None:  # one σ for every row
        value = draws.params[str(dpar)][:, :, None]
        return np.broadcast_to(value, (*value.shape[:2], encoded.n_obs)).copy()
    posterior = fit.idata["posterior"].to_dataset()
    return dpar_rows(
        posterior, design, newdata, index=encoded.index, groups=groups, level2=level2, rng=rng
    )


def marginal_dpar_rows(fit: Fit, newdata: pd.DataFrame | None, encoded: Encoded) -> np.ndarray:
    """The parameter of each row for ``groups="marginal"`` where the family's mean reads it
    (lognormal): its population value, exact when its formula has no group terms.

    Raises
    ------
    ArgumentError
        When the parameter has group terms: averaging the mean over new groups would need their
        effects on it as well, which ``groups="marginal"`` does not integrate.
    """
    design = fit.design
    dpar = design.dpar
    assert dpar is not None
    if dpar.blocks:
        raise ArgumentError(
            f"groups='marginal' averages the mean over new groups' effects on it, not over their "
            f"effects on {dpar.name} ({dpar.name}='{dpar.spec.formula}' has group terms), which "
            f"the {design.family.name} family's mean reads. Use groups='new' (draws of new "
            "groups' effects on both) or 'population'."
        )
    posterior = fit.idata["posterior"].to_dataset()
    return dpar_rows(posterior, design, newdata, index=encoded.index, groups="population")


def new_groups_dpar(
    design: Design,
    draws: PosteriorDraws,
    positions: tuple[np.ndarray, np.ndarray],
    factor: str,
    rows: pd.DataFrame,
    group_of_row: np.ndarray,
    n_groups: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``σ`` of the rows of simulated new groups of ``factor`` (one value per row).

    Each new group draws its own effects on log σ from ``N(0, T_σ)`` at its posterior draw
    (``positions``: chain and draw of each row); other factors' effects on log σ are 0 (their
    average group), as for the mean in :func:`hierbayes.predict.simulate.simulate_new_groups`.
    """
    from hierbayes.predict.draws import new_group_effects
    from hierbayes.predict.encode import block_matrix

    view = dpar_view(design)
    X = encode(view, rows, groups=False).X
    ci, di = positions
    log_sigma = np.einsum("np,np->n", draws.b[ci, di], X)
    for block in view.blocks:
        if block.factor != factor:
            continue
        first = np.zeros(n_groups, dtype=np.int64)
        np.maximum.at(first, group_of_row, np.arange(len(group_of_row)))  # a row of each group
        g_ci, g_di = ci[first], di[first]
        cor = draws.cor[block.name]
        effects = new_group_effects(
            draws.sd[block.name][g_ci, g_di], None if cor is None else cor[g_ci, g_di], 1, rng
        )[:, 0, :]
        log_sigma += (block_matrix(block, rows) * effects[group_of_row]).sum(axis=1)
    return np.exp(log_sigma)


def rows_only(newdata: pd.DataFrame) -> Encoded:
    """``newdata``'s row labels as an :class:`Encoded` without predictors (for ``dpar=``)."""
    from hierbayes.frames import as_pandas
    from hierbayes.predict.encode import _row_index

    newdata = as_pandas(newdata)
    if not isinstance(newdata, pd.DataFrame):
        raise ArgumentError(
            f"newdata must be a pandas DataFrame, got {type(newdata).__name__}: wrap it, as in "
            "pd.DataFrame(newdata)."
        )
    return Encoded(np.zeros((len(newdata), 0)), (), _row_index(newdata))
