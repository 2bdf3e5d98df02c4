"""The beta family through the whole pipeline, on real and on simulated data.

Real data: mlmRev's Gcsemv (GCSE written-paper scores of 1703 pupils in 73 schools, as a
proportion), ``written ~ gender + (1 | school)`` with glmmTMB's ``beta_family()``; reference
numbers from ``tests/reference_beta.R`` (which also writes ``tests/data/gcsemv.csv``; R is not
needed to run these tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit
from scipy.special import expit

import hierbayes as hb
from hierbayes.errors import FamilyError, SummaryError

DATA = Path(__file__).parent / "data" / "gcsemv.csv"

# glmmTMB (tests/reference_beta.R)
TMB_FIXEF = {"Intercept": -0.144705, "gender[T.M]": 0.103216}
TMB_SE = {"Intercept": 0.038254, "gender[T.M]": 0.023746}
TMB_SD_SCHOOL = 0.287987
TMB_PHI = 17.779738


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    data = pd.read_csv(DATA)
    model = hb.Model("written ~ gender + (1 | school)", data, family="beta")
    return quiet_fit(model, draws=300, tune=300, chains=2, random_seed=5)


def test_default_prior_of_the_precision_is_listed():
    data = pd.read_csv(DATA)
    model = hb.Model("written ~ gender + (1 | school)", data, family="beta")
    assert str(model.priors.loc["phi", "prior"]) == "Gamma(alpha=0.01, beta=0.01)"


def test_exact_zeros_and_ones_are_an_error_that_suggests_a_squeeze():
    data = pd.DataFrame({"p": [0.2, 0.0, 1.0, 0.5], "g": ["a", "a", "b", "b"]})
    with pytest.raises(
        FamilyError,
        match=r"Response 'p' does not fit the beta family: values must lie strictly between 0 "
        r"and 1; found 2 outside, e\.g\. \[0\.0, 1\.0\] \(exact 0s and 1s: squeeze them .*"
        r"Smithson & Verkuilen 2006\)",
    ):
        hb.Model("p ~ 1 + (1 | g)", data, family="beta")
    data["p"] = [0.2, 1.5, 0.3, 0.5]
    with pytest.raises(FamilyError, match=r"found 1 outside, e\.g\. \[1\.5\]\.$"):
        hb.Model("p ~ 1 + (1 | g)", data, family="beta")


@pytest.mark.slow
def test_agrees_with_glmmtmb(fit):
    post = fit.idata["posterior"]
    for term, value in TMB_FIXEF.items():
        draws = post["b"].sel(term=term).values.ravel()
        mean, sd = draws.mean(), draws.std()
        # posterior mean within 0.3 posterior SD of the ML estimate (Monte Carlo error of the
        # mean with 600 draws: about 0.06 SD; flat priors on this scale make both the same up
        # to that); posterior SD within 25% of the ML standard error (it also carries the
        # uncertainty of sd|school and phi)
        assert abs(mean - value) < 0.3 * sd, (term, mean, value, sd)
        assert sd == pytest.approx(TMB_SE[term], rel=0.25)
    for name, value in (("sd|school", TMB_SD_SCHOOL), ("phi", TMB_PHI)):
        draws = post[name].values.ravel()
        # the ML estimate lies within the central 90% interval, and the posterior median within
        # 15% of it (73 schools: sd|school's posterior SD is about 10% of its value)
        lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
        assert lo < value < hi, (name, lo, hi, value)
        assert med == pytest.approx(value, rel=0.15)


@pytest.mark.slow
def test_predictions_simulations_and_summaries(fit, tmp_path):
    data = pd.read_csv(DATA)
    new = data.iloc[:4]
    linear = np.asarray(fit.predict(new, kind="linear"))
    mean = np.asarray(fit.predict(new, kind="mean"))
    np.testing.assert_allclose(mean, expit(linear), rtol=1e-12)
    pps = np.asarray(fit.predict(new, kind="pps", random_seed=1))
    assert ((pps > 0) & (pps < 1)).all()
    # variance μ(1 - μ)/(1 + φ), draw by draw: the replicated proportions' spread matches it
    phi = fit.idata["posterior"]["phi"].values[..., None]
    var = (mean * (1 - mean) / (1 + phi)).mean(axis=(0, 1))
    resid = ((pps - mean) ** 2).mean(axis=(0, 1))
    np.testing.assert_allclose(resid, var, rtol=0.25)
    sim = fit.simulate_new_groups(
        100, x=pd.DataFrame({"gender": ["F", "M"]}), observations=True, random_seed=3
    )
    assert ((sim.data["written"] > 0) & (sim.data["written"] < 1)).all()
    np.testing.assert_allclose(sim.data["mean"], expit(sim.data["linear"]), rtol=1e-12)
    assert "Beta" in str(fit.model.equations())
    with pytest.raises(SummaryError, match=r"No latent-scale residual variance for the beta"):
        fit.icc()
    r2 = fit.r2()
    assert 0 < float(r2.loc["marginal", "mean"]) < float(r2.loc["conditional", "mean"]) < 1
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit.plot_ppc()
    plt.close("all")
    assert np.isfinite(fit.loo()["elpd"])
    again = hb.load(fit.save(tmp_path / "beta"))
    np.testing.assert_array_equal(
        again.idata["posterior"]["phi"].values, fit.idata["posterior"]["phi"].values
    )
    assert again.design.family.name == "beta"


@pytest.mark.slow
def test_recovers_known_parameters():
    rng = np.random.default_rng(8)
    J, n = 30, 15
    truth = {"Intercept": -0.5, "x": 0.4, "sd": 0.5, "phi": 12.0}
    g = np.repeat(np.arange(J), n)
    x = rng.normal(size=J * n)
    u = rng.normal(0, truth["sd"], J)
    mu = expit(truth["Intercept"] + truth["x"] * x + u[g])
    y = rng.beta(mu * truth["phi"], (1 - mu) * truth["phi"])
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    model = hb.Model("y ~ x + (1 | g)", data, family="beta")
    post = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=2).idata["posterior"]
    draws = {
        "Intercept": post["b"].sel(term="Intercept").values,
        "x": post["b"].sel(term="x").values,
        "sd": post["sd|g"].values,
        "phi": post["phi"].values,
    }
    for name, value in truth.items():
        lo, hi = np.quantile(draws[name], [0.05, 0.95])
        assert lo < value < hi, (name, lo, hi, value)
