"""Partial pooling, group by group: ``pooling()`` and ``shrinkage()`` tables.

A multilevel model is the compromise between fitting each group alone (no pooling) and ignoring
the groups (complete pooling). Both tables have one row per group and varying coefficient and
keep the group labels. They are defined for models with one grouping factor (several terms on
that factor are fine); see :func:`~hierbayes.summaries.posterior.single_factor`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.summaries.nopool import NoPooling, complete_pooling, no_pooling, working_weights
from hierbayes.summaries.population import PopulationMap, population_map
from hierbayes.summaries.posterior import (
    FactorBlocks,
    factor_covariance,
    flatten,
    single_factor,
    unflatten,
)
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["pooling", "pooling_table", "shrinkage", "shrinkage_draws", "shrinkage_table"]


def _posterior(fit: Fit) -> xr.Dataset:
    return fit.idata["posterior"].to_dataset()


def _partial_draws(
    fit: Fit, fb: FactorBlocks, pmap: PopulationMap | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Population values and group coefficients per draw, each of shape (S, J, q)."""
    posterior = _posterior(fit)
    pmap = population_map(fit.design, fb) if pmap is None else pmap
    b = flatten(posterior["b"].transpose("chain", "draw", "term"))
    population = pmap.population(b)
    return population, population + fb.deviations(posterior)


def _frame(fb: FactorBlocks) -> pd.DataFrame:
    J, q = len(fb.levels), len(fb.terms)
    return pd.DataFrame(
        {
            "factor": fb.factor,
            "group": np.repeat(np.array(fb.levels, dtype=object), q),
            "term": np.tile(np.array(fb.terms, dtype=object), J),
            "n": np.repeat(fb.counts, q),
        }
    )


def _summary(values: np.ndarray, fit: Fit, fb: FactorBlocks, prob: float) -> pd.DataFrame:
    da = unflatten(
        values,
        _posterior(fit),
        ("group", "term"),
        {"group": list(fb.levels), "term": list(fb.terms)},
    )
    return summarize(da, prob=prob)


