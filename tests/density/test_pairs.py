"""Rotated pairs of nested effects (hierbayes.density.pairs, pairs_layout): which groups pair up,
and the rotation's algebra. The log-density with pairs against the PyMC model: test_kernel.py."""

from __future__ import annotations

import numpy as np
import pytest

import hierbayes as hb
from hierbayes.density.codes import M_PAIRS
from hierbayes.density.layout import make_layout
from hierbayes.density.pairs import rotate_forward
from hierbayes.density.pairs_layout import free_coordinates, unrotate

TICKS = "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"


@pytest.fixture(scope="module")
def ticks_layout():
    # "auto" inside a dict samples: expanded (the defaults integrate both out by Laplace)
    model = hb.Model(
        TICKS,
        data=hb.datasets.load("grouseticks"),
        family="poisson",
        parameterization={"LOCATION": "auto"},
    )
    assert model.parameterization["LOCATION"] == model.parameterization["BROOD"] == ("expanded",)
    return model, make_layout(model.design, model.prior_values, model.parameterization)


def test_each_location_of_one_brood_pairs_with_its_brood(ticks_layout):
    _, layout = ticks_layout
    rows = layout.arrays[layout.arrays[0][M_PAIRS]].reshape(-1, 6)
    assert len(rows) == 35  # 35 of 63 locations hold one brood
    blocks = {bl.block.name: bl for bl in layout.blocks}
    loc, brood = blocks["LOCATION"], blocks["BROOD"]
    assert set(rows[:, 0]) == {loc.sd.start} and set(rows[:, 1]) == {brood.sd.start}
    assert np.all(rows[:, 2:4] == 1)  # both expanded
    j = rows[:, 4] - loc.effects.start
    b = rows[:, 5] - brood.effects.start
    for jj, bb in zip(j, b, strict=True):
        broods = set(brood.block.codes[loc.block.codes == jj])
        assert broods == {bb}
    np.testing.assert_array_equal(free_coordinates(layout.arrays), rows[:, 5])


def test_no_pairs_without_expanded_terms():
    model = hb.Model(
        TICKS,
        data=hb.datasets.load("grouseticks"),
        family="poisson",
        parameterization="noncentered",
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert layout.arrays[0][M_PAIRS] == 0
    assert free_coordinates(layout.arrays).size == 0


def test_the_rotation_keeps_the_sum_of_effects_and_the_prior(ticks_layout):
    """``s_L z_L + s_B z_B = τ a`` and ``z_L² + z_B² = a² + c²``, at either sign of the scales;
    the draws' turning back equals the kernel's."""
    _, layout = ticks_layout
    rows = layout.arrays[layout.arrays[0][M_PAIRS]].reshape(-1, 6)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3, layout.n_dim))
    X[:, rows[0, 0]] = [0.6, -0.4, 1e-3]
    X[:, rows[0, 1]] = [-0.9, 0.2, 0.8]
    Z = unrotate(layout.arrays, X)
    for x, z in zip(X, Z, strict=True):
        kernel = np.empty_like(x)
        rotate_forward(x, layout.arrays[layout.arrays[0][M_PAIRS]], kernel)
        np.testing.assert_allclose(z, kernel, rtol=1e-13)
        sl, sb = x[rows[0, 0]], x[rows[0, 1]]
        a, c = x[rows[:, 4]], x[rows[:, 5]]
        zl, zb = z[rows[:, 4]], z[rows[:, 5]]
        np.testing.assert_allclose(sl * zl + sb * zb, np.hypot(sl, sb) * a, atol=1e-12)
        np.testing.assert_allclose(zl**2 + zb**2, a**2 + c**2, rtol=1e-12)
