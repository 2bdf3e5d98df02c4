"""Effects drawn after a Laplace fit follow their exact conditional posterior, and the check's
log weights vanish where the approximation is exact (a gaussian family)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import log_expit

import hierbayes as hb
from hierbayes.density.laplace_check import pareto_k
from hierbayes.density.laplace_draws import laplace_effects
from hierbayes.density.layout import make_layout


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n, J = 120, 6
    g = rng.integers(0, J, n)
    x = rng.normal(size=n)
    eta = 0.2 + 0.8 * x + rng.normal(0, 1.0, J)[g]
    data = pd.DataFrame({"g": [f"g{j}" for j in g], "x": x})
    data["yb"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    data["yg"] = eta + rng.normal(0, 0.8, n)
    return data


def test_gaussian_draws_have_zero_log_weights(df):
    m = hb.Model("yg ~ x + (1 + x | g)", df, parameterization={"g": "laplace"})
    layout = make_layout(m.design, m.prior_values, m.parameterization)
    X = layout.center + np.random.default_rng(0).uniform(-0.5, 0.5, (5, layout.n_dim))
    u, logw = laplace_effects(layout.table, X, 2, 6, seed=3)
    assert u.shape == (5, 6, 2)
    np.testing.assert_allclose(logw, 0.0, atol=1e-8)
    assert pareto_k(np.tile(logw, 4)) == 0.0


def test_bernoulli_draws_follow_the_exact_conditional(df):
    """Many draws at one point: each group's mean and SD match a quadrature of its exact
    conditional posterior within Monte Carlo error."""
    m = hb.Model("yb ~ x + (1 | g)", df, family="bernoulli", parameterization={"g": "laplace"})
    layout = make_layout(m.design, m.prior_values, m.parameterization)
    x = layout.center.copy()
    x[layout.theta] = [0.3, 0.9]
    sd = 1.4
    x[layout.blocks[0].sd] = np.log(sd)
    S = 2000
    u, logw = laplace_effects(layout.table, np.tile(x, (S, 1)), 1, 6, seed=11)
    assert np.all(np.isfinite(logw))
    y = df.yb.to_numpy()
    eta0 = x[0] + x[1] * (df.x.to_numpy() - df.x.mean())
    codes = m.design.blocks[0].codes
    grid = np.linspace(-8, 8, 4001)
    for j in range(6):
        rows = codes == j
        e = eta0[rows][:, None] + grid[None, :]
        logp = (y[rows][:, None] * log_expit(e) + (1 - y[rows][:, None]) * log_expit(-e)).sum(0)
        logp += -0.5 * (grid / sd) ** 2
        w = np.exp(logp - logp.max())
        w /= w.sum()
        mean = (w * grid).sum()
        sdev = np.sqrt((w * (grid - mean) ** 2).sum())
        draws = u[:, j, 0]
        assert abs(draws.mean() - mean) < 4.5 * sdev / np.sqrt(S)
        assert abs(draws.std() / sdev - 1) < 4.5 / np.sqrt(2 * S)


def test_the_check_flags_a_poor_approximation():
    """Two binary rows a group and a large SD: each group's posterior is far from gaussian, and
    summed over 150 groups the log weights have a heavy tail; 60 rows a group: a light one."""
    rng = np.random.default_rng(2)
    ks = []
    for rows, sd in ((2, 3.0), (60, 1.0)):
        J = 150
        g = np.repeat(np.arange(J), rows)
        eta = rng.normal(0, sd, J)[g]
        data = pd.DataFrame(
            {"g": [f"g{j}" for j in g], "y": (rng.random(g.size) < 1 / (1 + np.exp(-eta)))}
        ).astype({"y": int})
        m = hb.Model("y ~ 1 + (1 | g)", data, family="bernoulli", parameterization="laplace")
        layout = make_layout(m.design, m.prior_values, m.parameterization)
        x = layout.center.copy()
        x[layout.blocks[0].sd] = np.log(sd)
        _, logw = laplace_effects(layout.table, np.tile(x, (400, 1)), 1, J, seed=5)
        ks.append(pareto_k(logw))
    assert ks[0] > 0.7 > 0.5 > ks[1]
