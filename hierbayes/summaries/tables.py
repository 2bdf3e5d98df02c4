"""lme4-style extractors: ``fixef``, ``ranef``, ``coef`` and ``varcorr`` as tidy DataFrames.

Every table carries labels, never positions: ``term`` names the coefficient (formulaic's column
name, e.g. ``sector[T.Public]``), ``factor`` the grouping factor and ``group`` the group label.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.build import FIXED_DIM, group_dim
from hierbayes.errors import SummaryError
from hierbayes.spec.formula import split_top_level
from hierbayes.summaries.dpar import dpar_fixef, dpar_varcorr
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["check_aligned", "coef", "fixef", "ranef", "unaligned_terms", "varcorr"]


def _posterior(fit: Fit) -> xr.Dataset:
    return fit.idata["posterior"].to_dataset()


def fixef(
    fit: Fit, *, prob: float = DEFAULT_PROB, by: str | None = None, notation: str = "rb"
) -> pd.DataFrame:
    """Population-level (fixed) effects: one row per term.

    Columns: ``mean``, ``sd``, HDI bounds, ``r_hat``, ``ess_bulk``, ``ess_tail``; index ``term``.
    ``by="level"`` orders the rows by level equation and adds ``symbol``, ``explains``,
    ``predictor`` and ``label`` (``γ_11: cses slope ~ meanses``) in ``notation`` (``"rb"`` or
    ``"gh"``); see :func:`hierbayes.equations.fixef_by_level`.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    prob : float
        Probability of the highest-density interval (default 0.94: columns ``hdi_3%`` and
        ``hdi_97%``).
    by : {None, "level"}
        ``"level"``: one row per coefficient of a level equation, in the order of the
        equations, with their symbols.
    notation : {"rb", "gh"}
        Symbols of ``by="level"``: Raudenbush & Bryk (``γ_01``) or Gelman & Hill.

    Returns
    -------
    DataFrame
        Posterior summary of each population-level effect, indexed by term.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.fixef()  # doctest: +SKIP
    >>> fit.fixef(prob=0.9)[["mean", "hdi_5%", "hdi_95%"]]  # doctest: +SKIP
    """
    if by is not None:
        if by != "level":
            raise SummaryError(f"Unknown by={by!r}: use by='level' (or leave it out).")
        from hierbayes.equations import fixef_by_level

        return fixef_by_level(fit, prob=prob, notation=notation)
    posterior = _posterior(fit)
    table = summarize(posterior["b"], prob=prob, diagnostics=True).set_index(FIXED_DIM)
    sigma_rows = dpar_fixef(fit, posterior, prob)  # sigma="~ ...": sigma_Intercept, ...
    return table if sigma_rows is None else pd.concat([table, sigma_rows])


def _group_draws(fit: Fit) -> dict[str, xr.DataArray]:
    """Group deviations by factor: draws with dims (chain, draw, group, term)."""
    posterior = _posterior(fit)
    by_factor: dict[str, list[xr.DataArray]] = {}
    for block in fit.design.blocks:
        da = posterior[f"u|{block.name}"].rename(
            {group_dim(block): "group", block.term_dim: "term"}
        )
        by_factor.setdefault(block.factor, []).append(da)
    return {
        factor: parts[0] if len(parts) == 1 else xr.concat(parts, dim="term")
        for factor, parts in by_factor.items()
    }


def _tidy(draws: dict[str, xr.DataArray], prob: float) -> pd.DataFrame:
    frames = []
    for factor, da in draws.items():
        table = summarize(da, prob=prob)
        table.insert(0, "factor", factor)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def ranef(fit: Fit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Group-level deviations from the population effects (lme4's ``ranef``).

    One row per factor, group and varying term, with columns ``factor``, ``group``, ``term``,
    ``mean``, ``sd`` and the HDI bounds. A deviation is the group's coefficient minus its
    population value (``u_j``), not the coefficient itself: see :func:`coef` for that.

    Parameters
    ----------
    fit : Fit
        A fitted model with at least one group-level term.
    prob : float
        Probability of the highest-density interval.

    Returns
    -------
    DataFrame
        Long table of the posterior summaries of the group deviations, labelled by factor,
        group and term.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> u = fit.ranef()  # doctest: +SKIP
    >>> u[u["term"] == "Days"].sort_values("mean").head()  # doctest: +SKIP
    """
    if not fit.design.blocks:
        raise SummaryError("This model has no group-level terms, so it has no random effects.")
    return _tidy(_group_draws(fit), prob)


