"""A residual SD that varies (``sigma="~ ..."``) against brms on real data.

lme4's sleepstudy: ``bf(Reaction ~ Days + (1 | Subject), sigma ~ Days + (1 | Subject))``, brms
4 chains x 1000 draws (after 1000 warmup), with its priors set to hierbayes's defaults for this
model; numbers from ``tests/reference_sigma.R`` (R is not needed to run this test).

Tolerances: fixed effects within 0.15 posterior SD, group SDs within 10%. Monte Carlo error of
the difference: brms's bulk ESS is 852 for the intercept (its smallest), so its mean is off by
about 0.034 posterior SD; hierbayes's 4 x 1000 draws give an ESS of about 370 for the intercept
(0.05 SD), so the difference has an MC error of about 0.06 SD there, and at most 0.03 SD for the
other coefficients (ESS > 1000 on both sides); for the SDs it is under 1.5% of their values.
"""

from __future__ import annotations

import pytest
from helpers import quiet_fit

import hierbayes as hb

pytestmark = pytest.mark.slow

# brms 2.x (tests/reference_sigma.R): posterior mean and SD
BRMS = {
    "Intercept": (254.08386, 9.68591),
    "Days": (9.41134, 0.85278),
    "sigma_Intercept": (2.98901, 0.17819),
    "sigma_Days": (0.06835, 0.03158),
}
BRMS_SD = {"Intercept": (35.29518, 7.25861), "sigma_Intercept": (0.41618, 0.10462)}
# the priors the R script gives brms: hierbayes's defaults for this model
PRIORS = {
    "Intercept": "Normal(mu=298.5, sigma=140.8)",
    "b|Days": "Normal(mu=0, sigma=48.89)",
    "sd|Subject": "HalfNormal(sigma=56.33)",
    "sigma_Intercept": "StudentT(mu=4.031, nu=3, sigma=2.5)",
    "b|sigma_Days": "Normal(mu=0, sigma=0.868)",
    "sd|sigma_Subject": "HalfNormal(sigma=1)",
}


@pytest.fixture(scope="module")
def model() -> hb.Model:
    return hb.Model(
        "Reaction ~ Days + (1 | Subject)",
        data=hb.datasets.load("sleepstudy"),
        sigma="~ Days + (1 | Subject)",
    )


@pytest.fixture(scope="module")
def fit(model: hb.Model) -> hb.Fit:
    return quiet_fit(model, draws=1000, tune=1000, chains=4, random_seed=1)


def test_the_r_script_uses_these_priors(model: hb.Model) -> None:
    assert model.priors["prior"].to_dict() == PRIORS
    assert model.prior_values["sigma_Intercept"].kwargs["mu"] == 4.0312  # as in the R script


def test_fixed_effects_agree_with_brms(fit: hb.Fit) -> None:
    table = fit.fixef()
    for term, (mean, sd) in BRMS.items():
        assert abs(table.loc[term, "mean"] - mean) < 0.15 * sd, term
        assert table.loc[term, "sd"] == pytest.approx(sd, rel=0.2), term


def test_group_sds_agree_with_brms(fit: hb.Fit) -> None:
    table = fit.varcorr().set_index("term")
    for term, (mean, _) in BRMS_SD.items():
        assert table.loc[term, "mean"] == pytest.approx(mean, rel=0.10), term
    assert fit.diagnostics.divergences == 0
