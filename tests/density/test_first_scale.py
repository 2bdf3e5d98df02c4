"""Starts nudged so that nutpie's first mass matrix gives no standardised group effect an
enormous variance (:mod:`hierbayes.density.first_scale`)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.first_scale import (
    FLOOR,
    ROUNDS,
    floor_gradients,
    standardised_effects,
)
from hierbayes.density.layout import make_layout
from hierbayes.density.sampler import compile_density
from hierbayes.density.start import starting_points

GUIMMUN = Path(__file__).parents[1] / "data" / "guimmun.csv"


def _layout(model: hb.Model):
    return make_layout(model.design, model.prior_values, model.parameterization)


@pytest.fixture(scope="module")
def sleep_layout():
    model = hb.Model(
        "Reaction ~ Days + (1 | Subject)",
        data=hb.datasets.load("sleepstudy"),
        parameterization="noncentered",
    )
    return _layout(model)


def _sleep_start(layout) -> np.ndarray:
    x = np.zeros(layout.n_dim)
    x[layout.theta] = [298.5, 10.5]
    x[layout.sigma] = np.log(30.0)
    x[layout.blocks[0].sd] = np.log(40.0)
    return x


def test_gaussian_effects_with_small_gradients_move_a_floor_away_from_their_modes(sleep_layout):
    """A gaussian model's non-centred effect has an exactly gaussian conditional with precision
    ``h >= 1``, independent of the other groups' effects: an effect placed with gradient below
    FLOOR moves by exactly FLOOR against its gradient, its gradient then ``g + sign(g) h FLOOR``;
    the others, and every other coordinate, stay where they were."""
    layout = sleep_layout
    x = _sleep_start(layout)
    z = np.arange(layout.n_dim)[layout.blocks[0].effects]
    _, g = layout.logp_grad(x)
    up = x.copy()
    up[z] += 1e-3
    h = -(layout.logp_grad(up)[1][z] - g[z]) / 1e-3  # exact: the conditional is gaussian
    assert np.all(h >= 1.0)
    mode = x[z] + g[z] / h
    wanted = np.resize([0.05, -0.02, 0.5, -1.5, 0.0], z.size)  # gradients to place them at
    x[z] = mode - wanted / h
    _, g = layout.logp_grad(x)
    np.testing.assert_allclose(g[z], wanted, atol=1e-8)
    moved = floor_gradients(layout, x, standardised_effects(layout))
    small = np.abs(wanted) < FLOOR
    side = np.where(g[z] > 0, -1.0, 1.0)  # a gradient of exactly zero moves up
    np.testing.assert_allclose(moved[z], np.where(small, x[z] + side * FLOOR, x[z]), atol=1e-12)
    rest = np.setdiff1d(np.arange(layout.n_dim), z)
    assert np.array_equal(moved[rest], x[rest])
    _, g_after = layout.logp_grad(moved)
    expected = np.where(small, g[z] - side * h * FLOOR, g[z])
    np.testing.assert_allclose(g_after[z], expected, atol=1e-8)
    assert np.all(np.abs(g_after[z]) >= FLOOR)


def test_a_start_whose_log_density_is_not_finite_is_returned_as_it_is(sleep_layout):
    x = _sleep_start(sleep_layout)
    x[sleep_layout.sigma] = np.nan
    moved = floor_gradients(sleep_layout, x, standardised_effects(sleep_layout))
    assert np.array_equal(moved, x, equal_nan=True)


def test_a_point_or_mask_of_another_length_is_refused(sleep_layout):
    x = _sleep_start(sleep_layout)
    mask = standardised_effects(sleep_layout)
    with pytest.raises(
        ValueError, match=r"model's 22 unconstrained coordinates; got shapes \(21,\)"
    ):
        floor_gradients(sleep_layout, x[:-1], mask)
    with pytest.raises(ValueError, match=r"got shapes \(22,\) and \(21,\)"):
        floor_gradients(sleep_layout, x, mask[:-1])


def test_only_non_centred_effects_are_standardised():
    """The mask holds the non-centred coefficients' runs of each term, not the centred ones,
    nor the population parameters."""
    data = hb.datasets.load("sleepstudy")
    data["cDays"] = data["Days"] - data["Days"].mean()  # centred: not sheared
    model = hb.Model(
        "Reaction ~ cDays + (1 + cDays || Subject)",
        data=data,
        parameterization={"Subject": ("noncentered", "centered")},
    )
    layout = _layout(model)
    block = layout.blocks[0]
    J = len(block.block.levels)
    expected = np.zeros(layout.n_dim, dtype=bool)
    expected[block.effects.start : block.effects.start + J] = True
    assert np.array_equal(standardised_effects(layout), expected)


def test_correlated_and_sheared_terms_keep_their_start():
    """A correlated term, and an uncorrelated one whose slope is sampled at its centre (days
    1.5 SDs from 0), have no coordinate in the mask: their chains start where they did."""
    data = hb.datasets.load("sleepstudy")
    data["cDays"] = data["Days"] - data["Days"].mean()
    correlated = hb.Model(
        "Reaction ~ cDays + (1 + cDays | Subject)", data=data, parameterization="noncentered"
    )
    assert correlated.parameterization == {"Subject": ("noncentered", "noncentered")}
    assert not standardised_effects(_layout(correlated)).any()
    sheared = hb.Model(
        "Reaction ~ Days + (1 + Days || Subject)", data=data, parameterization="noncentered"
    )
    layout = _layout(sheared)
    assert layout.blocks[0].centre is not None and layout.blocks[0].corr is None
    assert not standardised_effects(layout).any()


@pytest.fixture(scope="module")
def guimmun() -> hb.Model:
    data = pd.read_csv(GUIMMUN, dtype={"mom": str, "comm": str, "ord": str})
    formula = (
        "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
        " + (1 | mom) + (1 | comm)"
    )
    return hb.Model(formula, data=data, family="bernoulli")


def test_no_community_starts_with_an_enormous_first_variance(guimmun):
    """guImmun's 161 non-centred communities start at ``z = 0``, where over a few chains' starts
    some gradient is near zero (nutpie's first variance ``1 / |gradient|`` in the thousands).
    Floored, every community's gradient is at least FLOOR, each moved at most ROUNDS x FLOOR;
    the partially centred mothers and the population parameters keep their start."""
    assert guimmun.parameterization == {"mom": ("partial",), "comm": ("noncentered",)}
    layout = _layout(guimmun)
    mom, comm = layout.blocks
    mask = standardised_effects(layout)
    assert np.array_equal(np.flatnonzero(mask), np.arange(comm.effects.start, comm.effects.stop))
    assert not mask[mom.effects].any()
    start = starting_points(layout)
    smallest = []
    for seed in range(4):
        x = start.draw(seed)
        smallest.append(np.min(np.abs(layout.logp_grad(x)[1][comm.effects])))
        moved = floor_gradients(layout, x, mask)
        assert np.all(np.abs(layout.logp_grad(moved)[1][comm.effects]) >= FLOOR)
        assert np.max(np.abs(moved - x)) <= ROUNDS * FLOOR + 1e-12
        assert np.array_equal(moved[~mask], x[~mask])
    assert min(smallest) < 1e-2  # a first variance over 100 without the floor


def test_chains_start_from_floored_points(sleep_layout):
    compiled = compile_density(sleep_layout)
    start = starting_points(sleep_layout)
    mask = standardised_effects(sleep_layout)
    for seed in (1, 2):
        np.testing.assert_array_equal(
            compiled.nutpie_model.initial_point_func(seed),
            floor_gradients(sleep_layout, start.draw(seed), mask),
        )
    # a plain object, not a closure: it pickles as the starting points alone did
    again = pickle.loads(pickle.dumps(compiled.nutpie_model.initial_point_func))
    np.testing.assert_array_equal(again(1), compiled.nutpie_model.initial_point_func(1))