def _column_factors(name: str) -> frozenset[str]:
    """Factors of a column name: ``"trt[T.b]"`` -> {"trt"}, ``"x:C(k)[T.2]"`` -> {x, C(k)}."""
    return frozenset(re.sub(r"\[[^\[\]]*\]$", "", part) for part in split_top_level(name))


def unaligned_terms(fixed_columns: Sequence[str], varying: Sequence[str]) -> list[str]:
    """Varying coefficients coded unlike the fixed part (see :func:`check_aligned`).

    Examples
    --------
    >>> unaligned_terms(["Intercept", "trt[T.b]"], ["trt[a]", "trt[b]", "x"])
    ['trt[a]', 'trt[b]']
    """
    fixed = set(fixed_columns)
    fixed_factors = {_column_factors(c) for c in fixed_columns}
    return [v for v in varying if v not in fixed and _column_factors(v) in fixed_factors]


def check_aligned(fixed_columns: Sequence[str], factor: str, varying: Sequence[str]) -> None:
    """Raise :class:`~hierbayes.errors.SummaryError` when a varying coefficient is coded unlike
    the fixed part, so that population effect and group deviation cannot be added by name.

    ``y ~ trt + (0 + trt | g)`` codes ``trt`` with treatment contrasts in the fixed part
    (``trt[T.b]``) and with one column per level in the group term (``trt[b]``); lme4's ``coef``
    refuses this case too.

    Examples
    --------
    >>> check_aligned(["Intercept", "trt[T.b]"], "g", ["trt[a]", "trt[b]"])
    Traceback (most recent call last):
    ...
    hierbayes.errors.SummaryError: The group term on 'g' codes trt[a], trt[b] differently ...
    """
    unaligned = unaligned_terms(fixed_columns, varying)
    if unaligned:
        raise SummaryError(
            f"The group term on '{factor}' codes {', '.join(unaligned)} differently from the "
            "fixed part, so a group's own coefficients are not population effect plus deviation "
            "term by term. Use ranef() for the deviations, or write the group term with the fixed "
            "part's coding (e.g. (1 + trt | g) instead of (0 + trt | g))."
        )


def coef(fit: Fit, *, prob: float = DEFAULT_PROB, kind: str = "lme4") -> pd.DataFrame:
    """Each group's own coefficients.

    ``kind="lme4"`` (default) is lme4's ``coef``: for every factor, group and term of the fixed
    part (and any term that varies by group without a population effect), the posterior of
    ``fixef + ranef`` of the same term, computed draw by draw. Every term of the fixed part is
    listed for every group; a term that does not vary by a factor (a level-2 predictor such as
    ``meanses``, or a non-varying slope) is repeated, equal to its population effect in every
    group. With level-2 predictors the ``Intercept`` row is therefore ``γ_00 + u_0j``, not the
    group's intercept ``β_0j``.

    ``kind="level"`` gives Raudenbush & Bryk's level-1 coefficients ``β_qj`` of a two-level
    model instead: every ``γ`` of the coefficient's level-2 equation times the group's level-2
    predictor, plus ``u_qj`` (one row per group and level-1 coefficient; see
    :func:`hierbayes.summaries.level_coef.level_coefficients`).

    Parameters
    ----------
    fit : Fit
        A fitted model with at least one group-level term.
    prob : float
        Probability of the highest-density interval.
    kind : {"lme4", "level"}
        lme4's coefficients (fixed effect plus deviation of the same term) or the
        level-equation coefficients.

    Returns
    -------
    DataFrame
        Long table with columns ``factor``, ``group``, ``term``, ``mean``, ``sd`` and the HDI
        bounds of each group's coefficient.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.coef()  # doctest: +SKIP
    >>> fit.coef(kind="level").query("group == '1224'")  # doctest: +SKIP
    """
    if kind == "level":
        from hierbayes.summaries.level_coef import level_coefficients

        return level_coefficients(fit, prob=prob)
    if kind != "lme4":
        raise SummaryError(f"Unknown kind={kind!r}: use 'lme4' (the default) or 'level'.")
    if not fit.design.blocks:
        raise SummaryError("This model has no group-level terms: coef() would equal fixef().")
    b = _posterior(fit)["b"]
    out: dict[str, xr.DataArray] = {}
    for factor, u in _group_draws(fit).items():
        check_aligned(fit.design.fixed_columns, factor, u["term"].values.tolist())
        terms = list(dict.fromkeys([*b[FIXED_DIM].values.tolist(), *u["term"].values.tolist()]))
        groups = u["group"]
        total = xr.DataArray(
            np.zeros((b.sizes["chain"], b.sizes["draw"], groups.size, len(terms))),
            dims=("chain", "draw", "group", "term"),
            coords={"chain": b["chain"], "draw": b["draw"], "group": groups.values, "term": terms},
        )
        fixed = b.rename({FIXED_DIM: "term"})
        fixed_terms = fixed["term"].values.tolist()
        total.loc[{"term": fixed_terms}] = total.loc[{"term": fixed_terms}] + fixed
        varying = u["term"].values.tolist()
        total.loc[{"term": varying}] = total.loc[{"term": varying}] + u.transpose(*total.dims)
        out[factor] = total
    return _tidy(out, prob)


