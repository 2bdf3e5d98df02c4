"""Helpers shared by the tests: quiet fitting and simulated data with known parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.errors import ConvergenceWarning

HSB_FORMULA = "mAch ~ cses * (meanses + sector) + (1 + cses | school)"
SLEEP_FORMULA = "Reaction ~ Days + (1 + Days | Subject)"


def quiet_fit(model: hb.Model, **kwargs) -> hb.Fit:
    """Fit, keeping convergence warnings out of the test log (tests check diagnostics directly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(**kwargs)


def simulate_correlated(
    seed: int, n_groups: int = 60, n_per_group: int = 20
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Simulate y = (b0 + u0) + (b1 + u1) x + e with (u0, u1) correlated across groups."""
    rng = np.random.default_rng(seed)
    truth = {"b0": 2.0, "b1": -1.0, "sd0": 1.0, "sd1": 0.5, "rho": 0.4, "sigma": 1.0}
    cov = np.array(
        [
            [truth["sd0"] ** 2, truth["rho"] * truth["sd0"] * truth["sd1"]],
            [truth["rho"] * truth["sd0"] * truth["sd1"], truth["sd1"] ** 2],
        ]
    )
    u = rng.multivariate_normal(np.zeros(2), cov, size=n_groups)
    g = np.repeat(np.arange(n_groups), n_per_group)
    x = rng.normal(size=g.size)
    y = truth["b0"] + u[g, 0] + (truth["b1"] + u[g, 1]) * x + rng.normal(0, truth["sigma"], g.size)
    data = pd.DataFrame({"y": y, "x": x, "g": [f"g{j:02d}" for j in g]})
    return data, truth


def simulate_random_intercept(seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Simulate y = mu + u_g + beta x + e for 60 groups of very unequal sizes (1 to 120)."""
    rng = np.random.default_rng(seed)
    truth = {"mu": 3.0, "beta": 0.5, "tau": 1.0, "sigma": 2.0}
    sizes = np.round(np.geomspace(1, 120, 60)).astype(int)
    u = rng.normal(0.0, truth["tau"], size=sizes.size)
    g = np.repeat(np.arange(sizes.size), sizes)
    x = rng.normal(size=g.size)
    e = rng.normal(0.0, truth["sigma"], size=g.size)
    y = truth["mu"] + u[g] + truth["beta"] * x + e
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j:02d}" for j in g]}), truth


def synthetic_fit(model: hb.Model, seed: int, chains: int = 2, draws: int = 50) -> hb.Fit:
    """A Fit whose posterior is random draws of every parameter (no sampling): for checking
    summaries draw by draw on any model structure and family, in milliseconds."""
    import xarray as xr

    from hierbayes.build import group_dim
    from hierbayes.diagnostics import Diagnostics

    rng = np.random.default_rng(seed)
    design = model.design
    dims = {"chain": np.arange(chains), "draw": np.arange(draws)}
    shape = (chains, draws)
    variables = {
        "b": xr.DataArray(
            rng.normal(0.0, 0.5, (*shape, len(design.fixed_columns))),
            dims=("chain", "draw", "term"),
            coords={**dims, "term": list(design.fixed_columns)},
        )
    }
    for block in design.blocks:
        q, J = len(block.columns), len(block.levels)
        terms = {block.term_dim: list(block.columns)}
        sd = rng.uniform(0.3, 1.5, (*shape, q))
        variables[f"sd|{block.name}"] = xr.DataArray(
            sd, dims=("chain", "draw", block.term_dim), coords={**dims, **terms}
        )
        cor = np.broadcast_to(np.eye(q), (*shape, q, q)).copy()
        if block.correlated:
            r = rng.uniform(-0.6, 0.6, shape)
            cor[..., 0, 1] = cor[..., 1, 0] = r
            variables[f"cor|{block.name}"] = xr.DataArray(
                cor,
                dims=("chain", "draw", block.term_dim, f"{block.term_dim}_bis"),
                coords={**dims, **terms, f"{block.term_dim}_bis": list(block.columns)},
            )
        cov = sd[..., :, None] * cor * sd[..., None, :]
        chol = np.linalg.cholesky(cov)
        u = np.einsum("cdkl,cdjl->cdjk", chol, rng.normal(size=(*shape, J, q)))
        gdim = group_dim(block)
        variables[f"u|{block.name}"] = xr.DataArray(
            u,
            dims=("chain", "draw", gdim, block.term_dim),
            coords={**dims, gdim: list(block.levels), **terms},
        )
    if design.family.has_sigma:
        variables["sigma"] = xr.DataArray(
            rng.uniform(0.5, 1.5, shape), dims=("chain", "draw"), coords=dims
        )
    idata = xr.DataTree.from_dict({"posterior": xr.Dataset(variables)})
    table = pd.DataFrame(columns=["r_hat", "ess_bulk", "ess_tail"])
    diagnostics = Diagnostics(table=table, divergences=0)
    # made-up draws; the sampler is named as one hierbayes has, so that saved copies load
    return hb.Fit(idata=idata, model=model, diagnostics=diagnostics, sampler="nutpie")


def crossed_data(seed: int = 5, n: int = 60) -> pd.DataFrame:
    """Small gaussian data with two crossed factors (g: 5 groups, h: 3), plus columns for the
    other families (yb bernoulli, k poisson, trials) and an integer column s."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 5, n)
    h = rng.integers(0, 3, n)
    x = rng.normal(1.0, 1.0, n)
    y = 3 + x + rng.normal(0, 1, 5)[g] + rng.normal(0, 0.5, 3)[h] + rng.normal(0, 0.7, n)
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "g": [f"g{j}" for j in g],
            "h": [f"h{j}" for j in h],
            "yb": (y > 4).astype(int),
            "k": rng.poisson(2.0, n),
            "trials": 8,
            "s": rng.integers(0, 9, n),
        }
    )


def small_binary_groups(n_groups: int, sd: float, seed: int = 11) -> pd.DataFrame:
    """Bernoulli rows in ``n_groups`` groups of one or two rows (alternately), intercept 0.3,
    slope 0.5 on a standard normal ``x``, group intercepts N(0, ``sd``): where Laplace is biased."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), 1 + np.arange(n_groups) % 2)
    x = rng.normal(size=len(g))
    eta = 0.3 + 0.5 * x + rng.normal(0, sd, n_groups)[g]
    y = (rng.random(len(g)) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"y": y, "x": x, "g": g})
