"""Fits with hand-made posterior draws: exact, fast tests of everything downstream of sampling."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

import hierbayes as hb
from hierbayes.build import FIXED_DIM, OBS_DIM, group_dim, response_name
from hierbayes.diagnostics import Diagnostics


def correlation(q: int, rho: float) -> np.ndarray:
    """A q x q correlation matrix with every off-diagonal entry ``rho``."""
    return np.full((q, q), rho) + (1 - rho) * np.eye(q)


def fake_fit(
    model: hb.Model,
    *,
    chains: int = 2,
    draws: int = 500,
    seed: int = 0,
    b: Mapping[str, float] | None = None,
    sd: Mapping[str, np.ndarray | list[float]] | None = None,
    rho: Mapping[str, float] | None = None,
    sigma: float = 1.0,
    jitter: float = 0.1,
    log_likelihood: np.ndarray | None = None,
) -> hb.Fit:
    """A :class:`hb.Fit` of ``model`` whose posterior draws are made up.

    Fixed effects are ``b`` (default 0.5 each) plus N(0, jitter) noise per draw; each block's SDs
    are ``sd[block]`` (default 1) times a draw-wise factor exp(N(0, jitter)); correlations are
    ``rho[block]`` (default 0.3); group effects are drawn from N(0, T) of each draw; the residual
    SD is ``sigma`` times exp(N(0, jitter)).
    """
    rng = np.random.default_rng(seed)
    design = model.design
    shape = (chains, draws)
    coords: dict[str, object] = {"chain": np.arange(chains), "draw": np.arange(draws)}
    data_vars: dict[str, tuple] = {}
    fixed = np.array([(b or {}).get(c, 0.5) for c in design.fixed_columns])
    coords[FIXED_DIM] = list(design.fixed_columns)
    data_vars["b"] = (
        ("chain", "draw", FIXED_DIM),
        fixed + jitter * rng.standard_normal((*shape, fixed.size)),
    )
    for block in design.blocks:
        q = len(block.columns)
        base = np.asarray((sd or {}).get(block.name, np.ones(q)), dtype=float)
        sds = base * np.exp(jitter * rng.standard_normal((*shape, q)))
        cor = np.broadcast_to(correlation(q, (rho or {}).get(block.name, 0.3)), (*shape, q, q))
        chol = np.linalg.cholesky(cor)
        z = rng.standard_normal((*shape, len(block.levels), q))
        u = np.einsum("cdkl,cdjl->cdjk", chol, z) * sds[:, :, None, :]
        gdim, tdim = group_dim(block), block.term_dim
        coords[gdim] = list(block.levels)
        coords[tdim] = list(block.columns)
        data_vars[f"u|{block.name}"] = (("chain", "draw", gdim, tdim), u)
        data_vars[f"sd|{block.name}"] = (("chain", "draw", tdim), sds)
        if block.correlated:
            coords[f"{tdim}_bis"] = list(block.columns)
            data_vars[f"cor|{block.name}"] = (("chain", "draw", tdim, f"{tdim}_bis"), cor.copy())
    if design.family.has_sigma:
        data_vars["sigma"] = (
            ("chain", "draw"),
            sigma * np.exp(jitter * rng.standard_normal(shape)),
        )
    # string labels as Python objects, as PyMC stores them
    coords = {
        k: np.asarray(v, dtype=object) if k not in ("chain", "draw") else v
        for k, v in coords.items()
    }
    posterior = xr.Dataset(data_vars, coords=coords)
    name = response_name(design)
    obs = np.asarray(model.obs_index)
    groups = {
        "posterior": xr.DataTree(posterior),
        "observed_data": xr.DataTree(
            xr.Dataset({name: ((OBS_DIM,), design.y)}, coords={OBS_DIM: obs})
        ),
    }
    if log_likelihood is not None:
        groups["log_likelihood"] = xr.DataTree(
            xr.Dataset(
                {name: (("chain", "draw", OBS_DIM), log_likelihood)},
                coords={"chain": np.arange(chains), "draw": np.arange(draws), OBS_DIM: obs},
            )
        )
    idata = xr.DataTree(children=groups)
    table = pd.DataFrame(columns=["r_hat", "ess_bulk", "ess_tail"])
    return hb.Fit(idata=idata, model=model, diagnostics=Diagnostics(table, 0), sampler="nutpie")


def tiny_data(**extra: Any) -> pd.DataFrame:
    """24 rows: ``y`` and ``x`` standard normal (seed 1), ``g`` four groups of 6; ``extra``
    columns are set (or replaced) as given. The data of the bad-input catalogues."""
    rng = np.random.default_rng(1)
    g = np.repeat(["a", "b", "c", "d"], 6)
    df = pd.DataFrame({"y": rng.normal(size=24), "x": rng.normal(size=24), "g": g})
    for name, value in extra.items():
        df[name] = value
    return df


@cache
def tiny_model() -> hb.Model:
    """``y ~ x + (1 | g)`` on :func:`tiny_data` (made once)."""
    return hb.Model("y ~ x + (1 | g)", tiny_data())


@cache
def tiny_fit() -> hb.Fit:
    """:func:`tiny_model` with 2 x 20 made-up draws (made once)."""
    return fake_fit(tiny_model(), draws=20)