def varcorr(fit: Fit, *, prob: float = DEFAULT_PROB, labels: str | None = None) -> pd.DataFrame:
    """Standard deviations and correlations of the group effects, and the residual SD.

    One row per quantity with columns ``factor`` (the group term's name, or ``Residual``),
    ``term`` (``cses`` for an SD, ``Intercept:cses`` for a correlation), ``stat`` (``sd`` or
    ``cor``), ``mean``, ``sd``, HDI bounds, ``r_hat``, ``ess_bulk`` and ``ess_tail``.
    ``labels="rb"`` (or ``"gh"``) adds variance and covariance rows (``τ_00``, ``τ_01``, ``σ²``)
    and a ``symbol`` column; see :func:`hierbayes.equations.varcorr_labelled`.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    prob : float
        Probability of the highest-density interval.
    labels : {None, "rb", "gh"}
        Also give variances and covariances, with their symbols in Raudenbush & Bryk's or
        Gelman & Hill's notation.

    Returns
    -------
    DataFrame
        One row per SD, correlation (and, with ``labels``, variance and covariance).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.varcorr()  # doctest: +SKIP
    >>> fit.varcorr(labels="rb")[["symbol", "stat", "mean"]]  # doctest: +SKIP
    """
    if labels is not None:
        from hierbayes.equations import varcorr_labelled

        return varcorr_labelled(fit, prob=prob, notation=labels)
    posterior = _posterior(fit)
    frames = []
    for block in fit.design.blocks:
        sd = summarize(posterior[f"sd|{block.name}"], prob=prob, diagnostics=True)
        sd = sd.rename(columns={block.term_dim: "term"})
        sd.insert(0, "stat", "sd")
        sd.insert(0, "factor", block.name)
        frames.append(sd)
        if block.correlated:
            cor = posterior[f"cor|{block.name}"]
            columns = list(block.columns)
            for i in range(len(columns)):
                for j in range(i + 1, len(columns)):
                    pair = cor.isel({block.term_dim: i, f"{block.term_dim}_bis": j}, drop=True)
                    row = summarize(pair, prob=prob, diagnostics=True)
                    row.insert(0, "term", f"{columns[i]}:{columns[j]}")
                    row.insert(0, "stat", "cor")
                    row.insert(0, "factor", block.name)
                    frames.append(row)
    frames += dpar_varcorr(fit, posterior, prob)  # sigma="~ ...": sd(sigma_Intercept), ...
    if "sigma" in posterior:
        row = summarize(posterior["sigma"], prob=prob, diagnostics=True)
        row.insert(0, "term", "")
        row.insert(0, "stat", "sd")
        row.insert(0, "factor", "Residual")
        frames.append(row)
    if not frames:
        raise SummaryError("This model has neither group-level terms nor a residual SD.")
    table = pd.concat(frames, ignore_index=True)
    return table[
        [
            "factor",
            "term",
            "stat",
            *[c for c in table.columns if c not in ("factor", "term", "stat")],
        ]
    ]
