"""Complete the draws of a marginal fit with exact draws of its integrated-out group effects.

A model whose gaussian group effects were integrated out (:mod:`hierbayes.build.marginal`)
samples only the fixed effects, variance components and the other factors' effects. Given those,
the marginalised effects have a closed-form gaussian posterior: with ``u_j = L v_j``,

    v_j | y, θ ~ Normal(M_j⁻¹ w_j, σ² M_j⁻¹),   M_j = σ² I + L' Z_j'Z_j L,   w_j = L' Z_j' r_j,

where ``r_j`` are group ``j``'s residuals after the fixed part and the other factors. One exact
draw per posterior draw turns the sample into a sample of the full joint posterior, so
``ranef``, ``coef``, pooling, plots, predictions and the pointwise log-likelihood
(:mod:`hierbayes.loglik`) work as for any other parameterisation.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hierbayes.build import group_dim
from hierbayes.build.crossed_marginal import crossed_design
from hierbayes.build.marginal import FactorDesign, factor_design
from hierbayes.build.nested_marginal import nested_chain
from hierbayes.conditional_crossed import crossed_effects
from hierbayes.conditional_nested import nested_effects
from hierbayes.density.batch import conditional_effects, fixed_residual_sums, group_sums
from hierbayes.design import Design, GroupBlock
from hierbayes.loglik import chunks, effects_term, stacked

__all__ = ["CONDITIONAL_DRAWS", "complete_marginal", "marginal_blocks", "with_effects"]

# attrs["draws"] of effects drawn after sampling from their exact conditional posterior
CONDITIONAL_DRAWS = "exact conditional"


def marginal_blocks(parameterization: dict[str, tuple[str, ...]]) -> list[str]:
    """Names of the group terms whose effects are integrated out."""
    return [name for name, how in parameterization.items() if how and how[0] == "marginal"]


def _cholesky(posterior: xr.Dataset, block: GroupBlock) -> np.ndarray:
    """Cholesky factors of the block's covariance, (draws, q, q)."""
    sd = stacked(posterior, f"sd|{block.name}")
    if block.correlated:
        # L = diag(sd) chol(Ω), from the sampled Cholesky factor of the correlation matrix: valid
        # even where refactorising sd Ω sd would fail (a correlation of ±1, an SD underflowing)
        return sd[:, :, None] * stacked(posterior, f"chol_cor|{block.name}")
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


def _draw_effects(
    posterior: xr.Dataset,
    design: Design,
    factor: FactorDesign,
    others: list[GroupBlock],
    rng: np.random.Generator,
) -> np.ndarray:
    """One exact conditional draw of the factor's effects per posterior draw: (draws, J, q)."""
    b = stacked(posterior, "b")
    sigma = stacked(posterior, "sigma")
    L = _block_diag([_cholesky(posterior, blk) for blk in factor.blocks])
    y = np.asarray(design.y, dtype=float) - design.offset_or_zero  # an offset shifts y
    S, J, q = len(sigma), factor.n_groups, factor.q
    ZtZ = factor.cross(factor.Z)
    if not others:
        Zty = np.ascontiguousarray(factor.cross(y[:, None])[:, :, 0])
        ZtX = np.ascontiguousarray(factor.cross(design.X))
    other_u = {blk.name: stacked(posterior, f"u|{blk.name}") for blk in others}
    out = np.empty((S, J, q))
    per_draw = J * q * q + (len(y) if others else 0)
    size = next(chunks(S, per_draw)).stop
    eps = np.empty((size, J, q))  # reused by every chunk
    t = np.empty((size, J, q)) if not others else None
    for part in chunks(S, per_draw):
        n = part.stop - part.start
        if others:
            eta = b[part] @ design.X.T
            for blk in others:
                effects_term(blk, other_u[blk.name][part], out=eta)
            r = y[None, :] - eta
            tp = group_sums(r, factor.codes, factor.Z, J)
        else:
            tp = fixed_residual_sums(Zty, ZtX, np.ascontiguousarray(b[part]), t[:n])
        rng.standard_normal(out=eps[:n])
        conditional_effects(tp, ZtZ, np.ascontiguousarray(L[part]), sigma[part], eps[:n], out[part])
    return out


def complete_marginal(
    idata: xr.DataTree,
    design: Design,
    parameterization: dict[str, tuple[str, ...]],
    *,
    random_seed: int | None = None,
) -> xr.DataTree:
    """A copy of ``idata`` with ``u|<term>`` of the integrated-out factor added to the posterior.

    Parameters
    ----------
    idata : DataTree
        Draws of a model built with a ``"marginal"`` parameterisation.
    design : Design
    parameterization : dict
        Resolved parameterisation (:func:`hierbayes.build.resolve_parameterization`).
    random_seed : int, optional
        Seed of the conditional draws (the same seed gives the same draws).
    """
    names = marginal_blocks(parameterization)
    rng = np.random.default_rng(None if random_seed is None else [random_seed, 20_011])
    posterior = idata["posterior"].to_dataset()
    nested = nested_chain(design, names)
    if nested is not None:  # nested factors integrated out together
        chols = {b.name: _cholesky(posterior, b) for f in nested.levels for b in f.blocks}
        b, sigma = stacked(posterior, "b"), stacked(posterior, "sigma")
        drawn = nested_effects(b, sigma, chols, design, nested, rng)
    elif (crossed := crossed_design(design, names)) is not None:  # crossed, jointly
        sds = {blk.name: stacked(posterior, f"sd|{blk.name}")[:, 0] for blk in crossed.blocks}
        b, sigma = stacked(posterior, "b"), stacked(posterior, "sigma")
        drawn = crossed_effects(b, sigma, sds, design, crossed, rng)
    else:
        factor = factor_design(design, names)
        others = [b for b in design.blocks if b.name not in names]
        u = _draw_effects(posterior, design, factor, others, rng)
        starts = np.cumsum([0] + [len(blk.columns) for blk in factor.blocks])
        drawn = {
            blk.name: u[:, :, k : k + len(blk.columns)]
            for blk, k in zip(factor.blocks, starts, strict=False)
        }
    blocks = [blk for blk in design.blocks if blk.name in drawn]
    return with_effects(idata, posterior, blocks, drawn)


def with_effects(
    idata: xr.DataTree,
    posterior: xr.Dataset,
    blocks: list[GroupBlock],
    drawn: dict[str, np.ndarray],
) -> xr.DataTree:
    """A copy of ``idata`` whose posterior is ``posterior`` with ``u|<term>`` of each block from
    ``drawn`` (term name -> (S, J, q), draws in chain-major order), labelled and marked as
    conditional draws."""
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    new = {}
    for blk in blocks:
        q, J = len(blk.columns), len(blk.levels)
        gdim, tdim = group_dim(blk), blk.term_dim
        new[f"u|{blk.name}"] = xr.DataArray(
            drawn[blk.name].reshape(chains, draws, J, q),
            dims=("chain", "draw", gdim, tdim),
            coords={
                gdim: np.array(list(blk.levels), dtype=object),
                tdim: np.array(list(blk.columns), dtype=object),
            },
            attrs={"draws": CONDITIONAL_DRAWS},
        )
    out = idata.copy()
    out["posterior"] = xr.DataTree(posterior.assign(new))
    return out
