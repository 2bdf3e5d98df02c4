"""Packing and drawing back of partially centred terms (:mod:`hierbayes.density.partial_layout`)."""

from __future__ import annotations

import numpy as np

from hierbayes.density.partial_layout import partial_effects


def _plain(raw: np.ndarray, log_sd: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``u = v sd^(1 - λ)`` written out, temporaries and all."""
    return raw * np.exp(np.outer(log_sd, 1.0 - weights))


def test_effects_into_a_view_are_the_plain_formula_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    S, J = 40, 17
    raw = rng.normal(size=(S, J))
    log_sd = rng.normal(size=S)
    weights = np.round(rng.random(J) * 8) / 8
    expected = _plain(raw, log_sd, weights)
    assert np.array_equal(partial_effects(raw, log_sd, weights), expected)
    for q, k in ((1, 0), (3, 1)):  # a contiguous view, and a strided one
        u = np.full((S, J, q), np.nan)
        returned = partial_effects(raw, log_sd, weights, out=u[:, :, k])
        assert np.shares_memory(returned, u)
        assert np.array_equal(u[:, :, k], expected)
        assert np.isnan(np.delete(u, k, axis=2)).all()  # the other columns untouched
