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

The ESS is judged against 100 a *requested* chain (``attrs["requested_chains"]``, which
:func:`hierbayes.diagnostics.check_convergence` uses too): twice the chains double the ESS, not
the bar, so the extensions stop as soon as the fit holds the ESS asked for. R-hat is another
matter: for chains that all sample the same distribution, split R-hat is about
``sqrt(1 + 2 m / ESS)`` for ``m`` chains (Vats & Knudson 2021), i.e. it depends on the ESS *per
chain*, and more chains only make it less noisy (its between-chain variance is estimated from
``2 m - 1`` degrees of freedom). So an R-hat over 1.01 alone triggers an extension only when it
can be noise (:func:`rhat_within_noise`): its parameter has a bulk ESS of at least 100 a chain
(expected R-hat <= 1.01) and the R-hat lies inside the 99% band of that estimate. An R-hat over
1.01 with fewer than 100 ESS a chain stays over 1.01 however many chains are added, and one far
outside the band means chains in different places.

Where an R-hat over 1.01 is of the first kind (:func:`longer_chains`: inside the band of the
R-hat that its ESS a chain predicts, which is over 1.01), the model is sampled again with
longer chains instead, the same number of them with :func:`longer_chains` times the draws, and
that run replaces the first: a robust regression with correlated slopes over 27 subjects of 4
rows (nlme's Orthodont, student-t; the SD of the slopes near zero takes about 64 leapfrog steps
a draw) has a bulk ESS of 80 to 100 a chain on that SD in 4 x 1000 draws and R-hat 1.010 to
1.015; 4 chains more left it at 1.012 to 1.014 (seeds 1 to 3), 4 x 2000 draws gave 1.004 to
1.007 (seeds 1 to 4).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import xarray as xr
from scipy import stats

from hierbayes.convergence_stats import row_statistic
from hierbayes.density.agq_check import AGQ_CHECK, agq_failure
from hierbayes.density.laplace_check import LAPLACE_K, PARETO_K_MAX
from hierbayes.density.rescue import SAMPLING_NOTES
from hierbayes.diagnostics import ESS_PER_CHAIN_MIN, REQUESTED_CHAINS, requested_chains
from hierbayes.diagnostics import _rows as population_rows

__all__ = [
    "BORDERLINE_RHAT",
    "EXTEND_MIN_DRAWS",
    "MAX_EXTENSIONS",
    "REQUESTED_CHAINS",
    "RHAT_NOISE_QUANTILE",
    "combine_runs",
    "convergence_rows",
    "extension_seed",
    "integration_check_failed",
    "longer_chains",
    "min_bulk_ess",
    "rhat_within_noise",
    "slow_mixing",
]

# an R-hat above this is not slow mixing but chains in different places: more draws of the same
# chains would not bring them together soon
BORDERLINE_RHAT = 1.05
EXTEND_MIN_DRAWS = 1000
# runs added at most (each as many chains as the first, or once as many longer ones:
# longer_chains): at worst a run 4 times as long, then as many chains of that length more, about
# six times what the first run cost (a run 2 times as long alone: 1.5 times more)
MAX_EXTENSIONS = 2
# longer chains are sampled for this bulk ESS a chain (expected split R-hat 1.0066), at least
# twice and at most MAX_LENGTHENING times as long as the first run's
ESS_PER_CHAIN_WANTED = 150
MAX_LENGTHENING = 4
# an R-hat over 1.01 alone is taken for noise (worth more chains) below this quantile of its
# estimate's spread
RHAT_NOISE_QUANTILE = 0.99
RHAT_LIMIT = 1.01


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
        for var, coords, _ in population_rows(posterior):
            value = row_statistic(posterior, var, coords, "ess_bulk")
            if np.isfinite(value):
                values.append(value)
    return min(values)


def rhat_within_noise(rhat: float, ess: float, chains: int) -> bool:
    """Whether more chains can bring an R-hat over 1.01 down: its parameter's bulk ``ess`` over
    ``chains`` chains puts the expected split R-hat, ``sqrt(1 + 2 chains / ess)``, at most at
    1.01, and ``rhat`` lies inside the :data:`RHAT_NOISE_QUANTILE` band of its estimate
    (``R-hat² - 1`` scales as a chi-square of ``2 chains - 1`` degrees of freedom).

    Examples
    --------
    >>> rhat_within_noise(1.016, 420, 4)    # ESS 105 a chain: expected 1.0095, band to 1.025
    True
    >>> rhat_within_noise(1.03, 2000, 4)    # expected 1.002: the chains are apart
    False
    >>> rhat_within_noise(1.012, 300, 4)    # ESS 75 a chain: expected 1.013 with any chains
    False
    """
    if not (np.isfinite(rhat) and np.isfinite(ess)) or ess <= 0 or chains < 2:
        return False
    expected = 2.0 * chains / ess  # R-hat² - 1 for chains that sample the same distribution
    if expected > RHAT_LIMIT**2 - 1:
        return False
    dof = 2 * chains - 1
    return bool(rhat**2 - 1 <= expected * stats.chi2.ppf(RHAT_NOISE_QUANTILE, dof) / dof)


