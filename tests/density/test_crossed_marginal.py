"""Crossed varying intercepts integrated out jointly: the compiled log-likelihood equals the
dense marginal ``N(X b, σ² I + Σ Z T Z')`` computed by numpy, its gradient is the derivative,
and the PyMC potential is the same density.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.codes import A_META, M_SUFFSTAT
from hierbayes.density.crossed_marginal import CROSSED
from hierbayes.density.draws import named_draws
from hierbayes.density.layout import Layout, make_layout
from tests.density.test_kernel import compare_with_pymc, log_jacobian
from tests.density.test_nested_marginal import dense_loglik, flat, log_prior


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    """Pupils crossed with schools and with areas, unbalanced (some pupils in two schools),
    an offset-free covariate."""
    rng = np.random.default_rng(5)
    n = 120
    pupil = rng.integers(0, 40, n)
    school = (pupil // 8 + (rng.random(n) < 0.3)) % 6  # partly nested, partly crossed
    area = rng.integers(0, 3, n)
    data = pd.DataFrame(
        {
            "p": [f"p{i}" for i in pupil],
            "s": [f"s{i}" for i in school],
            "a": [f"a{i}" for i in area],
            "x": rng.normal(size=n),
        }
    )
    data["y"] = (
        2 + data.x + rng.normal(size=40)[pupil] + rng.normal(size=6)[school] + rng.normal(size=n)
    )
    return data


FORMULAS = [
    "y ~ x + (1 | p) + (1 | s)",
    "y ~ x + (1 | s) + (1 | p) + (1 | a)",  # two factors beside the largest
    "y ~ 0 + x + (1 | p) + (1 | s)",  # no intercept
]


def crossed_layout(df: pd.DataFrame, formula: str) -> tuple[hb.Model, Layout]:
    model = hb.Model(formula, data=df)
    model = hb.Model(formula, data=df, priors=flat(model), parameterization="marginal")
    assert {c for v in model.parameterization.values() for c in v} == {"marginal"}
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert layout.arrays[A_META][M_SUFFSTAT] == CROSSED
    return model, layout


@pytest.mark.parametrize("formula", FORMULAS)
def test_joint_marginal_equals_the_dense_marginal(df, formula):
    model, layout = crossed_layout(df, formula)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = layout.center + rng.normal(0.0, 0.7, layout.n_dim)
        value, _ = layout.logp_grad(x)
        draws = named_draws(layout, x[None])
        expected = dense_loglik(model.design, draws)
        likelihood = value - log_jacobian(layout, x) - log_prior(layout, draws)
        assert likelihood == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("formula", FORMULAS)
def test_gradient_matches_finite_differences(df, formula):
    _, layout = crossed_layout(df, formula)
    for seed, scale in ((1, 0.7), (2, 3.0)):  # and far out: SDs and σ from e⁻⁶ to e⁶
        x = layout.center + np.random.default_rng(seed).normal(0.0, scale, layout.n_dim)
        value, grad = layout.logp_grad(x)
        eps = 1e-6
        numeric = np.empty(layout.n_dim)
        for i in range(layout.n_dim):
            step = np.zeros(layout.n_dim)
            step[i] = eps
            up, down = layout.logp_grad(x + step)[0], layout.logp_grad(x - step)[0]
            numeric[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7 * (1 + abs(value)))


def test_the_pymc_potential_is_the_same_density(df):
    model = hb.Model("y ~ x + (1 | p) + (1 | s)", data=df, parameterization="marginal")
    compare_with_pymc(model, n_points=2)


def test_an_impossible_point_has_minus_infinite_density(df):
    _, layout = crossed_layout(df, FORMULAS[0])
    x = layout.center.copy()
    x[layout.sigma] = -800.0  # σ² underflows to 0 with SDs at zero: singular covariance
    for bl in layout.blocks:
        x[bl.sd] = -800.0
    assert layout.logp_grad(x)[0] == -np.inf
