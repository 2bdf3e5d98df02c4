"""The pointwise log-likelihood of a model whose residual SD has its own linear predictor.

As :func:`hierbayes.loglik.pointwise_log_likelihood` (the density of each observation given all
group effects), with ``σ_i`` recomputed per draw from ``b_sigma`` and the ``u|sigma_<factor>``
effects (:func:`hierbayes.predict.dpar.dpar_rows`) and the family's NumPy log density.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hierbayes.build import response_name
from hierbayes.design import Design
from hierbayes.loglik import chunks, effects_term, stacked, with_log_likelihood

__all__ = ["dpar_log_likelihood"]


def dpar_log_likelihood(idata: xr.DataTree, design: Design) -> xr.DataTree:
    """A copy of ``idata`` with its ``log_likelihood`` group (chain, draw, obs)."""
    from hierbayes.predict.dpar import dpar_rows

    assert design.dpar is not None
    posterior = idata["posterior"].to_dataset()
    name = response_name(design)
    b = stacked(posterior, "b")
    S = len(b)
    us = {blk.name: stacked(posterior, f"u|{blk.name}") for blk in design.blocks}
    fixed = {p: stacked(posterior, p)[:, None] for p in design.family.params if p in posterior}
    rows = dpar_rows(posterior, design).reshape(S, design.n_obs)
    y = np.asarray(design.y, dtype=float)
    table = np.empty((S, len(y)))
    for part in chunks(S, len(y)):
        eta = b[part] @ design.X.T
        if design.offset is not None:
            eta += design.offset
        for blk in design.blocks:
            effects_term(blk, us[blk.name][part], out=eta)
        params = {k: v[part] for k, v in fixed.items()} | {design.dpar.name: rows[part]}
        table[part] = design.family.log_density(y, eta, params, design.trials)
    if design.weights is not None:
        table *= design.weights
    return with_log_likelihood(idata, name, table)
