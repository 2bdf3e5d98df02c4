"""Table rows of a residual SD with its own linear predictor (``sigma="~ ..."``), named as brms
names them: fixed effects ``sigma_Intercept``, ``sigma_<x>`` (on the log scale) in
:func:`~hierbayes.summaries.tables.fixef`, and the SDs of the group effects on log σ as
``sigma_Intercept`` rows of their factor in :func:`~hierbayes.summaries.tables.varcorr`
(brms's ``sd(sigma_Intercept)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.build import FIXED_DIM
from hierbayes.summaries.stats import summarize

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["dpar_fixef", "dpar_varcorr", "dpar_working_weights"]


def dpar_working_weights(fit: Fit, eta: np.ndarray, own: dict[str, float]) -> np.ndarray:
    """IRLS weights of each row (:func:`~hierbayes.summaries.nopool.working_weights`) at the
    posterior mean of the row's dispersion (``shape_i``, ``phi_i``), ``own`` the other
    parameters' posterior means; rows that share a value are weighed together."""
    from hierbayes.predict.dpar import dpar_rows  # predict imports summaries
    from hierbayes.summaries.nopool import working_weights

    design = fit.design
    assert design.dpar is not None
    posterior = fit.idata["posterior"].to_dataset()
    value = dpar_rows(posterior, design).mean(axis=(0, 1))
    trials = design.trials
    w = np.empty(len(eta))
    unique, where = np.unique(value, return_inverse=True)
    for k, v in enumerate(unique):
        rows = np.flatnonzero(where == k)
        params = own | {design.dpar.name: float(v)}
        w[rows] = working_weights(
            design.family, eta[rows], None if trials is None else trials[rows], params
        )
    return w


def dpar_fixef(fit: Fit, posterior: xr.Dataset, prob: float) -> pd.DataFrame | None:
    """Rows ``sigma_Intercept``, ``sigma_<x>`` of the fixed-effects table (None without)."""
    dpar = fit.design.dpar
    if dpar is None:
        return None
    table = summarize(posterior[f"b_{dpar.name}"], prob=prob, diagnostics=True)
    return table.rename(columns={dpar.term_dim: FIXED_DIM}).set_index(FIXED_DIM)


def dpar_varcorr(fit: Fit, posterior: xr.Dataset, prob: float) -> list[pd.DataFrame]:
    """Rows of the SDs (and correlations) of the group effects on log σ, by factor."""
    dpar = fit.design.dpar
    frames: list[pd.DataFrame] = []
    if dpar is None:
        return frames
    prefix = f"{dpar.name}_"
    for block in dpar.blocks:
        factor = block.name[len(prefix) :]
        labels = [f"{prefix}{c}" for c in block.columns]
        sd = summarize(posterior[f"sd|{block.name}"], prob=prob, diagnostics=True)
        sd[block.term_dim] = labels
        sd = sd.rename(columns={block.term_dim: "term"})
        sd.insert(0, "stat", "sd")
        sd.insert(0, "factor", factor)
        frames.append(sd)
        if block.correlated:
            cor = posterior[f"cor|{block.name}"]
            for i in range(len(labels)):
                for j in range(i + 1, len(labels)):
                    pair = cor.isel({block.term_dim: i, f"{block.term_dim}_bis": j}, drop=True)
                    row = summarize(pair, prob=prob, diagnostics=True)
                    row.insert(0, "term", f"{labels[i]}:{labels[j]}")
                    row.insert(0, "stat", "cor")
                    row.insert(0, "factor", factor)
                    frames.append(row)
    return frames
