"""The split R-hat of thousands of group effects at once, to screen them for convergence.

:func:`hierbayes.diagnostics.check_convergence` screens every group effect with the plain split
R-hat of its draws (location) and of their distance from its median (spread), and computes the
rank-normalised R-hat only for those the screen flags. ArviZ evaluates R-hat one parameter at a
time (a Python call each); :func:`screen_rhat` computes the same numbers for all of them with a
few array operations: Gelman et al.'s split R-hat, as ``arviz_stats.rhat(method="split")``,
NaN where ArviZ gives NaN (a NaN draw, fewer than 2 chains or 4 draws).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from hierbayes.threads import in_threads

__all__ = ["flagged_rhat", "parameter_blocks", "screen_rhat", "split_rhat"]


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
    chains, n = values.shape[:2]
    flat = values.reshape(chains, n, -1)  # a view of C-ordered draws
    width = flat.shape[2]
    rhat = np.empty(width)

    def fill(block: tuple[int, int]) -> None:
        start, stop = block
        rhat[start:stop] = _screen_block(flat[:, :, start:stop])

    in_threads(fill, parameter_blocks(width, chains * n))  # blocks apart: one thread's numbers
    template = ordered.isel(chain=0, draw=0, drop=True)
    return template.copy(data=rhat.reshape(values.shape[2:]))


def parameter_blocks(width: int, per_parameter: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of blocks of about :data:`_BLOCK_ELEMENTS` numbers along ``width``
    parameters of ``per_parameter`` draws each, none of them a single parameter unless
    ``width`` is 1 (NumPy would then sum along the draws pairwise: other rounding).

    Examples
    --------
    >>> parameter_blocks(5, 2**17)
    [(0, 2), (2, 5)]
    >>> parameter_blocks(1, 10)
    [(0, 1)]
    """
    size = max(2, _BLOCK_ELEMENTS // max(per_parameter, 1))
    starts = list(range(0, width, size))
    if len(starts) > 1 and width - starts[-1] < 2:
        starts.pop()  # a last block of one joins the one before
    return [(a, b) for a, b in zip(starts, [*starts[1:], width], strict=True)]


def flagged_rhat(
    draws: xr.DataArray, screen: xr.DataArray, limit: float, rhat: Callable[[xr.DataArray], Any]
) -> float:
    """The largest ``rhat`` (the rank-normalised R-hat) among the parameters of ``draws`` whose
    ``screen`` (:func:`screen_rhat`) exceeds ``limit``; the largest screened value when none
    does (NaN when all are NaN).

    The same number as ``rhat(draws.where(screen > limit, drop=True)).max()``, without the copy
    of all the draws that ``where`` makes: ``rhat`` runs on the flagged parameters' rows and
    columns only, and its values at parameters that are not flagged are left out.

    Examples
    --------
    >>> import arviz_stats as az
    >>> rng = np.random.default_rng(2)
    >>> u = xr.DataArray(rng.standard_normal((4, 400, 3)), dims=("chain", "draw", "g"))
    >>> u[0, :, 1] += 3.0
    >>> screen = screen_rhat(u)
    >>> flagged_rhat(u, screen, 1.01, az.rhat) == float(az.rhat(u.isel(g=1)))
    True
    """
    mask = np.asarray(screen.values > limit)
    if not mask.any():
        return float(screen.max())
    dims = screen.dims
    every = range(mask.ndim)
    keep = [np.flatnonzero(mask.any(axis=tuple(j for j in every if j != i))) for i in every]
    values = rhat(draws.isel(dict(zip(dims, keep, strict=True)))).transpose(*dims).values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: NaN, as xarray's max
        return float(np.nanmax(np.where(mask[np.ix_(*keep)], values, np.nan)))


# numbers screened at a time (2 MB): a block's temporaries reuse the memory of the block before
# instead of fresh pages the size of all the draws (thousands of effects x 4,000 draws), whose
# first touch cost more than the arithmetic
_BLOCK_ELEMENTS = 2**18


def _screen_block(values: np.ndarray) -> np.ndarray:
    """:func:`screen_rhat` of ``values`` (chain, draw, parameter)."""
    # each parameter's draws in a contiguous row: numpy partitions rows several times faster
    rows = np.moveaxis(values.reshape(values.shape[0] * values.shape[1], -1), 0, -1).copy()
    if np.isnan(rows).any():  # NaN propagates (ArviZ: NaN R-hat); the median of the rest
        median = np.nanmedian(rows, axis=-1)
    else:
        median = np.median(rows, axis=-1, overwrite_input=True)
    folded = np.subtract(values, median)
    np.abs(folded, out=folded)
    return np.fmax(split_rhat(values), split_rhat(folded))
