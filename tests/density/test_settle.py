"""Group effects moved at the start to where nutpie's first mass matrix fits them
(:mod:`hierbayes.density.settle`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.layout import make_layout
from hierbayes.density.sampler import compile_density
from hierbayes.density.settle import NEAR, settle_effects
from hierbayes.density.start import starting_points

GUIMMUN = Path(__file__).parents[1] / "data" / "guimmun.csv"


def _layout(model: hb.Model):
    return make_layout(model.design, model.prior_values, model.parameterization)


def _one_by_one(layout, x: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and conditional precision of each coordinate in ``at``, the precision by
    central differences along that coordinate alone."""
    _, grad = layout.logp_grad(x)
    h = np.empty(at.size)
    for n, i in enumerate(at):
        step = 1e-5 * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        h[n] = -(layout.logp_grad(up)[1][i] - layout.logp_grad(down)[1][i]) / (2 * step)
    return grad[at], h


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


def test_gaussian_effects_near_their_modes_end_one_conditional_sd_from_them(sleep_layout):
    """A gaussian model's effect has an exactly gaussian conditional, independent of the other
    groups' effects: the effects placed within NEAR conditional SDs of their modes end exactly
    one SD from them, on the side they were on; the others and every other coordinate are
    unchanged. Modes and SDs are computed coordinate by coordinate, not by the module."""
    layout = sleep_layout
    x = _sleep_start(layout)
    z = np.arange(layout.n_dim)[layout.blocks[0].effects]
    g, h = _one_by_one(layout, x, z)
    mode, sd = x[z] + g / h, 1 / np.sqrt(h)
    offsets = np.resize([0.05, -0.02, 0.5, -1.5, 0.001], z.size)  # in conditional SDs
    x[z] = mode + offsets * sd
    near = np.abs(offsets) < NEAR
    settled = settle_effects(layout, x)
    side = np.where(offsets < 0, -1.0, 1.0)
    expected = np.where(near, mode + side * sd, x[z])
    np.testing.assert_allclose(settled[z], expected, rtol=0, atol=1e-6)
    rest = np.setdiff1d(np.arange(layout.n_dim), z)
    assert np.array_equal(settled[rest], x[rest])
    g_after, h_after = _one_by_one(layout, settled, z)
    # |x - mode| in conditional SDs, read off the gradient: 1 where moved
    distance = np.abs(g_after) / np.sqrt(h_after)
    np.testing.assert_allclose(distance, np.where(near, 1.0, np.abs(offsets)), rtol=1e-5)


def test_a_start_whose_log_density_is_not_finite_is_returned_as_it_is(sleep_layout):
    x = _sleep_start(sleep_layout)
    x[sleep_layout.sigma] = np.nan
    settled = settle_effects(sleep_layout, x)
    assert np.array_equal(settled, x, equal_nan=True)


def test_a_point_of_another_length_is_refused(sleep_layout):
    with pytest.raises(ValueError, match=r"model's 22 unconstrained coordinates; got shape \(5,\)"):
        settle_effects(sleep_layout, np.zeros(5))


@pytest.fixture(scope="module")
def guimmun() -> hb.Model:
    data = pd.read_csv(GUIMMUN, dtype={"mom": str, "comm": str, "ord": str})
    formula = (
        "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
        " + (1 | mom) + (1 | comm)"
    )
    return hb.Model(formula, data=data, family="bernoulli")


def test_no_community_starts_with_a_huge_first_variance(guimmun):
    """guImmun's 161 non-centred communities start at ``z = 0``, where some gradient is near
    zero and nutpie's first variance ``1 / |gradient|`` is in the hundreds or thousands; settled,
    none is more than 1 / NEAR times the community's conditional SD. The partially centred
    mothers keep their own start."""
    assert guimmun.parameterization == {"mom": ("partial",), "comm": ("noncentered",)}
    layout = _layout(guimmun)
    mom, comm = (b for b in layout.blocks)
    x = starting_points(layout).draw(3)
    at = np.arange(layout.n_dim)[comm.effects]
    g, h = _one_by_one(layout, x, at)
    assert np.max(1 / np.abs(g)) > 100 * np.max(1 / np.sqrt(h))
    settled = settle_effects(layout, x)
    g, h = _one_by_one(layout, settled, at)
    assert np.all(np.sqrt(h) / np.abs(g) <= 1 / NEAR * 1.001)
    assert np.array_equal(settled[mom.effects], x[mom.effects])
    assert np.array_equal(settled[: comm.effects.start], x[: comm.effects.start])


def test_chains_start_from_settled_points(sleep_layout):
    compiled = compile_density(sleep_layout)
    start = starting_points(sleep_layout)
    for seed in (1, 2):
        np.testing.assert_array_equal(
            compiled.nutpie_model.initial_point_func(seed),
            settle_effects(sleep_layout, start.draw(seed)),
        )
