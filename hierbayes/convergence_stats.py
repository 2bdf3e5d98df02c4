"""R-hat and ESS of the population-level parameters, computed once per variable and shared.

After sampling, three checks read the same numbers: :func:`hierbayes.course.trouble` (R-hat),
:func:`hierbayes.course_extend.slow_mixing` (R-hat and bulk ESS) and
:func:`hierbayes.diagnostics.check_convergence` (R-hat, bulk and tail ESS) of every fixed
effect, group SD and correlation and residual SD. :func:`row_statistic` evaluates each statistic
with ArviZ once per *variable* (all its coefficients in one call: the same numbers as one call
per coefficient, each computed along its own chains and draws) and keeps the result while the
variable's array of draws lives, so that the checks of one run share it. The draws of a
posterior are never changed in place (a new run, or a combined one, has arrays of its own).
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable

import arviz_stats as az
import numpy as np
import xarray as xr

from hierbayes.errors import HierbayesError

__all__ = ["STATISTICS", "row_statistic", "variable_statistic"]

STATISTICS: dict[str, Callable[[xr.DataArray], xr.DataArray]] = {
    "rhat": lambda da: az.rhat(da),  # rank-normalised split R-hat
    "ess_bulk": lambda da: az.ess(da, method="bulk"),
    "ess_tail": lambda da: az.ess(da, method="tail"),
}

_SAMPLE_DIMS = ("chain", "draw")
# (id of the draws' array, its dims, statistic) -> {coordinate labels: value}; an entry goes
# when its array is freed (weakref.finalize), so that an id is never reused while cached
_CACHE: dict[tuple, dict[tuple[str, ...], float]] = {}


def variable_statistic(da: xr.DataArray, statistic: str) -> dict[tuple[str, ...], float]:
    """``statistic`` ("rhat", "ess_bulk" or "ess_tail") of each coefficient of the variable
    ``da`` (dimensions ``chain``, ``draw`` and any others), keyed by the coefficient's labels
    (``str`` of its coordinates, in ``da``'s order of dimensions; ``()`` for a scalar).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> b = xr.DataArray(rng.normal(size=(4, 500, 2)), dims=("chain", "draw", "term"),
    ...                  coords={"term": ["Intercept", "x"]})
    >>> ess = variable_statistic(b, "ess_bulk")
    >>> sorted(ess), ess[("x",)] == float(az.ess(b.sel(term="x")))
    ([('Intercept',), ('x',)], True)
    """
    if statistic not in STATISTICS:
        choices = ", ".join(STATISTICS)
        raise HierbayesError(f"Unknown statistic {statistic!r}; choose one of {choices}.")
    values = da.values
    key = (id(values), values.shape, da.dims, statistic)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = STATISTICS[statistic](da)
    numbers = np.asarray(result.transpose(*extra).values, dtype=float)
    labels = [[str(v) for v in da[d].values] for d in extra]
    table = {
        tuple(labels[k][i] for k, i in enumerate(index)): float(numbers[index])
        for index in np.ndindex(*numbers.shape)
    }
    if isinstance(values, np.ndarray):  # kept while the draws live
        _CACHE[key] = table
        weakref.finalize(values, _CACHE.pop, key, None)
    return table


def row_statistic(posterior: xr.Dataset, var: str, coords: dict[str, str], statistic: str) -> float:
    """``statistic`` of one coefficient of ``posterior[var]``, the one at ``coords`` (labels by
    dimension, as :func:`hierbayes.diagnostics.check_convergence` lists its rows).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> post = xr.Dataset({"sigma": (("chain", "draw"), rng.normal(size=(4, 400)))})
    >>> row_statistic(post, "sigma", {}, "rhat") == float(az.rhat(post["sigma"]))
    True
    """
    da = posterior[var]
    extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
    return variable_statistic(da, statistic)[tuple(coords[d] for d in extra)]
