"""Complete a Laplace fit's posterior with the integrated-out effects, and check the
approximation by Pareto-smoothed importance sampling.

The sampler drew ``θ`` (everything but the factor's effects) from the Laplace-approximate
marginal posterior ``p̃(θ | y)``; with the effects drawn from each group's Laplace Gaussian
``q(z | θ)``, the joint proposal is ``p̃(θ | y) q(z | θ)`` and the exact joint posterior
``p(θ, z | y)`` its target. The Pareto shape ``k`` of their log ratios (PSIS, Vehtari et al.
2024, as :func:`arviz_stats` computes it for LOO) says whether the approximation can be
trusted: below :data:`PARETO_K_MAX` the importance weights have a finite variance in practice and
the approximate posterior is close to the exact one; above it,
:func:`hierbayes.laplace_fit.checked_laplace` runs the model again with the effects sampled.

The check holds at least :data:`CHECK_WEIGHTS` weights whatever the number of draws: each of the
``S`` posterior draws gives ``m = ceil(CHECK_WEIGHTS / S)`` of them, each from its own draw of the
effects from ``q(z | θ)`` (dependent through ``θ``, each from the proposal). The tail index ``k``
is a property of the approximation, but its estimate ``k̂`` is not: fitted to the largest
``3 √S`` weights it is biased upward and noisy at small ``S`` (on Arabidopsis with an
observation-level factor, 0.74 +- 0.12 from 1,000 weights, 0.69 +- 0.12 from 4,000 and 0.61
from 32,000), so a user asking for fewer draws would fail the check more often. The
sample-size-dependent threshold ``min(1 - 1/log10 S, 0.7)`` of Vehtari et al. (2024) is about
how many draws a PSIS *estimate* needs; the draws of ``θ`` are not reweighted here, and the
check, like that of a variational approximation (Yao et al. 2018), asks only whether the
proposal is close to the target, with as many weights as it takes. The effects kept are one
draw per posterior draw, importance-resampled as before.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from hierbayes.build.groups import group_dim
from hierbayes.density import codes as K
from hierbayes.density.agq_check import AGQ_CHECK, AGQ_DEV_MAX, AGQ_SD_MAX, agq_failure, check_agq
from hierbayes.density.laplace_draws import laplace_effects
from hierbayes.density.laplace_joint_draws import joint_effects
from hierbayes.density.laplace_layout import joint_blocks
from hierbayes.density.layout import Layout
from hierbayes.density.rescue import SAMPLING_NOTES

__all__ = [
    "CHECK_WEIGHTS",
    "LAPLACE_DRAWS",
    "LAPLACE_K",
    "PARETO_K_MAX",
    "check_weights_per_draw",
    "complete_laplace",
    "pareto_k",
]

PARETO_K_MAX = 0.7
"""Largest Pareto ``k`` of the check at which the Laplace approximation is kept."""
LAPLACE_K = "laplace_pareto_k"
"""Attribute of the posterior: the Pareto ``k`` of the check."""
LAPLACE_DRAWS = "importance-resampled Laplace"
"""``attrs["draws"]`` of effects drawn after sampling from their Laplace Gaussians."""
CHECK_WEIGHTS = 4000
"""Fewest importance weights of the check (those of a default fit's 4 x 1,000 draws)."""


def check_weights_per_draw(draws: int) -> int:
    """Importance weights per posterior draw, ``m``, such that ``draws`` posterior draws give
    the check at least :data:`CHECK_WEIGHTS` of them.

    Examples
    --------
    >>> check_weights_per_draw(4000), check_weights_per_draw(1000), check_weights_per_draw(300)
    (1, 4, 14)
    >>> check_weights_per_draw(8000)
    1
    """
    return max(1, math.ceil(CHECK_WEIGHTS / max(int(draws), 1)))


def pareto_k(log_weights: np.ndarray) -> float:
    """Pareto shape ``k`` of the tail of importance weights given by their logs (a NaN weight,
    or too few draws to fit a tail, gives ``inf``; weights equal up to rounding, as for a
    gaussian family, 0).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(pareto_k(0.1 * rng.standard_normal(4000)), 1) < 0.3   # near-constant weights
    True
    >>> pareto_k(4.0 * rng.standard_normal(4000)) > 0.7                # a heavy tail
    True
    >>> pareto_k(rng.standard_normal(20))                               # too few draws
    inf
    """
    from arviz_stats.base.array import array_stats

    lw = np.asarray(log_weights, dtype=float).ravel()
    if lw.size < 10 or not np.all(np.isfinite(lw)):
        return float("inf")
    if np.ptp(lw) < 1e-6:  # equal weights up to rounding: the approximation is exact
        return 0.0
    try:
        _, k = array_stats.psislw(lw - lw.max(), r_eff=1.0)
    except ValueError:  # too few draws for a tail of five (fewer than 25): cannot check
        return float("inf")
    return float(k) if np.isfinite(k) else float("inf")


def complete_laplace(
    layout: Layout, raw: np.ndarray, posterior: xr.Dataset, seed: int
) -> xr.Dataset:
    """``posterior`` with ``u|<term>`` of the factor integrated out by Laplace, drawn at each of
    the draws ``raw`` (chain, draw, n_dim), and the check's Pareto ``k`` in
    ``attrs["laplace_pareto_k"]`` (said in ``attrs["sampling_notes"]`` too)."""
    meta = layout.arrays[K.A_META]
    q, J = int(meta[K.M_LAP_Q]), int(meta[K.M_LAP_J])
    chains, draws = raw.shape[:2]
    blocks = [bl.block for bl in layout.blocks if bl.effects is None]
    X = raw.reshape(chains * draws, -1)
    # quadrature is checked by its own error: one weight a draw, unused
    m = 1 if meta[K.M_AGQ] > 0 else check_weights_per_draw(chains * draws)
    if meta[K.M_LAP_F] > 0:  # several factors' intercepts jointly (density.laplace_joint)
        u, logw = joint_effects(layout.table, X, J, seed, weights=m)
        blocks = joint_blocks(blocks)
        u = u[:, :, None]
    else:
        u, logw = laplace_effects(layout.table, X, q, J, seed, weights=m)
    if meta[K.M_AGQ] > 0:  # quadrature: checked by its own error (density.agq_check)
        return _agq_checked(layout, raw, posterior, blocks, u)
    k = pareto_k(logw)
    out = posterior.assign(_effects(blocks, u, chains, draws, J, int(meta[K.M_LAP_F])))
    out.attrs[LAPLACE_K] = k
    factor = "', '".join(dict.fromkeys(b.factor for b in blocks))
    notes = [n for n in [out.attrs.get(SAMPLING_NOTES, "")] if n]
    notes.append(
        f"The effects of '{factor}' were integrated out by a Laplace approximation"
        f"{' (jointly)' if meta[K.M_LAP_F] > 0 else ''}; its "
        f"importance-sampling check over {logw.size} weights"
        f"{f' ({m} a draw)' if m > 1 else ''} gives Pareto k = {k:.2f} "
        f"({'kept' if k <= PARETO_K_MAX else f'above {PARETO_K_MAX}: not to be trusted'})."
    )
    out.attrs[SAMPLING_NOTES] = "\n".join(notes)
    return out


def _effects(
    blocks: list, u: np.ndarray, chains: int, draws: int, J: int, joint: int
) -> dict[str, xr.DataArray]:
    """The labelled draws ``u|<term>`` of the integrated-out blocks."""
    new = {}
    col = 0
    for block in blocks:
        qb = len(block.columns)
        gdim, tdim = group_dim(block), block.term_dim
        Jb = J if joint == 0 else len(block.levels)
        part = u[:, :, col : col + qb] if joint == 0 else u[:, col : col + Jb]
        new[f"u|{block.name}"] = xr.DataArray(
            part.reshape(chains, draws, Jb, qb),
            dims=("chain", "draw", gdim, tdim),
            coords={
                gdim: np.array(list(block.levels), dtype=object),
                tdim: np.array(list(block.columns), dtype=object),
            },
            attrs={"draws": LAPLACE_DRAWS},
        )
        col += qb if joint == 0 else Jb
    return new


def _agq_checked(
    layout: Layout, raw: np.ndarray, posterior: xr.Dataset, blocks: list, u: np.ndarray
) -> xr.Dataset:
    """``posterior`` with the quadrature's effects and its check (:mod:`..agq_check`)."""
    chains, draws = raw.shape[:2]
    out = posterior.assign(_effects(blocks, u, chains, draws, u.shape[1], 0))
    check = check_agq(layout.table, raw)
    out.attrs.update(check)
    why = agq_failure(check)
    notes = [n for n in [out.attrs.get(SAMPLING_NOTES, "")] if n]
    notes.append(
        f"The effects of '{blocks[0].factor}' were integrated out by adaptive Gauss-Hermite "
        f"quadrature at {check[AGQ_CHECK + '_nodes']} nodes; "
        + (
            f"its check (the log marginal likelihood against "
            f"{check[AGQ_CHECK + '_reference_nodes']} nodes across {check[AGQ_CHECK + '_draws']} "
            f"draws: SD {check[AGQ_CHECK + '_sd']:.3f} <= {AGQ_SD_MAX}, largest distance from "
            f"the mean {check[AGQ_CHECK + '_max_dev']:.3f} <= {AGQ_DEV_MAX}) passed (kept)."
            if why is None
            else f"its check failed: {why}."
        )
    )
    out.attrs[SAMPLING_NOTES] = "\n".join(notes)
    return out
