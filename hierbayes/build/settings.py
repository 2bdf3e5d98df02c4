"""Sampler settings that depend on the model: the default NUTS target acceptance rate."""

from __future__ import annotations

from collections.abc import Mapping

from hierbayes.design import Design

__all__ = ["SMALL_DATA_ROWS", "default_target_accept"]

SMALL_DATA_ROWS = 1_000


def default_target_accept(design: Design, parameterization: Mapping[str, tuple[str, ...]]) -> float:
    """0.95 for small data with group effects that are sampled, else 0.8.

    With few groups a group SD's posterior is wide: it spans both the region where centred
    effects suit (large SD) and the one where non-centred effects suit (SD near zero), so
    whichever parameterisation is sampled meets a narrow neck somewhere, and NUTS at 0.8 diverges
    there now and then (lme4's Pastes, ``strength ~ 1 + (1 | batch/cask)``: one divergence in
    4 x 1000 draws in 2 of 12 runs at 0.8 and 0.9, none in 6 runs at 0.95;
    ``benchmarks/nested.py``). A smaller step costs more gradients, but on up to
    :data:`SMALL_DATA_ROWS` rows a gradient is cheap, so the safer setting is the default there
    (brms users set ``adapt_delta = 0.95`` by hand for the same reason). Models whose group
    effects are all integrated out have no such neck and keep 0.8.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> default_target_accept(hb.Model("Reaction ~ Days + (1 | Subject)", sleep).design,
    ...                       {"Subject": ("marginal",)})
    0.8
    >>> default_target_accept(hb.Model("Reaction ~ Days + (1 | Subject)", sleep).design,
    ...                       {"Subject": ("noncentered",)})
    0.95
    """
    sampled = any(c != "marginal" for choice in parameterization.values() for c in choice)
    return 0.95 if sampled and design.n_obs <= SMALL_DATA_ROWS else 0.8
