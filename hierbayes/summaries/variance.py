"""How the variance splits: intraclass correlation (``icc``) and Bayesian R² (``r2``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.design import encode_like_training
from hierbayes.errors import SummaryError
from hierbayes.families.cumulative import expected_category
from hierbayes.summaries.dpar_rows import training_params
from hierbayes.summaries.posterior import (
    FactorBlocks,
    factor_blocks,
    factor_covariance,
    flatten,
    linear_predictor,
    unflatten,
)
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.design import Design
    from hierbayes.fit import Fit

__all__ = ["icc", "r2"]

AtInput = pd.DataFrame | Mapping[str, float | Sequence[float] | Sequence[str]]


def _all_factors(design: Design) -> list[FactorBlocks]:
    factors = list(dict.fromkeys(b.factor for b in design.blocks))
    if not factors:
        raise SummaryError(
            "This model has no group-level terms, so it has no intraclass correlation."
        )
    return [factor_blocks(design, f) for f in factors]


def _slope_variables(factors: list[FactorBlocks]) -> list[str]:
    names: set[str] = set()
    for fb in factors:
        for block in fb.blocks:
            names |= set(block.formulaic_spec.required_variables)
    return sorted(names)


def _at_frame(at: AtInput, needed: list[str]) -> pd.DataFrame:
    if not needed:
        raise SummaryError(
            "at= gives values of the predictors with varying slopes, but no coefficient other "
            "than the intercept varies by group in this model: call icc() without at=."
        )
    try:
        frame = at.copy() if isinstance(at, pd.DataFrame) else pd.DataFrame(dict(at))
    except ValueError as err:
        raise SummaryError(
            f"at= must be a DataFrame or a dict of equal-length value lists ({err})."
        ) from err
    if frame.empty:
        raise SummaryError("at= has no rows: give at least one value of " + ", ".join(needed) + ".")
    unknown = [c for c in frame.columns if c not in needed]
    missing = [c for c in needed if c not in frame.columns]
    if unknown or missing:
        raise SummaryError(
            f"at= must give values of exactly the predictors with varying slopes "
            f"({', '.join(needed)}); unknown: {unknown or 'none'}, missing: {missing or 'none'}."
        )
    return frame.reset_index(drop=True)


def _varying_design(fb: FactorBlocks, frame: pd.DataFrame) -> np.ndarray:
    parts = []
    for block in fb.blocks:
        try:
            mm = encode_like_training(
                block.formulaic_spec, frame, na_action="raise", output="pandas"
            )
        except Exception as err:
            raise SummaryError(
                f"Could not evaluate the group term {block.term} at the values of at=: {err}"
            ) from err
        parts.append(mm[list(block.columns)].to_numpy(dtype=float))
    return np.hstack(parts)


def _latent_residual(fit: Fit, group_var: np.ndarray) -> np.ndarray:
    """Residual variance per draw (and point) on the latent scale, the family's own rule:
    σ², π²/3 (logit), 1 (probit), π²/6 (cloglog), ln(1 + 1/λ) (poisson), ..."""
    design = fit.design
    family = design.family
    if design.dpar is not None:
        raise SummaryError(
            f"No ICC with a {'residual SD' if design.dpar.name == 'sigma' else 'dispersion'} "
            f"that varies ({design.dpar.name}="
            f"'{design.dpar.spec.formula}'): the residual variance, and with it the share of "
            "variance between groups, differs from row to row, so there is no one ICC (brms "
            "gives none either). fit.r2() (Bayesian R², from residuals) is defined; "
            f"fit.predict(dpar='{design.dpar.name}') gives each row's {design.dpar.name}."
        )
    if family.latent_variance is None:
        raise SummaryError(
            f"No latent-scale residual variance for the {family.name} family "
            f"(link {family.link}), so no ICC or R² on the latent scale."
        )
    posterior = fit.idata["posterior"].to_dataset()
    params = {name: flatten(posterior[name]) for name in family.params}

    def fixed() -> np.ndarray:
        eta = np.concatenate(list(linear_predictor(fit, groups=False)), axis=0)
        return eta.mean(axis=1)[:, None]

    return family.latent_variance(fixed, group_var, params)


def icc(fit: Fit, *, at: AtInput | None = None, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Intraclass correlation (variance partition coefficient) of every grouping factor.

    For a gaussian model with a varying intercept, draw by draw,

    ``ICC_k = τ_k² / (Σ_l τ_l² + σ²)``,

    the share of the residual (not fixed-effect) variance that lies between the groups of
    factor ``k``; with one factor, ``τ² / (τ² + σ²)``, the correlation of two observations of
    the same group.

    With varying slopes the variance between groups depends on the predictor: at a point with
    varying-coefficient columns ``z`` (e.g. ``z = (1, x)``), factor ``k`` contributes
    ``z' T_k z = τ0² + 2 τ01 x + τ1² x²``. Pass ``at=`` (a DataFrame, or a dict of value lists,
    with one column per predictor of the varying slopes) to get the ICC at those values, one row
    per value. Without ``at=`` the variance is averaged over the observed data,
    ``mean_i z_i' T_k z_i`` (Johnson 2014, as ``performance::icc`` does).

    For bernoulli and binomial models the ICC is on the latent scale, with residual
    variance ``π²/3`` (logit link), 1 (probit) or ``π²/6`` (cloglog); for poisson (log link)
    it uses the lognormal approximation of Nakagawa,
    Johnson & Schielzeth (2017), residual variance ``ln(1 + 1/λ)`` with
    ``λ = exp(η̄ + Σ_l v_l / 2)``, where ``η̄`` is the mean over the observations of the
    fixed-part linear predictor and ``v_l`` the group variances, per draw.

    Parameters
    ----------
    fit : Fit
        A fitted model with at least one group-level term.
    at : DataFrame or dict of lists, optional
        Values of the predictors of the varying slopes at which to compute the ICC (one row
        of the result per value). Default: averaged over the observed data.
    prob : float
        Probability of the highest-density interval.

    Returns
    -------
    DataFrame
        ``factor``, the ``at`` columns (when given), ``mean``, ``sd`` and HDI.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.icc()  # doctest: +SKIP
    >>> fit.icc(at={"Days": [0, 5, 9]})  # doctest: +SKIP
    """
    design = fit.design
    factors = _all_factors(design)
    posterior = fit.idata["posterior"].to_dataset()
    covs = [factor_covariance(posterior, fb) for fb in factors]
    if at is None:
        frame = None
        group_vars = [
            np.einsum("skl,kl->s", T, fb.cross() / design.n_obs)[:, None]
            for fb, T in zip(factors, covs, strict=True)
        ]
    else:
        frame = _at_frame(at, _slope_variables(factors))
        group_vars = []
        for fb, T in zip(factors, covs, strict=True):
            Zp = _varying_design(fb, frame)
            group_vars.append(np.einsum("pk,skl,pl->sp", Zp, T, Zp))
    total = np.sum(group_vars, axis=0)
    resid = _latent_residual(fit, total)
    tables = []
    for fb, v in zip(factors, group_vars, strict=True):
        values = v / (total + resid)
        da = unflatten(values, posterior, ("point",), {"point": np.arange(values.shape[1])})
        table = summarize(da, prob=prob).drop(columns="point")
        if frame is not None:
            table = pd.concat([frame, table], axis=1)
        table.insert(0, "factor", fb.factor)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _mean_response(
    fit: Fit, eta: np.ndarray, own: Mapping[str, np.ndarray], rows: slice = slice(None)
) -> np.ndarray:
    design = fit.design
    if design.family.cutpoints:  # brms's bayes_R2 of an ordinal model: E[category number]
        cut = fit.idata["posterior"]["cutpoints"].transpose("chain", "draw", ...)
        return expected_category(eta, flatten(cut)[rows][:, None, :], design.family.link)
    mu = design.family.expected(eta, own)
    if design.trials is not None:
        mu = mu * design.trials
    return mu


