"""The pointwise log-likelihood of every observation at every posterior draw, for LOO.

Computed in NumPy from the draws of ``b``, the group effects ``u|<term>`` and ``sigma``, so it
is the same for every parameterisation and sampler (and for integrated-out effects, which are
drawn afterwards from their exact conditional posterior): the density of each observation given
all group effects, as ``pymc.compute_log_likelihood`` reports for the model of
:mod:`hierbayes.build`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import xarray as xr

from hierbayes.build import OBS_DIM, response_name
from hierbayes.density.batch import add_effects
from hierbayes.design import Design, GroupBlock
from hierbayes.families import log_density_constant
from hierbayes.families.dispatch import loglik_rows
from hierbayes.threads import in_threads

__all__ = [
    "effects_term",
    "observed_data",
    "pointwise_log_likelihood",
    "stacked",
    "with_log_likelihood",
]

# numbers held at once per chunk of draws (a few tens of MB)
_CHUNK_ELEMENTS = 4_000_000


def stacked(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Draws of ``name`` as (chain * draw, ...)."""
    values = np.asarray(posterior[name].values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])


def chunks(n_draws: int, per_draw: int) -> Iterator[slice]:
    """Slices of the draws holding about ``_CHUNK_ELEMENTS`` numbers at a time."""
    size = max(1, _CHUNK_ELEMENTS // max(per_draw, 1))
    for start in range(0, n_draws, size):
        yield slice(start, min(start + size, n_draws))


def effects_term(block: GroupBlock, u: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Contribution ``Z_i u_{g(i)}`` of one group term, (draws, n), from ``u`` (draws, J, q);
    added to ``out`` when given."""
    if out is None:
        out = np.zeros((u.shape[0], len(block.codes)))
    ones = block.Z.shape[1] == 1 and bool(np.all(block.Z == 1.0))
    Z = np.zeros((0, 1)) if ones else np.ascontiguousarray(block.Z, dtype=float)
    add_effects(out, np.ascontiguousarray(u, dtype=float), block.codes.astype(np.int64), Z)
    return out


def observed_data(design: Design, obs_index: object = None) -> xr.Dataset:
    """The response as ``observed_data``, labelled by ``obs_index`` (positions by default)."""
    obs = np.asarray(obs_index if obs_index is not None else np.arange(design.n_obs))
    name = response_name(design)
    return xr.Dataset({name: ((OBS_DIM,), np.asarray(design.y))}, coords={OBS_DIM: obs})


def pointwise_log_likelihood(idata: xr.DataTree, design: Design) -> xr.DataTree:
    """A copy of ``idata`` with its ``log_likelihood`` group: (chain, draw, obs) per observation.

    ``idata`` needs ``posterior`` (``b``, every ``u|<term>``, and ``sigma`` for gaussian
    models) and ``observed_data`` (whose labels the table takes).

    Examples
    --------
    >>> fit.loo()  # computes this when the fit has no log_likelihood group  # doctest: +SKIP
    """
    posterior = idata["posterior"].to_dataset()
    name = response_name(design)
    b = stacked(posterior, "b")
    if design.dpar is not None:  # sigma="~ ...": the residual SD varies by row
        from hierbayes.loglik_dpar import dpar_log_likelihood

        return dpar_log_likelihood(idata, design)
    own = design.family.params
    # (S, k): one column per scalar parameter, or per cut-point of an ordinal family
    parts = [stacked(posterior, name).reshape(len(b), -1) for name in own]
    theta = np.concatenate(parts, axis=1) if own else None
    us = {blk.name: stacked(posterior, f"u|{blk.name}") for blk in design.blocks}
    y = np.asarray(design.y, dtype=float)
    trials = np.asarray(design.trials if design.trials is not None else np.zeros(0), dtype=float)
    const = log_density_constant(design.family, y, design.trials)
    weights = np.zeros(0) if design.weights is None else np.asarray(design.weights, dtype=float)
    S = len(b)
    table = np.empty((S, len(y)))
    X = np.ascontiguousarray(design.X.T)

    def fill(part: slice) -> None:
        eta = table[part]
        np.matmul(b[part], X, out=eta)
        if design.offset is not None:
            eta += design.offset
        for blk in design.blocks:
            effects_term(blk, us[blk.name][part], out=eta)
        params = theta[part] if theta is not None else np.zeros((len(eta), 0))
        loglik_rows(
            design.family.code, y, eta, trials, weights, np.ascontiguousarray(params), const
        )

    in_threads(fill, list(chunks(S, len(y))))  # the same chunks as in one thread
    return with_log_likelihood(idata, name, table)


def with_log_likelihood(idata: xr.DataTree, name: str, table: np.ndarray) -> xr.DataTree:
    """A copy of ``idata`` with the pointwise log-likelihood ``table`` (draws in chain-major
    order, observations) as its ``log_likelihood`` group, labelled by ``observed_data``'s rows.
    """
    posterior, observed = idata["posterior"].to_dataset(), idata["observed_data"].to_dataset()
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    data = xr.DataArray(
        table.reshape(chains, draws, table.shape[1]),
        dims=("chain", "draw", OBS_DIM),
        coords={OBS_DIM: observed[OBS_DIM].values},
    )
    out = idata.copy()
    out["log_likelihood"] = xr.DataTree(xr.Dataset({name: data}))
    return out
