"""Summaries of a fit from Dask data (:mod:`hierbayes.bigdata`) computed exactly from the sufficient
statistics it keeps (:class:`~hierbayes.design.dask_stats.Statistics`) instead of rows.

- :func:`statistics_r2`: Bayesian R² (:func:`hierbayes.summaries.r2`) from sums of squares: with
  ``ŷ = W β + Z v`` (``W`` the centred fixed columns, ``v`` each leaf group's effects of every
  level) the variances over the rows of ``ŷ`` and of ``y - ŷ`` are quadratic forms in the
  per-group ``Z'Z``, ``Z'W``, ``Z'y`` and the overall ``W'W``, ``W'y``, ``y'y``;
- :func:`statistics_pooling`, :func:`statistics_shrinkage`: the no-pooling fit of each group
  (least squares of ``y`` less any offset on its own ``Z``), the complete-pooling fit (least
  squares on ``W``) and ``Z_j'Z_j``, all from the same sums, for a model with one grouping factor
  whose fixed columns are all varying coefficients on it.

Each refuses, with :class:`~hierbayes.errors.RowsNotKeptError`, the models whose answer the sums
do not determine, saying why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.build.nested_marginal import NestedDesign
from hierbayes.design import Design
from hierbayes.errors import RowsNotKeptError
from hierbayes.linalg import rank_tolerance
from hierbayes.loglik import chunks, stacked
from hierbayes.summaries.nopool import NoPooling
from hierbayes.summaries.pooling import pooling_table, shrinkage_table
from hierbayes.summaries.population import PopulationMap
from hierbayes.summaries.posterior import FactorBlocks, flatten, single_factor, unflatten
from hierbayes.summaries.stats import DEFAULT_PROB, summarize

if TYPE_CHECKING:
    from hierbayes.bigdata import StatisticsFit

__all__ = ["leaf_groups", "statistics_pooling", "statistics_r2", "statistics_shrinkage"]

_SAMPLE = (
    " Fit the same model on a sample that fits in memory "
    "(hb.Model(formula, data=ddf.sample(frac=0.01, random_state=1).compute())) and ask it there."
)


def leaf_groups(
    design: Design, nested: NestedDesign | None, n_leaves: int
) -> dict[str, np.ndarray]:
    """For each grouping factor, the group of each group of the statistics (the bottom level's):
    the leaves' parents followed up the chain of nested factors.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.build.nested_marginal import nested_chain
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 1, 3, 3, 10, 10, 14, 14], "a": list("aaaabbbb"),
    ...                    "s": list("ppqqrrss")})
    >>> d = make_design(parse_formula("y ~ 0 + (1 | a/s)"), df)
    >>> {k: v.tolist() for k, v in leaf_groups(d, nested_chain(d), 4).items()}
    {'a:s': [0, 1, 2, 3], 'a': [0, 0, 1, 1]}
    """
    if nested is None:
        return {design.blocks[0].factor: np.arange(n_leaves)}
    up = np.arange(nested.leaves.n_groups)
    groups = {nested.leaves.blocks[0].factor: up}
    for factor, parent in zip(nested.levels[-2::-1], nested.parents[::-1], strict=True):
        up = parent[up]
        groups[factor.blocks[0].factor] = up
    return groups


def _terms(design: Design, nested: NestedDesign | None) -> list[str]:
    """The group terms in the order of the statistics' ``Z`` columns."""
    if nested is None:
        return [b.name for b in design.blocks]
    return [b.name for f in reversed(nested.levels) for b in f.blocks]