def r2(fit: Fit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Bayesian R² (Gelman, Goodrich, Gabry & Vehtari 2019), marginal and conditional.

    Draw by draw, ``R² = Var(ŷ) / (Var(ŷ) + Var(y - ŷ))``, variances over the observations, where
    ``ŷ`` is the expected response (``g⁻¹`` of the linear predictor; expected counts for binomial)
    given that draw: the variance of the fitted values over that plus the variance of the
    residuals, as ``brms::bayes_R2`` and ``rstanarm::bayes_R2`` compute it. It is in [0, 1] by
    construction.

    - ``conditional``: ``ŷ`` from the fixed part and the group effects,
      ``g⁻¹(X b + Σ Z u)``;
    - ``marginal``: ``ŷ`` from the fixed part only, ``g⁻¹(X b)``; the group effects then count
      as residual variation (``bayes_R2(re_formula = NA)`` in brms).

    Parameters
    ----------
    fit : Fit
        A fitted model.
    prob : float
        Probability of the highest-density interval.

    Returns
    -------
    DataFrame
        Index ``r2`` (``marginal``, ``conditional``); columns ``mean``, ``sd`` and HDI.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.r2()  # doctest: +SKIP
    """
    posterior = fit.idata["posterior"].to_dataset()
    y = fit.design.y
    values = {}
    for name, groups in (("marginal", False), ("conditional", True)):
        params = training_params(fit, posterior, groups)  # sigma=: each row's, (S, n)
        parts = []
        start = 0
        for eta in linear_predictor(fit, groups=groups):
            own = {p: v[start : start + len(eta)] for p, v in params.items()}
            mu = _mean_response(fit, eta, own, slice(start, start + len(eta)))
            start += len(eta)
            var_fit = mu.var(axis=1, ddof=1)
            # fitted values equal up to rounding (an intercept-only fixed part): exactly 0
            spread = np.ptp(mu, axis=1)
            var_fit[spread <= 64 * np.finfo(float).eps * np.abs(mu).max(axis=1)] = 0.0
            var_res = (y - mu).var(axis=1, ddof=1)
            parts.append(var_fit / (var_fit + var_res))
        values[name] = np.concatenate(parts)
    stacked = np.stack(list(values.values()), axis=1)
    da: xr.DataArray = unflatten(stacked, posterior, ("r2",), {"r2": list(values)})
    return summarize(da, prob=prob).set_index("r2")