def longer_chains(idata: xr.DataTree, divergences: int) -> int:
    """How many times longer the chains of a run should be (0: not so): at least
    :data:`EXTEND_MIN_DRAWS` draws a chain, no divergent transition, every population R-hat at
    most :data:`BORDERLINE_RHAT`, some over 1.01 and each of those what chains that sample the
    same distribution but are short give: ``R-hat² - 1`` within the
    :data:`RHAT_NOISE_QUANTILE` band of ``2 chains / ESS`` (:func:`rhat_within_noise`), with
    that expected value over 1.01 for at least one (more chains would not bring it down). The
    factor gives the smallest of those bulk ESS :data:`ESS_PER_CHAIN_WANTED` a chain: 2 to
    :data:`MAX_LENGTHENING`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(3)
    >>> x, e = np.zeros((4, 1000)), rng.normal(size=(4, 1000))
    >>> for t in range(1, 1000):   # AR(1), rho 0.97: R-hat 1.023 at a bulk ESS of 58
    ...     x[:, t] = 0.97 * x[:, t - 1] + e[:, t]
    >>> run = xr.DataTree.from_dict({"posterior": xr.Dataset({"sigma": (("chain", "draw"), x)})})
    >>> longer_chains(run, 0), longer_chains(run, 2)
    (4, 0)
    """
    posterior = idata["posterior"]
    chains, draws = posterior.sizes.get("chain", 1), posterior.sizes.get("draw", 0)
    if divergences or draws < EXTEND_MIN_DRAWS or chains < 2:
        return 0
    rows = convergence_rows(idata)
    if any(rhat > BORDERLINE_RHAT for rhat, _ in rows):
        return 0
    over = [(rhat, ess) for rhat, ess in rows if rhat > RHAT_LIMIT]
    if not over or any(ess <= 0 for _, ess in over):
        return 0
    dof = 2 * chains - 1
    band = stats.chi2.ppf(RHAT_NOISE_QUANTILE, dof) / dof
    if any(rhat**2 - 1 > 2.0 * chains / ess * band for rhat, ess in over):
        return 0  # chains further apart than their length explains
    if all(2.0 * chains / ess <= RHAT_LIMIT**2 - 1 for _, ess in over):
        return 0  # more chains can do it (slow_mixing)
    per_chain = min(ess for _, ess in over) / chains
    return int(np.clip(np.ceil(ESS_PER_CHAIN_WANTED / per_chain), 2, MAX_LENGTHENING))


def slow_mixing(idata: xr.DataTree, divergences: int, requested: int | None = None) -> bool:
    """Whether a run is worth extending with more chains: at least :data:`EXTEND_MIN_DRAWS`
    draws a chain, no divergent transition, every population R-hat at most
    :data:`BORDERLINE_RHAT`, and either the smallest bulk ESS under 100 a ``requested`` chain
    (default: ``attrs["requested_chains"]``, else the chains sampled) or an R-hat over 1.01
    that more chains can bring down (:func:`rhat_within_noise`).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> x, e = np.zeros((4, 1000)), rng.normal(size=(4, 1000))
    >>> for t in range(1, 1000):   # AR(1), rho 0.9: a bulk ESS of about 210 over 4 chains
    ...     x[:, t] = 0.9 * x[:, t - 1] + e[:, t]
    >>> run = xr.DataTree.from_dict({"posterior": xr.Dataset({"sigma": (("chain", "draw"), x)})})
    >>> slow_mixing(run, 0), slow_mixing(run, 3), slow_mixing(run, 0, requested=1)
    (True, False, False)
    """
    posterior = idata["posterior"]
    chains, draws = posterior.sizes.get("chain", 1), posterior.sizes.get("draw", 0)
    if divergences or draws < EXTEND_MIN_DRAWS or chains < 2:
        return False
    rows = convergence_rows(idata)
    if any(rhat > BORDERLINE_RHAT for rhat, _ in rows):
        return False
    wanted = requested if requested is not None else requested_chains(posterior)
    if min((ess for _, ess in rows), default=np.inf) < ESS_PER_CHAIN_MIN * wanted:
        return True
    over = [(rhat, ess) for rhat, ess in rows if rhat > RHAT_LIMIT]
    return bool(over) and all(rhat_within_noise(rhat, ess, chains) for rhat, ess in over)