def _leaf_effects(
    posterior: xr.Dataset, design: Design, nested: NestedDesign | None, n_leaves: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each term's effects (S, J, q) with, for each group of the statistics (leaf), the row of
    its group there, in the order of the statistics' ``Z`` columns."""
    groups = leaf_groups(design, nested, n_leaves)
    parts = []
    for name in _terms(design, nested):
        block = design.block(name)
        u = flatten(posterior[f"u|{name}"].transpose("chain", "draw", ..., block.term_dim))
        parts.append((u, groups[block.factor]))
    return parts


def _intercept(design: Design, what: str) -> int:
    if "Intercept" not in design.fixed_columns:
        raise RowsNotKeptError(
            f"{what} of a model fitted from Dask data needs an intercept in the fixed part: "
            "without one the statistics do not hold the sums of the fitted values." + _SAMPLE
        )
    return design.fixed_columns.index("Intercept")


def statistics_r2(fit: StatisticsFit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """:func:`hierbayes.summaries.r2` of a fit from Dask data, from its sums of squares.

    Needs an intercept in the fixed part and no offset (whose sums the statistics lack).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=dd.from_pandas(sleep, npartitions=2))
    >>> m.fit(draws=200, tune=200, chains=2, random_seed=1).r2()  # doctest: +SKIP
    """
    design, stats = fit.design, fit.design.statistics
    idx = _intercept(design, "fit.r2()")
    if design.spec.fixed.offsets:
        raise RowsNotKeptError(
            "fit.r2() of a model fitted from Dask data with an offset needs the offset's sums "
            "(its variance and cross products), which the statistics do not keep." + _SAMPLE
        )
    posterior = fit.idata["posterior"].to_dataset()
    b = stacked(posterior, "b").copy()  # (S, p), the design's fixed columns
    b[:, idx] = 0.0  # a constant leaves both variances as they are
    n, (L, d) = stats.n, stats.zty.shape
    effects = _leaf_effects(posterior, design, fit.model._nested, L)
    ones_w, ones_z = stats.wtw[:, idx], stats.ztw[:, :, idx]  # W'1 and each group's Z'1
    sum_y = stats.wty[idx]
    values = np.empty((len(b), 2))
    for part in chunks(len(b), 3 * L * d):
        bs = b[part]
        Vs = np.concatenate([u[part][:, rows] for u, rows in effects], axis=2)  # (s, L, d)
        fixed_ss = np.einsum("sp,pq,sq->s", bs, stats.wtw, bs)
        fixed_sum, fixed_y = bs @ ones_w, bs @ stats.wty
        for k, groups in enumerate((False, True)):
            fit_ss, fit_sum, fit_y = fixed_ss, fixed_sum, fixed_y
            if groups:
                cross = np.einsum("slq,lqp,sp->s", Vs, stats.ztw, bs)
                fit_ss = fit_ss + 2.0 * cross + np.einsum("slq,lqr,slr->s", Vs, stats.ztz, Vs)
                fit_sum = fit_sum + np.einsum("slq,lq->s", Vs, ones_z)
                fit_y = fit_y + np.einsum("slq,lq->s", Vs, stats.zty)
            var_fit = np.maximum(fit_ss - fit_sum**2 / n, 0.0) / (n - 1)
            res_ss = stats.yty - 2.0 * fit_y + fit_ss
            var_res = np.maximum(res_ss - (sum_y - fit_sum) ** 2 / n, 0.0) / (n - 1)
            values[part, k] = var_fit / (var_fit + var_res)
    da = unflatten(values, posterior, ("r2",), {"r2": ["marginal", "conditional"]})
    return summarize(da, prob=prob).set_index("r2")


def _identity_map(design: Design, fb: FactorBlocks, what: str) -> PopulationMap:
    """Each fixed column the population value of the varying coefficient of the same name."""
    others = [c for c in design.fixed_columns if c not in fb.terms]
    if others:
        raise RowsNotKeptError(
            f"{what} of a model fitted from Dask data needs each fixed column to be a varying "
            f"coefficient on '{fb.factor}': whether {others} vary within its groups (a level-1 "
            "or a level-2 predictor) is a question about the rows." + _SAMPLE
        )
    J, q, p = len(fb.levels), len(fb.terms), len(design.fixed_columns)
    weights = np.zeros((J, q, p))
    for i, column in enumerate(design.fixed_columns):
        weights[:, fb.terms.index(column), i] = 1.0
    return PopulationMap(fb.terms, weights, ())


def _identified(ztz: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Whether each group's ``Z`` (through its ``Z'Z``, (J, q, q)) has full column rank: the
    singular values of its columns scaled to unit norm, from the eigenvalues of the scaled
    ``Z'Z`` (accurate to about 1e-8 of the largest, hence the floor on the tolerance)."""
    norms = np.sqrt(np.diagonal(ztz, axis1=1, axis2=2))
    ok = np.all(norms > 0, axis=1)
    scale = np.where(norms > 0, norms, 1.0)
    eig = np.linalg.eigvalsh(ztz / (scale[:, :, None] * scale[:, None, :]))
    tol = [max(rank_tolerance(int(n), ztz.shape[1]), 1e-6) for n in counts]
    return ok & (np.sqrt(np.maximum(eig.min(axis=1), 0.0)) > np.array(tol))


def _no_pooling(design: Design, fb: FactorBlocks) -> NoPooling:
    """Each group's least squares on its own ``Z``: ``(Z_j'Z_j)⁻¹ Z_j'(y - offset)``."""
    stats = design.statistics
    J, q = len(fb.levels), len(fb.terms)
    enough = stats.counts >= q
    ok = enough & _identified(stats.ztz, stats.counts)
    estimates = np.full((J, q), np.nan)
    if ok.any():
        estimates[ok] = np.linalg.solve(stats.ztz[ok], stats.zty_raw[ok][:, :, None])[:, :, 0]
    reasons = [
        f"{stats.counts[j]} observation(s) for {q} coefficients"
        if not enough[j]
        else (
            "the group's data cannot separate its coefficients (a predictor does not vary "
            "within it)"
        )
        if not ok[j]
        else ""
        for j in range(J)
    ]
    return NoPooling(fb.terms, fb.levels, estimates, tuple(reasons), (), np.zeros(0))


def _complete_pooling(design: Design) -> np.ndarray:
    """Least squares of ``y`` less any offset on the fixed columns, from ``W'W`` and ``W'y``."""
    stats = design.statistics
    beta = np.linalg.lstsq(stats.wtw, stats.wty, rcond=None)[0]
    if "Intercept" in design.fixed_columns:  # W: the slopes centred on their means
        idx = design.fixed_columns.index("Intercept")
        slopes = np.arange(len(beta)) != idx
        beta[idx] += stats.shift - stats.means @ beta[slopes]
    return beta


def _single_factor(fit: StatisticsFit, what: str) -> tuple[FactorBlocks, PopulationMap]:
    fb = single_factor(fit.design, what)
    return fb, _identity_map(fit.design, fb, f"fit.{what}")


def statistics_pooling(fit: StatisticsFit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """:func:`hierbayes.summaries.pooling` of a fit from Dask data, from its statistics.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (Days | Subject)", data=dd.from_pandas(sleep, 2))
    >>> m.fit(draws=200, tune=200, chains=2, random_seed=1).pooling()  # doctest: +SKIP
    """
    fb, pmap = _single_factor(fit, "pooling()")
    own = _no_pooling(fit.design, fb)
    return pooling_table(fit, fb, pmap, own, _complete_pooling(fit.design), prob=prob)


def statistics_shrinkage(fit: StatisticsFit, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """:func:`hierbayes.summaries.shrinkage` of a fit from Dask data, from its statistics
    (``Z_j'Z_j``: a gaussian model's weights are 1).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (Days | Subject)", data=dd.from_pandas(sleep, 2))
    >>> m.fit(draws=200, tune=200, chains=2, random_seed=1).shrinkage()  # doctest: +SKIP
    """
    fb, pmap = _single_factor(fit, "shrinkage()")
    own = _no_pooling(fit.design, fb).estimates
    return shrinkage_table(fit, fb, pmap, fit.design.statistics.ztz, own, prob=prob)
