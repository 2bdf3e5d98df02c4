"""Posterior summaries of labelled draws: mean, sd, HDI and (optionally) R-hat and ESS."""

from __future__ import annotations

import warnings
from numbers import Real

import arviz_stats as az
import pandas as pd
import xarray as xr

from hierbayes.errors import ArgumentError

__all__ = ["DEFAULT_PROB", "hdi_columns", "summarize"]

DEFAULT_PROB = 0.94
SAMPLE_DIMS = ("chain", "draw")


def hdi_columns(prob: float) -> tuple[str, str]:
    """Column names of an HDI: ``("hdi_3%", "hdi_97%")`` for ``prob=0.94``.

    Examples
    --------
    >>> hdi_columns(0.9)
    ('hdi_5%', 'hdi_95%')
    """
    if not (isinstance(prob, Real) and not isinstance(prob, bool) and 0 < prob < 1):
        raise ArgumentError(f"prob must be a number between 0 and 1, got {prob!r}.")
    lower = round((1 - prob) / 2 * 100, 6)
    return f"hdi_{lower:g}%", f"hdi_{100 - lower:g}%"


def summarize(
    da: xr.DataArray, *, prob: float = DEFAULT_PROB, diagnostics: bool = False
) -> pd.DataFrame:
    """Summarise draws with dims ``(chain, draw, *rest)`` into one row per element of ``rest``.

    The returned frame has one column per dimension in ``rest`` (its labels) followed by ``mean``,
    ``sd``, the two HDI bounds, and, with ``diagnostics=True``, ``r_hat``, ``ess_bulk`` and
    ``ess_tail``.

    Examples
    --------
    >>> import numpy as np
    >>> draws = xr.DataArray(np.zeros((2, 50, 2)) + [1.0, 2.0], dims=("chain", "draw", "term"),
    ...                      coords={"term": ["a", "b"]})
    >>> summarize(draws)[["term", "mean"]].to_dict("list")
    {'term': ['a', 'b'], 'mean': [1.0, 2.0]}
    """
    lo, hi = hdi_columns(prob)
    rest = [d for d in da.dims if d not in SAMPLE_DIMS]
    stats = {
        "mean": da.mean(SAMPLE_DIMS),
        "sd": da.std(SAMPLE_DIMS, ddof=1),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        interval = az.hdi(da, prob=prob)
        stats[lo] = interval.sel(ci_bound="lower", drop=True)
        stats[hi] = interval.sel(ci_bound="upper", drop=True)
        if diagnostics:
            stats["r_hat"] = az.rhat(da)
            stats["ess_bulk"] = az.ess(da)
            stats["ess_tail"] = az.ess(da, method="tail")
    frame = xr.Dataset({k: v.reset_coords(drop=True) if not rest else v for k, v in stats.items()})
    frame = frame.drop_vars([c for c in frame.coords if c not in rest])
    if not rest:
        return pd.DataFrame({k: [float(v.values)] for k, v in frame.data_vars.items()})
    out = frame.to_dataframe(dim_order=rest).reset_index()
    return out[[*rest, *stats]]