def convergence_rows(idata: xr.DataTree) -> list[tuple[float, float]]:
    """``(R-hat, bulk ESS)`` of each population parameter (finite ones only).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> x = np.random.default_rng(0).normal(size=(4, 500))
    >>> run = xr.DataTree.from_dict({"posterior": xr.Dataset({"sigma": (("chain", "draw"), x)})})
    >>> [(round(r, 2), e > 1000) for r, e in convergence_rows(run)]
    [(1.0, True)]
    """
    posterior = idata["posterior"].to_dataset()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for var, coords, _ in population_rows(posterior):
            rhat = row_statistic(posterior, var, coords, "rhat")
            ess = row_statistic(posterior, var, coords, "ess_bulk")
            if np.isfinite(rhat) and np.isfinite(ess):
                rows.append((rhat, ess))
    return rows


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


def integration_check_failed(attrs: dict) -> bool:
    """Whether a run's Laplace or quadrature check failed (:func:`hierbayes.laplace_fit.
    checked_laplace` then runs the model again, so extending it would be wasted).

    Examples
    --------
    >>> integration_check_failed({}), integration_check_failed({"laplace_pareto_k": 0.9})
    (False, True)
    """
    k = attrs.get(LAPLACE_K)
    return agq_failure(attrs) is not None or (k is not None and not k <= PARETO_K_MAX)


def _shift_chains(note: str, n: int) -> str:
    """A sampling note of a run whose chains now come after ``n`` others, renumbered."""

    def shifted(match: re.Match) -> str:
        out = f"{match[1]}{int(match[2]) + n}"
        return out + (f" of {int(match[3]) + n}" if match[3] else "")

    return re.sub(r"\b([Cc]hain )(\d+)(?: of (\d+))?", shifted, note)


def _merged_attrs(one: dict, two: dict, n: int) -> dict:
    """``one``'s attributes with ``two``'s sampling notes (chains renumbered after ``n``), the
    worse Laplace Pareto ``k`` and the worse quadrature check of the two."""
    attrs = dict(one)
    notes = [str(one.get(SAMPLING_NOTES, "")), _shift_chains(str(two.get(SAMPLING_NOTES, "")), n)]
    if any(notes):
        attrs[SAMPLING_NOTES] = "\n".join(x for x in notes if x)
    if LAPLACE_K in two:
        k1, k2 = float(one.get(LAPLACE_K, -np.inf)), float(two[LAPLACE_K])
        attrs[LAPLACE_K] = k2 if not np.isfinite(k2) or (np.isfinite(k1) and k2 > k1) else k1
    if f"{AGQ_CHECK}_sd" in two:
        failed = [agq_failure(one) is not None, agq_failure(two) is not None]
        sd1, sd2 = float(one.get(f"{AGQ_CHECK}_sd", -np.inf)), float(two[f"{AGQ_CHECK}_sd"])
        if failed[1] > failed[0] or (failed[1] == failed[0] and not sd2 <= sd1):
            attrs = {k: v for k, v in attrs.items() if not k.startswith(AGQ_CHECK)}
            attrs.update({k: v for k, v in two.items() if k.startswith(AGQ_CHECK)})
    return attrs


def combine_runs(first: xr.DataTree, second: xr.DataTree) -> xr.DataTree:
    """Both runs' chains (``first``'s numbered first) in one posterior and sample stats; the
    attributes are ``first``'s, with ``sampling_time`` the sum of both, ``second``'s sampling
    notes added (its chains renumbered) and the worse of both runs' Laplace and quadrature
    checks.

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
        joined.attrs = _merged_attrs(dict(one.attrs), dict(two.attrs), n)
        if "sampling_time" in one.attrs or "sampling_time" in two.attrs:
            joined.attrs["sampling_time"] = float(one.attrs.get("sampling_time", 0.0)) + float(
                two.attrs.get("sampling_time", 0.0)
            )
        groups[name] = joined
    return xr.DataTree.from_dict(groups)
