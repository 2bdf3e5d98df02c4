"""Complete the draws of a marginal fit: exact group effects, observed data, log-likelihood.

A model whose gaussian group effects were integrated out (:mod:`hierbayes.build.marginal`)
samples only the fixed effects, variance components and the other factors' effects. Given those,
the marginalised effects have a closed-form gaussian posterior: with ``u_j = L v_j``,

    v_j | y, θ ~ Normal(M_j⁻¹ w_j, σ² M_j⁻¹),   M_j = σ² I + L' Z_j'Z_j L,   w_j = L' Z_j' r_j,

where ``r_j`` are group ``j``'s residuals after the fixed part and the other factors. One exact
draw per posterior draw turns the sample into a sample of the full joint posterior, so
``ranef``, ``coef``, pooling, plots and predictions work as for any other parameterisation. The
pointwise log-likelihood stored for LOO is the usual one, conditional on the group effects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from hierbayes.build import OBS_DIM, group_dim, response_name
from hierbayes.build.marginal import FactorDesign, factor_design
from hierbayes.design import Design, GroupBlock
from hierbayes.predict.response import log_density

__all__ = ["CONDITIONAL_DRAWS", "complete_marginal", "gaussian_log_likelihood", "marginal_blocks"]

# attrs["draws"] of effects drawn after sampling from their exact conditional posterior
CONDITIONAL_DRAWS = "exact conditional"

# numbers held at once per chunk of draws (a few tens of MB)
_CHUNK_ELEMENTS = 4_000_000


def marginal_blocks(parameterization: dict[str, tuple[str, ...]]) -> list[str]:
    """Names of the group terms whose effects are integrated out."""
    return [name for name, how in parameterization.items() if how and how[0] == "marginal"]


def _stacked(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Draws of ``name`` as (chain * draw, ...)."""
    values = np.asarray(posterior[name].values, dtype=float)
    return values.reshape(-1, *values.shape[2:])


