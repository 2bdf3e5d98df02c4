"""The split R-hat of thousands of group effects at once, to screen them for convergence.

:func:`hierbayes.diagnostics.check_convergence` screens every group effect with the plain split
R-hat of its draws (location) and of their distance from its median (spread), and computes the
rank-normalised R-hat only for those the screen flags. ArviZ evaluates R-hat one parameter at a
time (a Python call each); :func:`screen_rhat` computes the same numbers for all of them with a
few array operations: Gelman et al.'s split R-hat, as ``arviz_stats.rhat(method="split")``,
NaN where ArviZ gives NaN (a NaN draw, fewer than 2 chains or 4 draws).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["screen_rhat", "split_rhat"]


def split_rhat(values: np.ndarray) -> np.ndarray:
    """Split R-hat of each parameter of ``values`` (chain, draw, parameters...).

    Each chain is split in halves (the middle draw of an odd count dropped), and R-hat is
    ``sqrt(((n - 1) / n W + B / n) / W)`` with ``n`` the draws per half, ``W`` the mean
    within-half variance and ``B`` ``n`` times the variance of the half means.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4, 500, 2))
    >>> x[0, :, 1] += 2.0  # one chain elsewhere
    >>> (split_rhat(x) > 1.01).tolist()
    [False, True]
    """
    values = np.asarray(values, dtype=float)
    chains, draws = values.shape[:2]
    rest = values.shape[2:]
    if chains < 2 or draws < 4:
        return np.full(rest, np.nan)
    half = draws // 2
    halves = (values[:, :half], values[:, draws - half :])  # views: the split chains, uncopied
    chain_mean = np.concatenate([h.mean(axis=1) for h in halves])
    within = np.concatenate([h.var(axis=1, ddof=1) for h in halves]).mean(axis=0)
    between = half * chain_mean.var(axis=0, ddof=1)
    rhat = np.sqrt((between / within + half - 1) / half)
    invalid = np.isnan(values).any(axis=(0, 1))
    return np.where(invalid, np.nan, rhat)


def screen_rhat(draws: xr.DataArray) -> xr.DataArray:
    """The larger of the split R-hats of ``draws`` and of their distance from their median, per
    parameter (``draws``'s dimensions other than ``chain`` and ``draw``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> u = xr.DataArray(rng.standard_normal((4, 400, 3)), dims=("chain", "draw", "g"))
    >>> u[1, :, 2] *= 3.0  # one chain spread wider: the location's R-hat misses it
    >>> (screen_rhat(u) > 1.01).values.tolist()
    [False, False, True]
    """
    ordered = draws.transpose("chain", "draw", ...)
    values = np.asarray(ordered.values, dtype=float)
    # each parameter's draws in a contiguous row: numpy partitions rows several times faster
    rows = np.moveaxis(values.reshape(values.shape[0] * values.shape[1], -1), 0, -1).copy()
    if np.isnan(rows).any():  # NaN propagates (ArviZ: NaN R-hat); the median of the rest
        median = np.nanmedian(rows, axis=-1)
    else:
        median = np.median(rows, axis=-1, overwrite_input=True)
    median = median.reshape(values.shape[2:])
    folded = np.subtract(values, median)
    np.abs(folded, out=folded)
    rhat = np.fmax(split_rhat(values), split_rhat(folded))
    template = ordered.isel(chain=0, draw=0, drop=True)
    return template.copy(data=rhat)
