"""Unconstrained draws become the PyMC model's named, labelled variables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.draws import correlation_factor, named_draws, posterior_dataset
from hierbayes.density.layout import make_layout


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 90
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "w": rng.normal(size=n),
            "g": [f"g{j}" for j in rng.integers(0, 5, n)],
            "h": [f"h{j}" for j in rng.integers(0, 3, n)],
        }
    )


def test_correlation_factors_have_unit_rows_and_lkj_support():
    rows = np.random.default_rng(0).normal(size=(50, 6))
    C = correlation_factor(rows, 4)
    np.testing.assert_allclose((C**2).sum(axis=2), 1.0)
    assert np.all(np.diagonal(C, axis1=1, axis2=2) > 0)
    assert np.all(np.triu(C, 1) == 0)
    R = C @ np.swapaxes(C, 1, 2)
    assert np.all(np.linalg.eigvalsh(R) > 0)


@pytest.mark.parametrize(
    ("formula", "parameterization"),
    [
        ("y ~ x + (1 + x | g)", "auto"),
        ("y ~ x + (1 + x + w | g) + (1 | h)", {"g": ("centered", "noncentered", "centered")}),
        ("y ~ x + (x || g)", "noncentered"),
        ("y ~ x + (1 + x | g)", "centered"),
    ],
)
def test_posterior_has_the_pymc_models_variables_dims_and_labels(df, formula, parameterization):
    model = hb.Model(formula, data=df, parameterization=parameterization)
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    X = np.random.default_rng(1).normal(size=(2, 3, layout.n_dim))
    post = posterior_dataset(layout, X)
    reference = model.build()
    names = {v.name for v in reference.free_RVs + reference.deterministics}
    assert set(post.data_vars) == names
    for name in names:
        dims = reference.named_vars_to_dims.get(name)
        if dims is not None:
            assert post[name].dims == ("chain", "draw", *dims), name
            for dim in dims:
                assert list(post[name][dim].values) == list(reference.coords[dim]), (name, dim)


def test_named_draws_invert_the_group_effect_parameterisations(df):
    """Centred, non-centred and mixed coefficients give u = m + L_kk ζ for the same ζ."""
    formula = "y ~ x + (1 + x + w | g)"
    draws = {}
    for how in ("noncentered", "centered"):
        model = hb.Model(formula, data=df, parameterization=how)
        layout = make_layout(model.design, model.prior_values, model.parameterization)
        draws[how] = (layout, named_draws(layout, layout.center[None] + 0.3))
    layout_nc, nc = draws["noncentered"]
    # feed the centred layout the u of the non-centred draw: it must give back the same u and sd
    # (its effects are sampled as each group's own intercept b[Intercept] + u and own slope of
    # x, b[x] + u: hierarchical centring; w has no fixed term, its effects are u)
    layout_c, _ = draws["centered"]
    assert layout_c.blocks[0].intercept_shift
    x = layout_c.center.copy() + 0.3
    u = nc["u|g"][0]  # (J, q)
    free = u.copy()
    free[:, 0] += x[0] - x[1] * layout_c.means[0]
    free[:, 1] += x[1]
    x[layout_c.blocks[0].effects] = free.T.ravel()
    back = named_draws(layout_c, x[None])
    np.testing.assert_allclose(back["u|g"][0], u)
    np.testing.assert_allclose(back["cor|g"], nc["cor|g"])
    L = nc["sd|g"][0][:, None] * nc["chol_cor|g"][0]
    np.testing.assert_allclose(u, nc["z|g"][0] @ L.T)
    np.testing.assert_allclose(nc["b"][0, 0], x[0] - nc["beta"][0] @ layout_nc.means, rtol=1e-12)


def test_partial_effects_drawn_back_as_the_plain_formula(df):
    """A partially centred term's ``u`` and ``z`` from the draws: ``u = v sd^(1 - λ)``,
    ``z = u / sd``, bit for bit as the formula written out."""
    model = hb.Model("y ~ x + (1 | g)", df)
    layout = make_layout(model.design, model.prior_values, {"g": ("partial",)})
    bl = layout.blocks[0]
    assert bl.choice == ("partial",) and len(bl.weights) == 5
    X = np.random.default_rng(8).normal(size=(30, layout.n_dim))
    drawn = named_draws(layout, X)
    assert not bl.intercept_shift
    sd = drawn["sd|g"][:, 0]
    assert np.array_equal(sd, np.exp(X[:, bl.sd.start]))
    u = X[:, bl.effects] * np.exp(np.outer(np.log(sd), 1.0 - bl.weights))
    assert np.array_equal(drawn["u|g"][:, :, 0], u)
    assert np.array_equal(drawn["z|g"][:, :, 0], u / sd[:, None])
