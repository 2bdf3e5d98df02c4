"""Log predictive density of held-out rows with new groups integrated out (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit
from scipy.special import logsumexp
from scipy.stats import norm, poisson

import hierbayes as hb
from hierbayes.errors import DataError
from hierbayes.predict.density import log_predictive_density


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    rng = np.random.default_rng(0)
    g = np.repeat([f"s{j}" for j in range(5)], 6)
    data = pd.DataFrame({"y": rng.normal(size=30), "x": rng.normal(size=30), "g": g})
    return fake_fit(
        hb.Model("y ~ x + (1 + x | g)", data=data),
        draws=300,
        sd={"g": [1.2, 0.6]},
        rho={"g": 0.5},
        sigma=0.8,
    )


def _flat(da) -> np.ndarray:
    return da.transpose("chain", "draw", ...).values.reshape(-1, *da.shape[2:])


def test_exact_density_of_a_new_group_row(fit: hb.Fit) -> None:
    new = pd.DataFrame({"y": [1.3], "x": [0.7], "g": ["new"]})
    got = log_predictive_density(fit, new).iloc[0]
    post = fit.idata["posterior"]
    b = _flat(post["b"])
    sd = _flat(post["sd|g"])
    cor = _flat(post["cor|g"])
    sigma = _flat(post["sigma"])
    z = np.array([1.0, 0.7])
    logp = []
    for s in range(b.shape[0]):
        T = np.outer(sd[s], sd[s]) * cor[s]
        scale = np.sqrt(sigma[s] ** 2 + z @ T @ z)
        logp.append(norm.logpdf(1.3, b[s] @ z, scale))
    assert got == pytest.approx(logsumexp(logp) - np.log(len(logp)), rel=1e-10)


def test_known_group_rows_keep_their_effects(fit: hb.Fit) -> None:
    new = pd.DataFrame({"y": [0.2], "x": [-0.4], "g": ["s3"]})
    got = log_predictive_density(fit, new).iloc[0]
    post = fit.idata["posterior"]
    b = _flat(post["b"])
    u = _flat(post["u|g"].sel(g="s3"))
    sigma = _flat(post["sigma"])
    mean = b[:, 0] + u[:, 0] + (b[:, 1] + u[:, 1]) * -0.4
    logp = norm.logpdf(0.2, mean, sigma)
    assert got == pytest.approx(logsumexp(logp) - np.log(logp.size), rel=1e-10)
    mc = log_predictive_density(fit, new, method="mc", n_effect_draws=3, random_seed=1)
    assert mc.iloc[0] == pytest.approx(got, rel=1e-10)  # nothing to integrate


def test_monte_carlo_agrees_with_the_exact_integral(fit: hb.Fit) -> None:
    new = pd.DataFrame({"y": [1.3, -2.0, 0.1], "x": [0.7, 1.5, 0.0], "g": ["n1", "n1", "n2"]})
    exact = log_predictive_density(fit, new).to_numpy()
    reps = [
        log_predictive_density(fit, new, method="mc", n_effect_draws=50, random_seed=s)
        for s in range(6)
    ]
    reps = np.array([r.to_numpy() for r in reps])
    # each replicate is an independent MC estimate (600 x 50 draws); their spread gives the MC SE
    se = reps.std(axis=0, ddof=1) / np.sqrt(len(reps))
    assert np.all(np.abs(reps.mean(axis=0) - exact) < 5 * se + 1e-3)


def test_poisson_density_by_monte_carlo() -> None:
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"c": rng.poisson(2, size=20), "g": np.repeat(list("abcd"), 5)})
    fit = fake_fit(
        hb.Model("c ~ 1 + (1 | g)", data=data, family="poisson"), draws=200, sd={"g": [0.4]}
    )
    new = pd.DataFrame({"c": [3], "g": ["zz"]})
    got = log_predictive_density(fit, new, n_effect_draws=200, random_seed=1).iloc[0]
    # quadrature over the new effect u ~ N(0, sd²) draw by draw
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()
    b = _flat(fit.idata["posterior"]["b"])[:, 0]
    sd = _flat(fit.idata["posterior"]["sd|g"])[:, 0]
    p = np.array(
        [np.sum(weights * poisson.pmf(3, np.exp(b[s] + sd[s] * nodes))) for s in range(b.size)]
    )
    # 400 x 200 draws of a density with relative SD below 0.5: MC error well under 0.01 in log
    assert got == pytest.approx(np.log(p.mean()), abs=0.01)


def test_exact_needs_gaussian() -> None:
    data = pd.DataFrame({"c": [1, 2, 0, 3], "g": list("aabb")})
    fit = fake_fit(hb.Model("c ~ 1 + (1 | g)", data=data, family="poisson"), draws=10)
    with pytest.raises(DataError, match="needs a gaussian model"):
        log_predictive_density(fit, data, method="exact")
