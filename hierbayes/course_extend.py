"""Sample more chains when a full-size run mixes slowly but is not lost: its R-hat is only just
over the limit, or its ESS is short of 100 draws a chain, and nothing diverged.

Some posteriors are sampled correctly but slowly by NUTS with either parameterisation: a
bernoulli factor of many groups with one or two rows each and a large SD (mlmRev's guPrenat,
1,558 mothers in 161 communities, 95% of mothers with all-0 or all-1 responses, SD 6.8 on the
logit scale). Each such group's effect has a posterior that is flat on one side, up to where
its data cut it off: non-centred, the SD given the standardised effects is pinned by the groups
near their cut-offs; centred, by the 1,558 effects' spread (a relative SD of 1.8% against the
posterior's 11%). Either way the SD moves a little per draw: 4 x 1000 draws gave R-hat 1.008 to
1.016 and a bulk ESS of 340 to 520 on the SDs, in chains that all adapted to the same step
size and tree depth (no chain stuck elsewhere), so that a second parameterisation or a raised
``target_accept`` does not help and more draws do.

When a run's trouble is of that kind (:func:`slow_mixing`), the same model is sampled once more
with as many new chains (another seed) and both runs' chains are kept (:func:`combine_runs`):
twice the draws for twice the cost, with the R-hat and ESS of all chains together; while the
chains together still mix slowly, once more (at most :data:`MAX_EXTENSIONS` times). Runs of fewer
than :data:`EXTEND_MIN_DRAWS` draws a chain are quick looks and are not extended.
"""

from __future__ import annotations

import warnings

import arviz_stats as az
import numpy as np
import xarray as xr

from hierbayes.diagnostics import ESS_PER_CHAIN_MIN
from hierbayes.diagnostics import _rows as population_rows

__all__ = [
    "BORDERLINE_RHAT",
    "EXTEND_MIN_DRAWS",
    "MAX_EXTENSIONS",
    "combine_runs",
    "extension_seed",
    "min_bulk_ess",
    "slow_mixing",
]

# an R-hat above this is not slow mixing but chains in different places: more draws of the same
# chains would not bring them together soon
BORDERLINE_RHAT = 1.05
EXTEND_MIN_DRAWS = 1000
# runs added at most (each as many chains as the first): the fit costs at most this many times more
MAX_EXTENSIONS = 2


def min_bulk_ess(idata: xr.DataTree) -> float:
    """The smallest bulk ESS of a population parameter (the rows of ``fit.diagnostics.table``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> post = xr.Dataset({"sigma": (("chain", "draw"), rng.normal(size=(4, 500)))})
    >>> bool(min_bulk_ess(xr.DataTree.from_dict({"posterior": post})) > 1000)
    True
    """
    posterior = idata["posterior"].to_dataset()
    values = [np.inf]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _, _, da in population_rows(posterior):
            value = float(az.ess(da, method="bulk"))
            if np.isfinite(value):
                values.append(value)
    return min(values)


def slow_mixing(idata: xr.DataTree, worst_rhat: float, divergences: int) -> bool:
    """Whether a run is worth extending with more chains: at least :data:`EXTEND_MIN_DRAWS`
    draws a chain, no divergent transition, its worst population R-hat at most
    :data:`BORDERLINE_RHAT`, and either that R-hat over 1.01 or the smallest bulk ESS under
    100 a chain (the limits :mod:`hierbayes.diagnostics` warns at).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> walk = np.cumsum(rng.normal(size=(4, 1000)), axis=1) * 0.05   # autocorrelated
    >>> post = xr.Dataset({"sigma": (("chain", "draw"), walk + rng.normal(size=(4, 1000)))})
    >>> run = xr.DataTree.from_dict({"posterior": post})
    >>> slow_mixing(run, 1.008, 0), slow_mixing(run, 1.2, 0), slow_mixing(run, 1.008, 3)
    (True, False, False)
    """
    posterior = idata["posterior"]
    chains, draws = posterior.sizes.get("chain", 1), posterior.sizes.get("draw", 0)
    if divergences or draws < EXTEND_MIN_DRAWS or chains < 2 or worst_rhat > BORDERLINE_RHAT:
        return False
    return worst_rhat > 1.01 or min_bulk_ess(idata) < ESS_PER_CHAIN_MIN * chains


def extension_seed(seed: int | None, run: int = 1) -> int | None:
    """The seed of the ``run``-th set of extra chains: derived from the fit's own (None stays
    None), so that the same seed gives the same fit.

    Examples
    --------
    >>> extension_seed(1) == extension_seed(1) != extension_seed(2)
    True
    >>> extension_seed(None) is None
    True
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence([int(seed), run]).generate_state(1)[0])


def combine_runs(first: xr.DataTree, second: xr.DataTree) -> xr.DataTree:
    """Both runs' chains (``first``'s numbered first) in one posterior and sample stats; the
    attributes are ``first``'s, with ``sampling_time`` the sum of both.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> def run(value):
    ...     post = xr.Dataset({"mu": (("chain", "draw"), np.full((2, 3), value))},
    ...                       coords={"chain": [0, 1], "draw": [0, 1, 2]})
    ...     post.attrs["sampling_time"] = 2.0
    ...     return xr.DataTree.from_dict({"posterior": post, "sample_stats": post})
    >>> both = combine_runs(run(1.0), run(2.0))
    >>> both["posterior"]["mu"].values[:, 0].tolist(), both["posterior"]["chain"].values.tolist()
    ([1.0, 1.0, 2.0, 2.0], [0, 1, 2, 3])
    >>> both["posterior"].attrs["sampling_time"]
    4.0
    """
    groups = {}
    for name in first.children:
        one = first[name].to_dataset()
        if name not in second.children or "chain" not in one.dims:
            groups[name] = one
            continue
        two = second[name].to_dataset()
        n = one.sizes["chain"]
        two = two.assign_coords(chain=np.arange(n, n + two.sizes["chain"]))
        one = one.assign_coords(chain=np.arange(n))
        joined = xr.concat([one, two], dim="chain", combine_attrs="override")
        joined.attrs = dict(one.attrs)
        if "sampling_time" in one.attrs or "sampling_time" in two.attrs:
            joined.attrs["sampling_time"] = float(one.attrs.get("sampling_time", 0.0)) + float(
                two.attrs.get("sampling_time", 0.0)
            )
        groups[name] = joined
    return xr.DataTree.from_dict(groups)
