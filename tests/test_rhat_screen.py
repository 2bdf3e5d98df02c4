"""The vectorised split R-hat screen equals ArviZ's split R-hat, parameter by parameter."""

from __future__ import annotations

import arviz_stats as az
import numpy as np
import pytest
import xarray as xr

from hierbayes import rhat_screen
from hierbayes.rhat_screen import screen_rhat, split_rhat


def _effects(draws: int) -> xr.DataArray:
    rng = np.random.default_rng(7)
    values = rng.standard_normal((4, draws, 30, 2))
    values[2, :, 3, 0] += 0.5  # a chain off in location
    values[1, :, 5, 1] *= 2.5  # a chain off in spread
    values[:, :, 7, 0] = np.cumsum(values[:, :, 7, 0], axis=1)  # a random walk
    values[0, 10, 9, 1] = np.nan  # a NaN draw
    return xr.DataArray(values, dims=("chain", "draw", "g", "term"))


@pytest.mark.parametrize("draws", [200, 201])  # an odd count drops the middle draw
def test_split_rhat_equals_arviz(draws: int) -> None:
    u = _effects(draws)
    expected = az.rhat(u, method="split").transpose("g", "term").values
    ours = split_rhat(u.values)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)
    assert np.isnan(ours[9, 1]) and np.isnan(expected[9, 1])


def test_screen_rhat_equals_arvizs_location_and_spread() -> None:
    u = _effects(300)
    folded = abs(u - u.median(("chain", "draw")))
    expected = np.fmax(az.rhat(u, method="split"), az.rhat(folded, method="split"))
    ours = screen_rhat(u)
    assert ours.dims == ("g", "term")
    np.testing.assert_allclose(ours.values, expected.values, rtol=1e-12, atol=0)
    flagged = {(int(g), int(t)) for g, t in zip(*np.nonzero(ours.values > 1.01), strict=True)}
    assert {(3, 0), (5, 1), (7, 0)} <= flagged


def test_split_rhat_is_nan_for_too_few_chains_or_draws() -> None:
    assert np.isnan(split_rhat(np.zeros((1, 100, 2)))).all()
    assert np.isnan(split_rhat(np.ones((4, 3, 2)))).all()


def _screen_at_once(draws: xr.DataArray) -> np.ndarray:
    """The screen on all parameters in one array (no blocks)."""
    values = np.asarray(draws.transpose("chain", "draw", ...).values, dtype=float)
    rows = np.moveaxis(values.reshape(values.shape[0] * values.shape[1], -1), 0, -1)
    median = np.nanmedian(rows, axis=-1).reshape(values.shape[2:])
    folded = np.abs(values - median)
    return np.fmax(split_rhat(values), split_rhat(folded))


@pytest.mark.parametrize("block", [2**18, 600, 900])  # one block; blocks of 2; of 3 and a last 2
def test_screen_in_blocks_gives_the_numbers_of_all_at_once(monkeypatch, block: int) -> None:
    monkeypatch.setattr(rhat_screen, "_BLOCK_ELEMENTS", block)
    u = _effects(75)  # 4 chains x 75 draws, 60 parameters, one with a NaN draw
    assert np.array_equal(screen_rhat(u).values, _screen_at_once(u), equal_nan=True)
    one = u.isel(g=slice(0, 1), term=slice(0, 1))
    assert np.array_equal(screen_rhat(one).values, _screen_at_once(one))
    odd = u.isel(g=slice(0, 7))  # 14 parameters: no block of one
    assert np.array_equal(screen_rhat(odd).values, _screen_at_once(odd), equal_nan=True)
    blocks = rhat_screen.parameter_blocks(odd.sizes["g"] * 2, 300)
    assert all(b - a >= 2 for a, b in blocks) and blocks[-1][1] == 14


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_blocks_on_threads_give_the_one_thread_numbers(monkeypatch, threads: int) -> None:
    import hierbayes.threads as threads_module

    monkeypatch.setattr(rhat_screen, "_BLOCK_ELEMENTS", 900)  # blocks of 3 and a last 2
    monkeypatch.setattr(threads_module, "_THREADS", 1)
    monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 4)  # threads on any machine
    u = _effects(75)
    one_thread = screen_rhat(u).values
    monkeypatch.setattr(threads_module, "_THREADS", threads)
    assert np.array_equal(screen_rhat(u).values, one_thread, equal_nan=True)
    assert np.array_equal(one_thread, _screen_at_once(u), equal_nan=True)


def _worst_by_where(draws: xr.DataArray, screen: xr.DataArray, limit: float) -> float:
    """What check_convergence computed before :func:`flagged_rhat`: ``where`` on all draws."""
    flagged = draws.where(screen > limit, drop=True)
    return float(az.rhat(flagged).max()) if flagged.size else float(screen.max())


@pytest.mark.parametrize("limit", [1.01, 1.02, 1.5, 100.0])  # 3, fewer, one, none flagged
def test_flagged_rhat_is_the_rank_rhat_of_the_flagged_effects(limit: float) -> None:
    u = _effects(300)
    screen = screen_rhat(u)
    expected = _worst_by_where(u, screen, limit)
    ours = rhat_screen.flagged_rhat(u, screen, limit, az.rhat)
    assert ours == expected  # the same number, bit for bit
    flagged = screen.values > limit
    if flagged.any():  # the largest R-hat among the flagged effects alone
        each = az.rhat(u).transpose("g", "term").values
        assert ours == np.nanmax(np.where(flagged, each, np.nan)) and ours > 1.0
    else:
        assert ours == float(screen.max())


def test_flagged_rhat_of_one_dimension_and_of_nan_draws() -> None:
    u = _effects(300).isel(term=0)
    screen = screen_rhat(u)
    assert rhat_screen.flagged_rhat(u, screen, 1.01, az.rhat) == _worst_by_where(u, screen, 1.01)
    bad = u.copy()
    bad[0, 5, 3] = np.nan  # a flagged effect whose rank R-hat is NaN: left out
    screen = screen_rhat(bad).fillna(2.0)
    assert rhat_screen.flagged_rhat(bad, screen, 1.01, az.rhat) == _worst_by_where(
        bad, screen, 1.01
    )
