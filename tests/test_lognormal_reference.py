"""The lognormal family through the whole pipeline, on real and on simulated data.

Real data: lme4's sleepstudy reaction times, ``Reaction ~ Days + (1 + Days | Subject)``. A
lognormal model of ``y`` is the gaussian model of ``log y``, so the reference is glmmTMB's
maximum-likelihood fit of ``log(Reaction)`` (``tests/reference_lognormal.R``; R is not needed to
run these tests). With 4 chains x 2000 draws (seed 1) the posterior means of the fixed effects
are 0.02 posterior SDs from glmmTMB's estimates, the posterior SDs 11% and 16% above its standard
errors, the group SDs' medians 10% and 11% above its estimates and ``sigma``'s 0.0818 (glmmTMB
0.0812, inside the 90% interval).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from continuous import (
    check_fixed_effects,
    check_group_sds,
    check_in_interval,
    check_pipeline,
    sleepstudy_fit,
)
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.errors import FamilyError

# glmmTMB (tests/reference_lognormal.R)
TMB_FIXEF = {"Intercept": 5.530065, "Days": 0.033668}
TMB_SE = {"Intercept": 0.026248, "Days": 0.004620}
TMB_SD_SUBJECT = {"Intercept": 0.100625, "Days": 0.017445}
TMB_SIGMA = 0.081162


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    return sleepstudy_fit("lognormal", seed=5)


def test_default_priors_are_gaussians_on_log_y():
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model("Reaction ~ Days + (1 | Subject)", sleep, family="lognormal")
    on_log = hb.Model("log_rt ~ Days + (1 | Subject)", sleep.assign(log_rt=np.log(sleep.Reaction)))
    for name in ("Intercept", "b|Days", "sd|Subject", "sigma"):
        assert str(model.priors.loc[name, "prior"]) == str(on_log.priors.loc[name, "prior"])


def test_a_response_that_is_not_positive_is_an_error_naming_the_column():
    sleep = hb.datasets.load("sleepstudy")
    sleep.loc[11, "Reaction"] = 0.0
    with pytest.raises(
        FamilyError,
        match=r"Response 'Reaction' does not fit the lognormal family: values must be "
        r"positive \(> 0\); 1 are not: \[0\.0\]",
    ):
        hb.Model("Reaction ~ Days + (1 | Subject)", sleep, family="lognormal")


@pytest.mark.slow
def test_agrees_with_glmmtmb(fit):
    check_fixed_effects(fit, TMB_FIXEF, TMB_SE)
    check_group_sds(fit, TMB_SD_SUBJECT)
    check_in_interval(fit, {"sigma": TMB_SIGMA})


def _log_scale(pps: np.ndarray, linear: np.ndarray, own: dict[str, np.ndarray]) -> None:
    # log y ~ Normal(η, σ), draw by draw: z = (log y - η)/σ has mean 0 and variance 1, each
    # within 4 Monte Carlo SEs (exp of a normal with the mean exp(η + σ²/2) would shift z by σ/2)
    z = (np.log(pps) - linear) / own["sigma"]
    assert abs(z.mean()) < 4 / np.sqrt(z.size), z.mean()
    sq = z**2
    assert abs(sq.mean() - 1) < 4 * sq.std() / np.sqrt(sq.size), sq.mean()


@pytest.mark.slow
def test_predictions_simulations_and_summaries(fit, tmp_path):
    check_pipeline(fit, tmp_path, _log_scale)
    post = fit.idata["posterior"]
    sigma = post["sigma"].values
    # the mean is exp(η + σ²/2), not the median exp(η)
    new = pd.DataFrame({"Days": [0.0, 9.0]})
    linear = np.asarray(fit.predict(new, groups="population", kind="linear"))
    mean = np.asarray(fit.predict(new, groups="population", kind="mean"))
    np.testing.assert_allclose(mean, np.exp(linear + sigma[..., None] ** 2 / 2), rtol=1e-12)
    effects = fit.conditional_effects("Days", grid=[0.0, 9.0])
    np.testing.assert_allclose(effects["mean"], mean.reshape(-1, 2).mean(axis=0), rtol=1e-12)
    lines = fit.group_lines("Days", grid=[0.0, 9.0], groups=["308", "309"])
    rows = pd.DataFrame({"Subject": ["308", "308", "309", "309"], "Days": [0.0, 9.0] * 2})
    own = np.asarray(fit.predict(rows, kind="mean")).reshape(-1, 4).mean(axis=0)
    np.testing.assert_allclose(lines["mean"], own, rtol=1e-12)
    np.testing.assert_allclose(lines["population"], np.tile(effects["mean"], 2), rtol=1e-12)
    # averaged over new subjects: exp(η + (v + σ²)/2), v = z'Tz the variance of a new
    # subject's effects at that row
    marginal = np.asarray(fit.predict(new, groups="marginal", kind="mean"))
    sd = post["sd|Subject"].transpose("chain", "draw", ...).values
    rho = post["cor|Subject"].values[..., 0, 1]
    days = new["Days"].to_numpy()
    v = (
        sd[..., :1] ** 2
        + 2 * rho[..., None] * sd[..., :1] * sd[..., 1:] * days
        + sd[..., 1:] ** 2 * days**2
    )
    expected = np.exp(linear + (v + sigma[..., None] ** 2) / 2)
    np.testing.assert_allclose(marginal, expected, rtol=1e-9)
    # ICC on the log scale: τ² / (τ² + σ²) at Days = 0
    tau2 = sd[..., 0].ravel() ** 2
    icc = fit.icc(at={"Days": [0.0]})
    expected_icc = (tau2 / (tau2 + sigma.ravel() ** 2)).mean()
    assert float(icc["mean"].iloc[0]) == pytest.approx(expected_icc, rel=1e-9)


@pytest.mark.slow
def test_recovers_known_parameters():
    rng = np.random.default_rng(8)
    J, n = 30, 20
    truth = {"Intercept": 1.0, "x": 0.5, "sd": 0.6, "sigma": 0.5}
    g = np.repeat(np.arange(J), n)
    x = rng.normal(size=J * n)
    u = rng.normal(0, truth["sd"], J)
    eta = truth["Intercept"] + truth["x"] * x + u[g]
    y = np.exp(eta + truth["sigma"] * rng.standard_normal(J * n))
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    model = hb.Model("y ~ x + (1 | g)", data, family="lognormal")
    post = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=2).idata["posterior"]
    draws = {
        "Intercept": post["b"].sel(term="Intercept").values,
        "x": post["b"].sel(term="x").values,
        "sd": post["sd|g"].values,
        "sigma": post["sigma"].values,
    }
    for name, value in truth.items():
        lo, hi = np.quantile(draws[name], [0.05, 0.95])
        assert lo < value < hi, (name, lo, hi, value)