def _chunks(n_draws: int, per_draw: int) -> Iterator[slice]:
    size = max(1, _CHUNK_ELEMENTS // max(per_draw, 1))
    for start in range(0, n_draws, size):
        yield slice(start, min(start + size, n_draws))


def _cholesky(posterior: xr.Dataset, block: GroupBlock) -> np.ndarray:
    """Cholesky factors of the block's covariance, (draws, q, q)."""
    sd = _stacked(posterior, f"sd|{block.name}")
    if block.correlated:
        # L = diag(sd) chol(Ω), from the sampled Cholesky factor of the correlation matrix: valid
        # even where refactorising sd Ω sd would fail (a correlation of ±1, an SD underflowing)
        return sd[:, :, None] * _stacked(posterior, f"chol_cor|{block.name}")
    return np.einsum("sk,kl->skl", sd, np.eye(sd.shape[1]))


def _block_diag(chols: list[np.ndarray]) -> np.ndarray:
    S = chols[0].shape[0]
    q = sum(c.shape[1] for c in chols)
    out = np.zeros((S, q, q))
    k = 0
    for c in chols:
        out[:, k : k + c.shape[1], k : k + c.shape[1]] = c
        k += c.shape[1]
    return out


def _effects_term(block: GroupBlock, u: np.ndarray) -> np.ndarray:
    """Contribution ``Z_i u_{g(i)}`` of one group term, (draws, n), from ``u`` (draws, J, q)."""
    out = np.zeros((u.shape[0], len(block.codes)))
    for k in range(u.shape[2]):
        column = block.Z[:, k]
        part = u[:, block.codes, k]
        if not np.all(column == 1.0):
            part *= column
        out += part
    return out


def _draw_effects(
    posterior: xr.Dataset,
    design: Design,
    factor: FactorDesign,
    others: list[GroupBlock],
    rng: np.random.Generator,
) -> np.ndarray:
    """One exact conditional draw of the factor's effects per posterior draw: (draws, J, q)."""
    b = _stacked(posterior, "b")
    sigma = _stacked(posterior, "sigma")
    L = _block_diag([_cholesky(posterior, blk) for blk in factor.blocks])
    y = np.asarray(design.y, dtype=float)
    S, J, q = len(sigma), factor.n_groups, factor.q
    ZtZ = factor.cross(factor.Z)
    if not others:
        Zty = factor.cross(y[:, None])[:, :, 0]
        ZtX = factor.cross(design.X)
    other_u = {blk.name: _stacked(posterior, f"u|{blk.name}") for blk in others}
    out = np.empty((S, J, q))
    per_draw = J * q * q + (len(y) if others else 0)
    for part in _chunks(S, per_draw):
        if others:
            r = y[None, :] - b[part] @ design.X.T
            for blk in others:
                r -= _effects_term(blk, other_u[blk.name][part])
            t = np.stack([factor.cross(r_s[:, None])[:, :, 0] for r_s in r])
        else:
            t = Zty[None] - np.einsum("jkp,sp->sjk", ZtX, b[part])
        Lp, s2 = L[part], sigma[part] ** 2
        M = np.einsum("ska,jkl,slb->sjab", Lp, ZtZ, Lp) + s2[:, None, None, None] * np.eye(q)
        w = np.einsum("ska,sjk->sja", Lp, t)
        mean = np.linalg.solve(M, w[..., None])[..., 0]
        C = np.linalg.cholesky(M)
        eps = rng.standard_normal(mean.shape)
        noise = np.linalg.solve(np.swapaxes(C, -1, -2), eps[..., None])[..., 0]
        v = mean + sigma[part, None, None] * noise
        out[part] = np.einsum("sab,sjb->sja", Lp, v)
    return out


def complete_marginal(
    idata: xr.DataTree,
    model: pm.Model,
    design: Design,
    parameterization: dict[str, tuple[str, ...]],
    *,
    obs_index: Any = None,
    random_seed: int | None = None,
    log_likelihood: bool = True,
) -> xr.DataTree:
    """Add ``u|<term>`` of the marginalised factor, ``observed_data`` and the log-likelihood.

    Parameters
    ----------
    idata : DataTree
        Draws of a model built with a ``"marginal"`` parameterisation.
    model : pymc.Model
        That model (for its coordinates).
    design : Design
    parameterization : dict
        Resolved parameterisation (:func:`hierbayes.build.resolve_parameterization`).
    obs_index : array-like, optional
        Labels of the observations.
    random_seed : int, optional
        Seed of the conditional draws (the same seed gives the same draws).
    log_likelihood : bool
        Also store the pointwise log-likelihood.
    """
    names = marginal_blocks(parameterization)
    factor = factor_design(design, names)
    others = [b for b in design.blocks if b.name not in names]
    rng = np.random.default_rng(None if random_seed is None else [random_seed, 20_011])
    posterior = idata["posterior"].to_dataset()
    u = _draw_effects(posterior, design, factor, others, rng)
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    new = {}
    k = 0
    for blk in factor.blocks:
        q = len(blk.columns)
        gdim, tdim = group_dim(blk), blk.term_dim
        values = u[:, :, k : k + q].reshape(chains, draws, factor.n_groups, q)
        new[f"u|{blk.name}"] = xr.DataArray(
            values,
            dims=("chain", "draw", gdim, tdim),
            coords={
                gdim: np.array(list(model.coords[gdim]), dtype=object),
                tdim: np.array(list(model.coords[tdim]), dtype=object),
            },
            attrs={"draws": CONDITIONAL_DRAWS},
        )
        k += q
    out = idata.copy()
    out["posterior"] = xr.DataTree(posterior.assign(new))
    name = response_name(design)
    obs = np.asarray(obs_index if obs_index is not None else np.arange(design.n_obs))
    observed = xr.Dataset({name: ((OBS_DIM,), np.asarray(design.y))}, coords={OBS_DIM: obs})
    out["observed_data"] = xr.DataTree(observed)
    if log_likelihood:
        out = gaussian_log_likelihood(out, design)
    return out


def gaussian_log_likelihood(idata: xr.DataTree, design: Design) -> xr.DataTree:
    """A copy of ``idata`` with the pointwise gaussian log-likelihood given all group effects.

    The table (observations x draws) is what ``pm.compute_log_likelihood`` stores for the other
    parameterisations; the observed data and their labels come from ``idata["observed_data"]``.
    """
    posterior = idata["posterior"].to_dataset()
    observed = idata["observed_data"].to_dataset()
    name = response_name(design)
    b = _stacked(posterior, "b")
    sigma = _stacked(posterior, "sigma")
    us = {blk.name: _stacked(posterior, f"u|{blk.name}") for blk in design.blocks}
    y = np.asarray(design.y, dtype=float)
    S = len(sigma)
    table = np.empty((S, len(y)))
    for part in _chunks(S, len(y)):
        eta = b[part] @ design.X.T
        for blk in design.blocks:
            eta += _effects_term(blk, us[blk.name][part])
        table[part] = log_density(design.family, y, eta, sigma=sigma[part, None])
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    data = xr.DataArray(
        table.reshape(chains, draws, len(y)),
        dims=("chain", "draw", OBS_DIM),
        coords={OBS_DIM: observed[OBS_DIM].values},
    )
    out = idata.copy()
    out["log_likelihood"] = xr.DataTree(xr.Dataset({name: data}))
    return out
