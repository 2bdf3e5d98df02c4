"""Nested factors integrated out jointly: the compiled log-likelihood equals the dense marginal
``N(X b, σ² I + Σ Z T Z')`` computed by numpy, and its gradient is the derivative.

With flat priors on the fixed effects, HalfNormal(1) on the SDs and σ and LKJ(1) on the
correlations, the kernel's log-density less those priors' densities and the log-Jacobian of its
transforms (log SDs, log σ, the correlation rows) is the log-likelihood.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.density.codes import A_META, M_SUFFSTAT
from hierbayes.density.draws import named_draws
from hierbayes.density.layout import Layout, _lkj_constant, make_layout
from hierbayes.density.nested_marginal import NESTED
from hierbayes.design import Design
from tests.density.test_kernel import log_jacobian


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    """Classes in schools in authorities, unbalanced, with two covariates."""
    rng = np.random.default_rng(3)
    n = 150
    a = rng.integers(0, 4, n)
    s = a * 3 + rng.integers(0, 3, n)
    c = s * 2 + rng.integers(0, 2, n)
    data = pd.DataFrame(
        {
            "a": [f"a{i}" for i in a],
            "s": [f"s{i}" for i in s],
            "c": [f"c{i}" for i in c],
            "x": rng.normal(size=n),
            "w": rng.normal(size=n),
        }
    )
    data["y"] = (
        1 + data.x + rng.normal(size=4)[a] + rng.normal(size=12)[s] + rng.normal(size=24)[c]
    ) + rng.normal(size=n)
    return data


def flat(model: hb.Model) -> dict[str, hb.Prior]:
    """Flat priors on the fixed effects, HalfNormal(1) on SDs, LKJ(1) on correlations."""
    out = {}
    for name in model.priors.index:
        real = name == "Intercept" or name.startswith("b|")
        if name.startswith("cor|"):
            out[name] = hb.Prior("LKJ", eta=1.0)
        else:
            out[name] = hb.Prior("Flat") if real else hb.Prior("HalfNormal", sigma=1.0)
    return out


def log_prior(layout: Layout, draws: dict[str, np.ndarray]) -> float:
    """Log-density of those priors (LKJ(1) of q x q correlations: its normalising constant)."""
    total = stats.halfnorm.logpdf(draws["sigma"][0])
    for bl in layout.blocks:
        total += stats.halfnorm.logpdf(draws[f"sd|{bl.block.name}"][0]).sum()
        if bl.corr is not None:
            total += _lkj_constant(1.0, len(bl.block.columns))
    return float(total)


def dense_loglik(design: Design, draws: dict[str, np.ndarray]) -> float:
    """Log-density of ``y`` under ``N(X b, σ² I + Σ_b Z_b T_b Z_b')`` (one draw)."""
    n = design.n_obs
    V = draws["sigma"][0] ** 2 * np.eye(n)
    for block in design.blocks:
        q, J = len(block.columns), len(block.levels)
        sd = draws[f"sd|{block.name}"][0]
        C = draws[f"chol_cor|{block.name}"][0] if block.correlated else np.eye(q)
        L = sd[:, None] * C
        Z = np.zeros((n, J * q))
        for k in range(q):
            Z[np.arange(n), block.codes * q + k] = block.Z[:, k]
        V += Z @ np.kron(np.eye(J), L @ L.T) @ Z.T
    r = design.y - design.X @ draws["b"][0]
    _, logdet = np.linalg.slogdet(V)
    return float(-0.5 * (n * np.log(2 * np.pi) + logdet + r @ np.linalg.solve(V, r)))


FORMULAS = [
    "y ~ x + (1 | a) + (1 | s)",  # varying intercepts, 2 levels, separate terms
    "y ~ x + (1 | a/s/c)",  # varying intercepts, 3 levels (the one-coefficient code)
    "y ~ x + (1 + x | a/s)",  # varying slopes, 2 levels
    "y ~ x + (1 | a) + (1 + x | s) + (0 + w | c)",  # 3 levels, slopes at two
    "y ~ 0 + x + (1 + x + w || a) + (1 | s) + (0 + x | s) + (1 | c)",  # 3 levels, q = 3, 2, 1
]


def nested_layout(df: pd.DataFrame, formula: str) -> tuple[hb.Model, Layout]:
    model = hb.Model(formula, data=df)
    model = hb.Model(formula, data=df, priors=flat(model))
    assert {c for v in model.parameterization.values() for c in v} == {"marginal"}
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert layout.arrays[A_META][M_SUFFSTAT] == NESTED
    return model, layout


@pytest.mark.parametrize("formula", FORMULAS)
def test_joint_marginal_equals_the_dense_marginal(df, formula):
    model, layout = nested_layout(df, formula)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = layout.center + rng.normal(0.0, 0.7, layout.n_dim)
        value, _ = layout.logp_grad(x)
        expected = dense_loglik(model.design, named_draws(layout, x[None]))
        draws = named_draws(layout, x[None])
        likelihood = value - log_jacobian(layout, x) - log_prior(layout, draws)
        assert likelihood == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("formula", FORMULAS)
def test_gradient_matches_finite_differences(df, formula):
    _, layout = nested_layout(df, formula)
    x = layout.center + np.random.default_rng(1).normal(0.0, 0.7, layout.n_dim)
    value, grad = layout.logp_grad(x)
    eps = 1e-6
    numeric = np.empty(layout.n_dim)
    for i in range(layout.n_dim):
        step = np.zeros(layout.n_dim)
        step[i] = eps
        numeric[i] = (layout.logp_grad(x + step)[0] - layout.logp_grad(x - step)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7 * (1 + abs(value)))


def test_an_impossible_point_has_minus_infinite_density(df):
    _, layout = nested_layout(df, FORMULAS[0])
    x = layout.center.copy()
    x[layout.sigma] = -800.0  # σ² underflows to 0 with SDs at zero: singular covariance
    for bl in layout.blocks:
        x[bl.sd] = -800.0
    assert layout.logp_grad(x)[0] == -np.inf