def pooling(fit: Fit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Each group's coefficients without, with partial, and with complete pooling.

    One row per group and varying coefficient. Columns:

    - ``factor``, ``group``, ``term``: labels; ``n``: observations in the group;
    - ``no_pool``: the group's own estimate (see :mod:`hierbayes.summaries.nopool`), ``NaN`` when
      its data cannot identify it, with the reason in ``reason``;
    - ``partial``, ``hdi_3%``, ``hdi_97%``: posterior mean and HDI of the group's coefficient,
      its population value plus its deviation. With level-2 predictors this includes them (a
      Catholic school's intercept includes the sector effect), unlike ``coef()``, which adds the
      deviation to the fixed effect of the same name only, as lme4 does;
    - ``population``: posterior mean of the value the group shrinks toward, the group's
      fixed-effect prediction for the coefficient including its level-2 predictors (rule in
      :mod:`hierbayes.summaries.population`);
    - ``complete_pool``: the same prediction from one regression that ignores the groups;
    - ``reason``: why ``no_pool`` is missing (empty when it is not).

    Defined for models with one grouping factor (several terms on it are fine).

    Parameters
    ----------
    fit : Fit
        A fitted model with one grouping factor.
    prob : float
        Probability of the HDI of the partial-pooling estimate.

    Returns
    -------
    DataFrame
        One row per group and varying coefficient, with the columns above.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.pooling().head(2)  # doctest: +SKIP
    """
    design = fit.design
    fb = single_factor(design, "pooling()")
    pmap = population_map(design, fb)
    return pooling_table(
        fit, fb, pmap, no_pooling(design, fb, pmap), complete_pooling(design), prob=prob
    )


def pooling_table(
    fit: Fit,
    fb: FactorBlocks,
    pmap: PopulationMap,
    own: NoPooling,
    complete_b: np.ndarray,
    *,
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """:func:`pooling`'s table from the no-pooling and complete-pooling fits (``own``; the
    fixed effects ``complete_b``), however they were computed."""
    population, partial = _partial_draws(fit, fb, pmap)
    complete = np.einsum("jkp,p->jk", pmap.weights, complete_b)
    lo, hi = hdi_columns(prob)
    summary = _summary(partial, fit, fb, prob)
    table = _frame(fb)
    table["no_pool"] = own.estimates.reshape(-1)
    table["partial"] = summary["mean"].to_numpy()
    table[lo] = summary[lo].to_numpy()
    table[hi] = summary[hi].to_numpy()
    table["population"] = population.mean(axis=0).reshape(-1)
    table["complete_pool"] = complete.reshape(-1)
    table["reason"] = np.repeat(np.array(own.reasons, dtype=object), len(fb.terms))
    return table


def shrinkage_draws(T: np.ndarray, A: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """Shrinkage of each group's coefficients per draw: ``1 - diag(Λ_j)``, shape (S, J, q).

    ``Λ_j = (T⁻¹ + A_j/σ²)⁻¹ A_j/σ²`` is the weight of group ``j``'s own data in the
    conditional posterior mean of its coefficients, ``E[β_j] = (I - Λ_j) population_j +
    Λ_j own_j``, computed as ``(σ² I + T A_j)⁻¹ T A_j`` so that neither ``T`` nor ``A_j`` needs
    to be invertible.

    Parameters
    ----------
    T : ndarray, shape (S, q, q)
        Covariance of the group effects per draw.
    A : ndarray, shape (J, q, q)
        ``Z_j' W_j Z_j``: the (weighted) cross-product of each group's varying-coefficient columns.
    sigma2 : ndarray, shape (S,)
        Residual variance per draw (1 for families without one).

    Examples
    --------
    >>> T = np.array([[[4.0]]]); A = np.array([[[1.0]], [[9.0]]])
    >>> shrinkage_draws(T, A, np.array([9.0]))[0, :, 0].round(4).tolist()  # σ²/n / (τ² + σ²/n)
    [0.6923, 0.2]
    """
    S, q = T.shape[0], T.shape[1]
    out = np.empty((S, A.shape[0], q))
    eye = np.eye(q)
    for start in range(0, S, 256):
        Ts = T[start : start + 256]
        TA = np.einsum("skl,jlm->sjkm", Ts, A)
        M = sigma2[start : start + 256, None, None, None] * eye + TA
        lam = np.linalg.solve(M, TA)
        out[start : start + 256] = 1.0 - np.diagonal(lam, axis1=-2, axis2=-1)
    return out


def _cross_products(fit: Fit, fb: FactorBlocks) -> np.ndarray:
    """``Z_j' W_j Z_j`` per group; ``W`` = 1 (gaussian) or the IRLS weights at the posterior
    mean of the linear predictor."""
    design = fit.design
    if design.dpar is not None and design.family.has_sigma:  # sigma="~ ...": 1/σ_i²
        from hierbayes.predict.dpar import dpar_rows  # predict imports summaries

        sigma = dpar_rows(_posterior(fit), design)
        w = (1.0 / sigma**2).mean(axis=(0, 1))
    elif design.family.has_sigma:
        w = np.ones(design.n_obs)
    else:
        posterior = _posterior(fit)
        b = posterior["b"].mean(("chain", "draw")).sel(term=list(design.fixed_columns)).values
        eta = design.X @ b + design.offset_or_zero
        for block in design.blocks:
            u = posterior[f"u|{block.name}"].mean(("chain", "draw")).transpose(..., block.term_dim)
            eta = eta + np.einsum("nq,nq->n", block.Z, np.asarray(u.values)[block.codes])
        own = {p: float(posterior[p].mean()) for p in design.family.params if p in posterior}
        if design.dpar is not None:  # shape="~ ...", phi="~ ...": each row's own value
            from hierbayes.summaries.dpar import dpar_working_weights

            w = dpar_working_weights(fit, eta, own)
        else:
            w = working_weights(design.family, eta, design.trials, own)
    Z = fb.Z
    A = np.zeros((len(fb.levels), Z.shape[1], Z.shape[1]))
    np.add.at(A, fb.codes, w[:, None, None] * Z[:, :, None] * Z[:, None, :])
    return A


def shrinkage(fit: Fit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Posterior of each group's shrinkage (pooling) factor, and its empirical counterpart.

    The shrinkage factor is the weight that a group's posterior mean puts on its population
    value rather than on its own data: 0 means no pooling (the group's own estimate), 1 complete
    pooling. For a varying intercept in a gaussian model it is, draw by draw,

    ``shrinkage_j = 1 - λ_j = (σ²/n_j) / (τ² + σ²/n_j)``, with ``λ_j = τ² / (τ² + σ²/n_j)``,

    the weight of the group's own data. With varying slopes (and correlated coefficients) the
    weight is the matrix ``Λ_j = (T⁻¹ + Z_j'Z_j/σ²)⁻¹ Z_j'Z_j/σ²`` of the conditional posterior
    mean ``E[β_j | b, T, σ] = (I - Λ_j) population_j + Λ_j own_j``, where ``T`` is the
    covariance of the group effects, ``Z_j`` the group's columns of the varying coefficients and
    ``own_j`` its own least-squares estimate; the factor reported for coefficient ``k`` is
    ``1 - (Λ_j)_kk``. For bernoulli, binomial and poisson models the same formula is used with
    ``σ² = 1`` and ``Z_j'Z_j`` replaced by ``Z_j' W_j Z_j``, where ``W_j`` are the working
    (IRLS) weights at the posterior mean of the linear predictor: a normal approximation of the
    likelihood around the fit. With a residual SD that varies (``sigma="~ ..."``), ``Z_j'Z_j/σ²``
    is ``Z_j' W_j Z_j`` with ``W_j`` the posterior means of ``1/σ_i²``.

    Columns: ``factor``, ``group``, ``term``, ``n``, then ``mean``, ``sd`` and HDI of the
    shrinkage factor over the posterior draws, and ``empirical``, ``1 - (partial - population) /
    (no_pool - population)`` from the posterior means of :func:`pooling` (``NaN`` where the
    no-pooling estimate is missing or equals the population value). The empirical factor is
    close to the analytic one for a gaussian varying intercept; it is noisy when the no-pooling
    estimate is close to the population value, and it can leave [0, 1] with correlated
    coefficients, where one coefficient's shrinkage also moves the others.

    Parameters
    ----------
    fit : Fit
        A fitted model with one grouping factor.
    prob : float
        Probability of the HDI of the shrinkage factor.

    Returns
    -------
    DataFrame
        One row per group and varying coefficient, with the columns above.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.shrinkage().sort_values("n").head()  # doctest: +SKIP
    """
    design = fit.design
    fb = single_factor(design, "shrinkage()")
    pmap = population_map(design, fb)
    own = no_pooling(design, fb, pmap).estimates
    return shrinkage_table(fit, fb, pmap, _cross_products(fit, fb), own, prob=prob)


def shrinkage_table(
    fit: Fit,
    fb: FactorBlocks,
    pmap: PopulationMap,
    A: np.ndarray,
    own: np.ndarray,
    *,
    prob: float = DEFAULT_PROB,
) -> pd.DataFrame:
    """:func:`shrinkage`'s table from each group's ``Z_j' W_j Z_j`` (``A``) and no-pooling
    estimates (``own``, (J, q)), however they were computed."""
    design = fit.design
    posterior = _posterior(fit)
    T = factor_covariance(posterior, fb)
    if design.family.has_sigma and design.dpar is None:  # else the weights hold 1/σ_i²
        sigma2 = flatten(posterior["sigma"]) ** 2
    else:
        sigma2 = np.ones(T.shape[0])
    draws = shrinkage_draws(T, A, sigma2)
    table = _frame(fb)
    summary = _summary(draws, fit, fb, prob)
    for column in summary.columns[2:]:
        table[column] = summary[column].to_numpy()
    population, partial = _partial_draws(fit, fb, pmap)
    pop_mean, partial_mean = population.mean(axis=0), partial.mean(axis=0)
    gap = own - pop_mean
    with np.errstate(invalid="ignore", divide="ignore"):
        empirical = np.where(gap != 0, 1.0 - (partial_mean - pop_mean) / gap, np.nan)
    table["empirical"] = empirical.reshape(-1)
    return table
