"""Packing of partially centred terms for the kernel: each group's weight ``λ_j``
(:mod:`hierbayes.density.effects_partial`, :mod:`hierbayes.build.partial`)."""

from __future__ import annotations

import numpy as np

from hierbayes.build.partial import PARTIAL, group_weights
from hierbayes.density.effects_partial import LEVELS
from hierbayes.design import Design, GroupBlock

__all__ = ["block_weights", "partial_effects"]


def block_weights(design: Design, block: GroupBlock, choice: tuple[str, ...]) -> np.ndarray:
    """The ``P_LAMBDA`` array of one term: its groups' weights when it is partially centred,
    rounded to multiples of ``1 / LEVELS`` (an exact reparameterisation at any fixed weights),
    else empty."""
    if choice != (PARTIAL,):
        return np.zeros(0)
    weights = np.clip(np.asarray(group_weights(design, block), dtype=float), 0.0, 1.0)
    return np.round(weights * LEVELS) / LEVELS  # the kernel's grid (density.effects_partial)


def partial_effects(raw: np.ndarray, log_sd: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Effects ``u = sd^(1 - λ) v`` from the free values ``raw`` (S, J) of a partially centred
    coefficient, its ``log_sd`` (S,) and the groups' weights (J).

    Examples
    --------
    >>> u = partial_effects(np.array([[1.0, 1.0]]), np.log([4.0]), np.array([0.0, 0.5]))
    >>> u.tolist()
    [[4.0, 2.0]]
    """
    return raw * np.exp(np.outer(log_sd, 1.0 - weights))
