"""Recovery of known parameters from simulated data (90% central intervals cover the truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit, simulate_correlated

import hierbayes as hb

pytestmark = pytest.mark.slow


def _interval(draws: np.ndarray, prob: float = 0.90) -> tuple[float, float]:
    lo, hi = np.quantile(np.asarray(draws).ravel(), [(1 - prob) / 2, (1 + prob) / 2])
    return float(lo), float(hi)


def _covers(draws, truth: float) -> bool:
    lo, hi = _interval(draws)
    return lo <= truth <= hi


def test_correlated_intercept_slope_recovery():
    data, truth = simulate_correlated(seed=2024)
    fit = quiet_fit(
        hb.Model("y ~ x + (1 + x | g)", data=data), draws=500, tune=500, chains=4, random_seed=3
    )
    post = fit.idata["posterior"]
    checks = {
        "b[Intercept]": (post["b"].sel(term="Intercept"), truth["b0"]),
        "b[x]": (post["b"].sel(term="x"), truth["b1"]),
        "sd[Intercept]": (post["sd|g"].sel(g__term="Intercept"), truth["sd0"]),
        "sd[x]": (post["sd|g"].sel(g__term="x"), truth["sd1"]),
        "cor": (post["cor|g"].sel(g__term="Intercept", g__term_bis="x"), truth["rho"]),
        "sigma": (post["sigma"], truth["sigma"]),
    }
    missed = {k: _interval(d.values) for k, (d, t) in checks.items() if not _covers(d.values, t)}
    assert not missed, f"90% intervals missing the truth: {missed}"
    assert fit.diagnostics.divergences == 0


def test_bernoulli_recovery():
    rng = np.random.default_rng(7)
    n_groups, n_per = 50, 40
    b0, b1, tau = -0.5, 1.0, 0.8
    g = np.repeat(np.arange(n_groups), n_per)
    x = rng.normal(size=g.size)
    u = rng.normal(0, tau, n_groups)
    p = 1 / (1 + np.exp(-(b0 + b1 * x + u[g])))
    data = pd.DataFrame({"y": rng.random(g.size) < p, "x": x, "g": g})
    fit = quiet_fit(
        hb.Model("y ~ x + (1 | g)", data=data, family="bernoulli"),
        draws=500,
        tune=500,
        chains=4,
        random_seed=5,
    )
    post = fit.idata["posterior"]
    assert _covers(post["b"].sel(term="Intercept").values, b0)
    assert _covers(post["b"].sel(term="x").values, b1)
    assert _covers(post["sd|g"].values, tau)


def test_poisson_recovery():
    rng = np.random.default_rng(8)
    n_groups, n_per = 50, 20
    b0, b1, tau = 1.0, 0.3, 0.5
    g = np.repeat(np.arange(n_groups), n_per)
    x = rng.normal(size=g.size)
    u = rng.normal(0, tau, n_groups)
    data = pd.DataFrame({"y": rng.poisson(np.exp(b0 + b1 * x + u[g])), "x": x, "g": g})
    fit = quiet_fit(
        hb.Model("y ~ x + (1 | g)", data=data, family="poisson"),
        draws=500,
        tune=500,
        chains=4,
        random_seed=6,
    )
    post = fit.idata["posterior"]
    assert _covers(post["b"].sel(term="Intercept").values, b0)
    assert _covers(post["b"].sel(term="x").values, b1)
    assert _covers(post["sd|g"].values, tau)


def test_binomial_cbpp_matches_lme4():
    """cbpp: glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), binomial).

    lme4's Laplace estimates (Bates et al., lme4 documentation): intercept -1.398, period2
    -0.992, period3 -1.128, period4 -1.580, herd SD 0.642. Posterior means of the fixed effects
    must lie within one posterior SD of them (15 herds: the posterior is not normal, and the
    priors and the Laplace approximation differ slightly).
    """
    cbpp = hb.datasets.load("cbpp")
    fit = quiet_fit(
        hb.Model("incidence | trials(size) ~ C(period) + (1 | herd)", data=cbpp, family="binomial"),
        draws=500,
        tune=500,
        chains=4,
        random_seed=9,
    )
    fixef = fit.fixef()
    lme4 = {
        "Intercept": -1.398,
        "C(period)[T.2]": -0.992,
        "C(period)[T.3]": -1.128,
        "C(period)[T.4]": -1.580,
    }
    for term, value in lme4.items():
        row = fixef.loc[term]
        assert abs(row["mean"] - value) < row["sd"], term
    sd = fit.varcorr().query("factor == 'herd'").iloc[0]
    assert sd["hdi_3%"] < 0.642 < sd["hdi_97%"]
