"""Predictions for new data: existing groups, new groups, or the average group.

Three questions a multilevel model answers differently:

``groups="existing"``
    Rows belong to groups the model was fitted to; each keeps its fitted effects ``u|<term>``,
    draw by draw. A label the model has not seen is an error.
``groups="new"``
    Each distinct label the model has not seen is a new group: per posterior draw it gets one draw
    of its effects from the estimated population distribution ``N(0, T)``, *with* the estimated
    correlations between its coefficients (``T = diag(sd) Ω diag(sd)``). Rows sharing a label share
    that draw; different labels get independent draws. Labels the model has seen keep their fitted
    effects. Each group term is handled on its own, so with nested factors a new class in a known
    school gets the school's fitted effect plus a new class effect.
``groups="population"``
    All group effects set to zero: the prediction for the *average group* (a group whose effects
    are exactly zero). This is not the *population-averaged* (marginal) prediction: with a
    non-identity link the average of group predictions differs from the prediction for the
    average group. The marginal prediction is ``kind="mean", groups="new"`` averaged over many new
    groups, which ``groups="marginal"`` computes exactly.

``groups="marginal"``
    The *population-averaged* prediction: the expected response averaged over new groups'
    effects, integrated by quadrature (:mod:`hierbayes.predict.marginal`); ``kind="mean"`` or
    ``"linear"`` (the latter equals ``"population"``'s).

``kind="linear"`` is the linear predictor, ``kind="mean"`` its inverse link (the expected response;
for binomial models the success probability), ``kind="pps"`` adds observation noise from the
family (a posterior predictive draw of the response).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.build import OBS_DIM, response_name
from hierbayes.design import Design
from hierbayes.design.level2 import _show
from hierbayes.errors import ArgumentError, DataError, UnknownGroupError
from hierbayes.predict.dpar import needs_rows, own_params, predict_dpar, rows_only
from hierbayes.predict.draws import PosteriorDraws, new_group_effects, posterior_draws
from hierbayes.predict.encode import Encoded, encode, encode_training
from hierbayes.predict.ordinal import CATEGORY_DIM, check_kind, labels_of, ordinal_values, pps_table
from hierbayes.predict.response import sample_response
from hierbayes.summaries.stats import DEFAULT_PROB, summarize
from hierbayes.validate import check_choice, check_flag, check_seed

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["GROUPS", "KINDS", "linear_predictor", "posterior_predictive", "predict"]

Groups = Literal["existing", "new", "population", "marginal"]
Kind = Literal["mean", "linear", "pps", "prob"]
GROUPS: tuple[str, ...] = ("existing", "new", "population", "marginal")
KINDS: tuple[str, ...] = ("mean", "linear", "pps", "prob")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    check_choice(name, value, choices)  # ArgumentError (a ValueError) naming the argument


def linear_predictor(
    draws: PosteriorDraws,
    design: Design,
    encoded: Encoded,
    groups: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """The linear predictor of every encoded row for every posterior draw, shape (C, D, n).

    New groups' effects are drawn block by block in the order of ``design.blocks`` and, within a
    block, in sorted label order, so that the same ``rng`` state gives the same draws.
    """
    _check_choice("groups", groups, GROUPS)
    eta = np.einsum("cdp,np->cdn", draws.b, encoded.X)
    if encoded.offset is not None:
        eta += encoded.offset
    if groups == "population":
        return eta
    for block, rows in zip(design.blocks, encoded.blocks, strict=True):
        u = draws.u[block.name]
        lookup = {label: j for j, label in enumerate(block.levels)}
        codes = np.array([lookup.get(label, -1) for label in rows.labels], dtype=np.int64)
        unseen = codes < 0
        if unseen.any():
            new_labels, inverse = np.unique(rows.labels[unseen].astype(str), return_inverse=True)
            if groups == "existing":
                raise UnknownGroupError(
                    f"The new data name {len(new_labels)} '{block.factor}' group(s) the model was "
                    f"not fitted to: {_show(list(new_labels))}. Use groups='new' to draw their "
                    "effects from the estimated population distribution, or "
                    "groups='population' for the average group."
                )
            fresh = new_group_effects(
                draws.sd[block.name], draws.cor[block.name], len(new_labels), rng
            )
            u = np.concatenate([u, fresh], axis=2)
            codes[unseen] = len(block.levels) + inverse
        for k in range(len(block.columns)):
            eta += rows.Z[:, k] * u[:, :, codes, k]
    return eta


def _own(draws: PosteriorDraws) -> dict[str, np.ndarray]:
    """The family's own parameters, shaped (C, D, 1) to broadcast against rows."""
    return {name: value[:, :, None] for name, value in draws.params.items()}


