"""The two steps of a :mod:`hierbayes.bigdata` model that read its sufficient statistics instead
of rows: the compiled log-density's arrays (:func:`statistics_layout`) and the exact conditional
draws of the integrated-out group effects after sampling (:func:`complete_from_statistics`), each
as its in-memory counterpart (:func:`hierbayes.density.layout.make_layout`,
:func:`hierbayes.conditional.complete_marginal`) computes it from the same sums.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from hierbayes.build.nested_marginal import NestedDesign
from hierbayes.conditional import _block_diag, _cholesky, with_effects
from hierbayes.conditional_nested import effects_from_leaf_sums
from hierbayes.density import codes as K
from hierbayes.density.batch import conditional_effects, fixed_residual_sums
from hierbayes.density.layout import Layout
from hierbayes.density.nested_marginal import NESTED
from hierbayes.design.dask_stats import Statistics
from hierbayes.errors import ModelSpecError
from hierbayes.loglik import chunks, stacked

if TYPE_CHECKING:
    from hierbayes.bigdata import StatisticsDesign

__all__ = ["complete_from_statistics", "statistics_layout"]


def statistics_layout(layout: Layout, stats: Statistics) -> Layout:
    """``layout`` (of the skeleton) with the data's statistics in place of the skeleton's, and
    none of its rows: what the kernel reads when the factor alone is integrated out."""
    arrays = list(layout.arrays)
    meta = arrays[K.A_META].copy()
    if meta[K.M_SUFFSTAT] not in (1, NESTED):
        raise ModelSpecError("The group effects must be integrated out from statistics alone.")
    meta[K.M_NOBS] = stats.n
    J, q, p = stats.ztw.shape
    empty, none = np.zeros(0), np.zeros(0, dtype=np.int64)
    arrays[K.A_META] = meta
    arrays[K.A_Y] = arrays[K.A_W] = arrays[K.A_TRIALS] = empty
    arrays[K.A_CONST] = np.array([-0.5 * math.log(2.0 * math.pi) * stats.n])
    arrays[K.A_SS_WTW] = stats.wtw.ravel()
    arrays[K.A_SS_WTY] = stats.wty
    arrays[K.A_SS_YTY] = np.array([stats.yty, stats.shift])
    arrays[K.A_SS_ZTZ] = stats.ztz.ravel()
    arrays[K.A_SS_ZTW] = stats.ztw.reshape(J * q, p).T.ravel()
    arrays[K.A_SS_ZTY] = stats.zty.ravel()
    if meta[K.M_SUFFSTAT] != NESTED:  # a nested chain's tree stays
        arrays[K.A_MCODES] = none
    arrays[K.A_MZ] = empty
    arrays[K.A_OFFSET] = arrays[K.A_WEIGHTS] = empty
    for b in range(len(layout.blocks)):
        at = K.N_GLOBAL + b * K.PER_BLOCK
        arrays[at + K.P_CODES], arrays[at + K.P_Z] = none, empty
    arrays = [np.ascontiguousarray(a) for a in arrays]
    for a in arrays:
        a.flags.writeable = False
    table = np.empty(1 + 2 * len(arrays), dtype=np.int64)
    table[0] = len(arrays)
    for k, a in enumerate(arrays):
        table[1 + 2 * k] = a.ctypes.data
        table[2 + 2 * k] = a.size
    table.flags.writeable = False
    return dataclasses.replace(layout, table=table, arrays=tuple(arrays), means=stats.means)


def complete_from_statistics(
    idata: xr.DataTree,
    design: StatisticsDesign,
    nested: NestedDesign | None,
    random_seed: int | None,
) -> xr.DataTree:
    """``idata`` with ``u|<term>`` drawn from their exact conditional posterior, from the
    per-group statistics (as :func:`hierbayes.conditional.complete_marginal` from rows, with
    the same random numbers)."""
    stats = design.statistics
    rng = np.random.default_rng(None if random_seed is None else [random_seed, 20_011])
    posterior = idata["posterior"].to_dataset()
    b, sigma = stacked(posterior, "b"), stacked(posterior, "sigma")
    if nested is not None:
        drawn = _nested_draws(posterior, b, sigma, stats, nested, rng)
    else:
        drawn = _factor_draws(posterior, b, sigma, stats, design, rng)
    return with_effects(idata, posterior, list(design.blocks), drawn)


def _nested_draws(
    posterior: xr.Dataset,
    b: np.ndarray,
    sigma: np.ndarray,
    stats: Statistics,
    nested: NestedDesign,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """As :func:`hierbayes.conditional_nested.nested_effects`, from the leaves' statistics."""
    n_leaf, d, p = stats.ztx_raw.shape
    chols = {blk.name: _cholesky(posterior, blk) for f in nested.levels for blk in f.blocks}
    return effects_from_leaf_sums(
        nested, stats.ztz, stats.zty_raw, stats.ztx_raw.reshape(n_leaf * d, p), b, sigma, chols, rng
    )


def _factor_draws(
    posterior: xr.Dataset,
    b: np.ndarray,
    sigma: np.ndarray,
    stats: Statistics,
    design: StatisticsDesign,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """As :func:`hierbayes.conditional.complete_marginal` for one factor, from its statistics."""
    L = _block_diag([_cholesky(posterior, blk) for blk in design.blocks])
    S, (J, q) = len(sigma), stats.zty_raw.shape
    u = np.empty((S, J, q))
    size = next(chunks(S, J * q * q)).stop
    eps, t = np.empty((size, J, q)), np.empty((size, J, q))
    Zty, ZtX = np.ascontiguousarray(stats.zty_raw), np.ascontiguousarray(stats.ztx_raw)
    for part in chunks(S, J * q * q):
        n = part.stop - part.start
        tp = fixed_residual_sums(Zty, ZtX, np.ascontiguousarray(b[part]), t[:n])
        rng.standard_normal(out=eps[:n])
        conditional_effects(
            tp, stats.ztz, np.ascontiguousarray(L[part]), sigma[part], eps[:n], u[part]
        )
    drawn, k = {}, 0
    for blk in design.blocks:
        drawn[blk.name] = u[:, :, k : k + len(blk.columns)]
        k += len(blk.columns)
    return drawn
