"""The PyMC side of a distributional parameter: ``log σ_i = X_σ b_σ + Z_σ u_σ``.

Variables (brms's names in the labels): ``b_sigma`` (dims ``sigma_term``: ``sigma_Intercept``,
``sigma_<x>``), sampled as ``sigma_Intercept_c`` (the intercept at the means of the predictors,
whose prior ``sigma_Intercept`` is) and ``beta_sigma`` (slopes on centred predictors); each group
term's ``sd|sigma_<factor>``, ``z|sigma_<factor>`` and ``u|sigma_<factor>`` (always non-centred;
see :func:`hierbayes.build.groups.add_group_effects`). The row-wise parameter itself is not
stored in the draws (n numbers per draw); :func:`hierbayes.dpar.dpar_rows` recomputes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from hierbayes.build.groups import add_group_effects, group_dim
from hierbayes.build.priors import prior_rv
from hierbayes.design import Design
from hierbayes.design.weights import column_means
from hierbayes.priors import Prior

__all__ = ["add_dpar", "dpar_coords"]


def dpar_coords(design: Design) -> dict[str, list[str]]:
    """Coordinates of the parameter's variables (none without a formula for it)."""
    dpar = design.dpar
    if dpar is None:
        return {}
    coords: dict[str, list[str]] = {
        dpar.term_dim: list(dpar.labels),
        f"{dpar.name}_slope_term": [
            f"{dpar.name}_{c}" for c in dpar.fixed_columns if c != "Intercept"
        ],
    }
    for block in dpar.blocks:  # a factor of the parameter's formula only: its levels too
        coords.setdefault(group_dim(block), list(block.levels))
        coords[block.term_dim] = list(block.columns)
        coords[f"{block.term_dim}_bis"] = list(block.columns)
    return coords


def add_dpar(design: Design, priors: dict[str, Prior]) -> Any:
    """Add the parameter's coefficients and group effects; return its value per row (n,)."""
    dpar = design.dpar
    assert dpar is not None
    name = dpar.name
    columns = list(dpar.fixed_columns)
    has_intercept = "Intercept" in columns
    slopes = [j for j, c in enumerate(columns) if c != "Intercept"]
    Xs = dpar.X[:, slopes]
    means = column_means(Xs, design.weights) if has_intercept else np.zeros(len(slopes))
    eta: Any = pt.zeros(design.n_obs)
    beta = None
    if slopes:
        parts = [
            prior_rv(f"b|{name}_{columns[j]}", priors[f"b|{name}_{columns[j]}"]) for j in slopes
        ]
        beta = pm.Deterministic(f"beta_{name}", pt.stack(parts), dims=f"{name}_slope_term")
        eta = eta + pt.dot(pt.as_tensor(Xs - means), beta)
    values = []
    if has_intercept:
        label = f"{name}_Intercept"
        intercept_c = prior_rv(f"{label}_c", priors[label], label=label)
        eta = eta + intercept_c
        intercept = intercept_c - (pt.dot(means, beta) if beta is not None else 0.0)
    k = 0
    for c in columns:
        if c == "Intercept":
            values.append(intercept)
        else:
            values.append(beta[k])
            k += 1
    pm.Deterministic(f"b_{name}", pt.stack(values) if values else pt.zeros(0), dims=dpar.term_dim)
    for block in dpar.blocks:
        u = add_group_effects(block, priors, ("noncentered",) * len(block.columns))
        if block.columns == ("Intercept",):
            eta = eta + u[block.codes, 0]
        else:
            eta = eta + (pt.as_tensor(block.Z) * u[block.codes]).sum(axis=1)
    return pt.exp(eta)