def _values(
    fit: Fit,
    draws: PosteriorDraws,
    encoded: Encoded,
    groups: str,
    kind: str,
    rng,
    newdata: pd.DataFrame | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    design = fit.design
    if groups == "marginal":
        from hierbayes.predict.marginal import marginal_values

        return marginal_values(fit, draws, encoded, kind, newdata)
    eta = linear_predictor(draws, design, encoded, groups, rng)
    if kind == "linear":
        return eta
    if design.family.cutpoints and kind in ("mean", "prob"):  # needs the cut-points
        return ordinal_values(eta, _own(draws)["cutpoints"], kind, design.family.link)
    own = _own(draws) if rows is None else own_params(draws, design, rows)
    if kind == "mean":  # lognormal's exp(η + σ_i²/2) reads the row's σ
        return design.family.expected(eta, own)
    return sample_response(design.family, eta, rng=rng, params=own, trials=encoded.trials)


def predict(
    fit: Fit,
    newdata: pd.DataFrame | None = None,
    *,
    groups: Groups = "existing",
    kind: Kind = "mean",
    level2: Mapping[str, pd.DataFrame] | None = None,
    random_seed: int | np.random.Generator | None = None,
    summary: bool = False,
    prob: float = DEFAULT_PROB,
    dpar: str | None = None,
) -> xr.DataArray | pd.DataFrame:
    """Posterior draws of predictions for new data (see the module docstring for ``groups``).

    Parameters
    ----------
    fit : Fit
    newdata : DataFrame, optional
        One row per prediction, with the model's predictor columns and grouping factors (not
        needed with ``groups="population"``). New data is encoded with the training encoding:
        categorical levels, contrasts and transforms; an unseen level of a categorical predictor
        is an error naming it. Level-2 predictors may be left out: groups the model was fitted to
        take their training values, new groups those of ``level2``. Default: the training data.
    groups : {"existing", "new", "population", "marginal"}
        Which group effects enter the prediction (``"marginal"``: averaged over new groups).
    kind : {"mean", "linear", "pps", "prob"}
        Expected response (inverse link of the linear predictor), the linear predictor, or a
        posterior predictive draw with the family's observation noise (binomial needs the trials
        column in ``newdata``). Ordinal (cumulative) models: ``"mean"`` is the expected
        category number (categories numbered 1..K), ``"prob"`` each category's probability
        (an extra ``category`` dimension, brms's ``posterior_epred``), ``"pps"`` draws category
        labels (``summary=True``: the share of draws in each category per row).
    level2 : dict, optional
        ``{factor: one-row-per-group table}`` with the level-2 predictors of new groups.
    random_seed : int or numpy.random.Generator, optional
        Seeds the draws of new groups' effects and of the observation noise; the same seed gives
        the same predictions.
    summary : bool
        Return a table (one row per row of ``newdata``: ``mean``, ``sd`` and HDI bounds, indexed
        by ``newdata``'s index) instead of the draws.
    prob : float
        HDI probability of the table.
    dpar : {"sigma", "shape", "phi"}, optional
        Predict the residual SD (the family's dispersion: ``shape``, ``phi``) of each row
        instead of the response (brms's ``posterior_epred(dpar = "sigma")``): with
        ``kind="mean"`` ``σ_i``, with ``kind="linear"`` ``log σ_i``; the same for every row
        unless the model has ``sigma="~ ..."`` (``shape=``, ``phi=``;
        :mod:`hierbayes.predict.dpar`).

    Returns
    -------
    xarray.DataArray or DataFrame
        Draws with dims ``(chain, draw, obs)``; ``obs`` carries ``newdata``'s index (positions
        when that index has duplicates).

    Examples
    --------
    >>> import hierbayes as hb
    >>> import pandas as pd
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> fit = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep).fit()  # doctest: +SKIP
    >>> new = pd.DataFrame({"Days": [0, 5], "Subject": ["new", "new"]})
    >>> fit.predict(new, groups="new", random_seed=1, summary=True)  # doctest: +SKIP
    """
    _check_choice("groups", groups, GROUPS)
    _check_choice("kind", kind, KINDS)
    check_kind(fit.design, kind, groups)
    if groups == "marginal" and kind == "pps":
        from hierbayes.predict.marginal import NO_PPS

        raise ArgumentError(NO_PPS)
    design = fit.design
    needs_trials = kind == "pps" and design.family.needs_trials
    if newdata is None:
        if level2 is not None:
            raise DataError("level2= only applies to new data; pass newdata as well.")
        encoded = encode_training(design, fit.model.obs_index)
    elif dpar is not None:  # σ alone: the mean's predictors are not needed
        encoded = rows_only(newdata)
    else:
        encoded = encode(
            design,
            newdata,
            level2=level2,
            groups=groups not in ("population", "marginal"),
            trials=needs_trials,
        )
    rng = np.random.default_rng(check_seed(random_seed, generator=True))
    check_flag("summary", summary)
    draws = posterior_draws(fit)
    rows = None
    if dpar is not None or needs_rows(design, kind):
        rows = predict_dpar(fit, draws, encoded, newdata, dpar, kind, groups, level2, rng)
    if dpar is not None:
        values = rows if kind == "mean" else np.log(rows)
    else:
        values = _values(fit, draws, encoded, groups, kind, rng, newdata, rows)
    dims = ("chain", "draw", OBS_DIM)
    coords = {"chain": draws.chain, "draw": draws.draw, OBS_DIM: np.asarray(encoded.index)}
    if dpar is None and kind == "prob":  # an ordinal model's categories
        dims, coords[CATEGORY_DIM] = (*dims, CATEGORY_DIM), list(design.response_levels or ())
    elif dpar is None and kind == "pps" and design.family.cutpoints:
        values = labels_of(design, values)
    da = xr.DataArray(
        values,
        dims=dims,
        coords=coords,
        name=response_name(design) if dpar is None else dpar,
        attrs={"kind": kind, "groups": groups} | ({"dpar": dpar} if dpar else {}),
    )
    if not summary:
        return da
    if kind == "pps" and design.family.cutpoints:
        return pps_table(da, design)
    index = [OBS_DIM, CATEGORY_DIM] if kind == "prob" else OBS_DIM
    return summarize(da, prob=prob).set_index(index)


def posterior_predictive(
    fit: Fit, *, random_seed: int | np.random.Generator | None = None
) -> xr.DataTree:
    """A copy of ``fit.idata`` with a ``posterior_predictive`` group for the observed data.

    One posterior predictive draw of every observation per posterior draw, from each group's
    fitted effects (``predict(kind="pps", groups="existing")`` on the training data). It is
    computed on demand rather than stored at fitting time, because it holds as many numbers as
    observations times draws (7,185 x 4,000 doubles, 230 MB, for HSB).

    Parameters
    ----------
    fit : Fit
        A fitted model.
    random_seed : int or numpy.random.Generator, optional
        The same seed gives the same draws.

    Returns
    -------
    xarray.DataTree
        ``fit.idata`` plus a ``posterior_predictive`` group holding the response variable, with
        the same chains, draws and observation coordinates as the log-likelihood.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> idata = fit.posterior_predictive(random_seed=1)  # doctest: +SKIP
    >>> idata["posterior_predictive"]  # doctest: +SKIP
    """
    draws = predict(fit, kind="pps", groups="existing", random_seed=random_seed)
    assert isinstance(draws, xr.DataArray)
    if fit.design.family.cutpoints:  # category labels back to the observed data's numbers
        levels = list(fit.design.response_levels or ())
        draws = draws.copy(data=np.vectorize(levels.index, otypes=[np.int64])(draws.values) + 1)
    observed = fit.idata["observed_data"].to_dataset()
    name = str(draws.name)
    dataset = xr.Dataset({name: draws.assign_coords({OBS_DIM: observed[OBS_DIM].values})})
    dataset.attrs = {"generated_by": "hierbayes.predict.posterior_predictive"}
    idata = fit.idata.copy()
    idata["posterior_predictive"] = xr.DataTree(dataset)
    return idata
