"""The gamma family (log link) through the whole pipeline, on real and on simulated data.

Real data: lme4's sleepstudy reaction times (positive, right-skewed),
``Reaction ~ Days + (1 + Days | Subject)``, against glmmTMB's maximum-likelihood fit with
``family = Gamma(link = "log")`` (``tests/reference_gamma.R``; R is not needed to run these
tests). With 4 chains x 2000 draws (seed 1) the posterior means of the fixed effects are 0.05
(Intercept) and 0.06 (Days) posterior SDs from glmmTMB's estimates, the posterior SDs 15% above
its standard errors, the group SDs' medians 11% above its estimates and the shape's 148.5
(glmmTMB 153.0, inside the 90% interval).
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
from scipy.special import polygamma

import hierbayes as hb
from hierbayes.errors import FamilyError

# glmmTMB (tests/reference_gamma.R); its sigma is the coefficient of variation, 1/sqrt(shape)
TMB_FIXEF = {"Intercept": 5.532518, "Days": 0.033850}
TMB_SE = {"Intercept": 0.026276, "Days": 0.004629}
TMB_SD_SUBJECT = {"Intercept": 0.100858, "Days": 0.017508}
TMB_SHAPE = 152.971303


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    return sleepstudy_fit("gamma", seed=5)


def test_default_prior_of_the_shape_is_listed():
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model("Reaction ~ Days + (1 | Subject)", sleep, family="gamma")
    assert str(model.priors.loc["shape", "prior"]) == "Gamma(alpha=0.01, beta=0.01)"


def test_a_response_that_is_not_positive_is_an_error_naming_the_column():
    sleep = hb.datasets.load("sleepstudy")
    sleep.loc[[3, 7], "Reaction"] = [0.0, -2.5]
    with pytest.raises(
        FamilyError,
        match=r"Response 'Reaction' does not fit the gamma family: values must be positive "
        r"\(> 0\); 2 are not: \[-2\.5, 0\.0\]",
    ):
        hb.Model("Reaction ~ Days + (1 | Subject)", sleep, family="gamma")


@pytest.mark.slow
def test_agrees_with_glmmtmb(fit):
    check_fixed_effects(fit, TMB_FIXEF, TMB_SE)
    check_group_sds(fit, TMB_SD_SUBJECT)
    check_in_interval(fit, {"shape": TMB_SHAPE})


def _variance(pps: np.ndarray, linear: np.ndarray, own: dict[str, np.ndarray]) -> None:
    # gamma variance μ²/α, draw by draw: the replicated responses' squared deviations from μ
    # average to it within 4 Monte Carlo SEs (α read as 1/α, or a poisson-like μ, miss by far)
    mu = np.exp(linear)
    excess = ((pps - mu) ** 2 - mu**2 / own["shape"]).reshape(-1, mu.shape[-1])
    se = excess.std(axis=0) / np.sqrt(excess.shape[0])
    assert (np.abs(excess.mean(axis=0)) < 4 * se).all(), (excess.mean(axis=0), se)


@pytest.mark.slow
def test_predictions_simulations_and_summaries(fit, tmp_path):
    check_pipeline(fit, tmp_path, _variance)
    # ICC on the log scale with the trigamma residual variance of Nakagawa et al. (2017), at
    # Days = 0 where the group variance is the intercept's
    post = fit.idata["posterior"]
    tau2 = post["sd|Subject"].sel(Subject__term="Intercept").values.ravel() ** 2
    expected = tau2 / (tau2 + polygamma(1, post["shape"].values.ravel()))
    icc = fit.icc(at={"Days": [0.0]})
    assert float(icc["mean"].iloc[0]) == pytest.approx(expected.mean(), rel=1e-9)


@pytest.mark.slow
def test_recovers_known_parameters():
    rng = np.random.default_rng(8)
    J, n = 30, 20
    truth = {"Intercept": 1.0, "x": 0.5, "sd": 0.6, "shape": 3.0}
    g = np.repeat(np.arange(J), n)
    x = rng.normal(size=J * n)
    u = rng.normal(0, truth["sd"], J)
    mu = np.exp(truth["Intercept"] + truth["x"] * x + u[g])
    y = rng.gamma(truth["shape"], mu / truth["shape"])
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    model = hb.Model("y ~ x + (1 | g)", data, family="gamma")
    post = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=2).idata["posterior"]
    draws = {
        "Intercept": post["b"].sel(term="Intercept").values,
        "x": post["b"].sel(term="x").values,
        "sd": post["sd|g"].values,
        "shape": post["shape"].values,
    }
    for name, value in truth.items():
        lo, hi = np.quantile(draws[name], [0.05, 0.95])
        assert lo < value < hi, (name, lo, hi, value)
