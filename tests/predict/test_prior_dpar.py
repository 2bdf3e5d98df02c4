"""Prior draws, log prior and prior predictive draws of log sigma's linear predictor."""

import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.predict.prior import log_prior


@pytest.fixture(scope="module")
def model():
    return hb.Model(
        "Reaction ~ Days + (1 | Subject)",
        data=hb.datasets.load("sleepstudy"),
        sigma="~ Days + (1 | Subject)",
    )


def test_prior_draws_are_labelled_as_the_posterior(model):
    prior = model.prior_predictive(draws=400, random_seed=2)["prior"]
    assert list(prior["b_sigma"]["sigma_term"].values) == ["sigma_Intercept", "sigma_Days"]
    assert prior["u|sigma_Subject"].dims == ("chain", "draw", "Subject", "sigma_Subject__term")
    assert "sigma" not in prior


def test_log_prior_scores_every_prior_of_the_table(model):
    prior = model.prior_predictive(draws=50, random_seed=3)["prior"].to_dataset()
    scored = log_prior(model.design, model.prior_values, prior)
    assert sorted(scored.data_vars) == sorted(model.priors.index)
    days = model.design.dpar.X[:, 1].mean()
    b = prior["b_sigma"].values[0]
    t = model.prior_values["sigma_Intercept"].kwargs
    centred = b[:, 0] + days * b[:, 1]  # the prior is on the intercept at the mean of Days
    expected = stats.t.logpdf(centred, t["nu"], t["mu"], t["sigma"])
    np.testing.assert_allclose(scored["sigma_Intercept"].values[0], expected, rtol=1e-10)
    sd = prior["sd|sigma_Subject"].values[0, :, 0]
    np.testing.assert_allclose(
        scored["sd|sigma_Subject"].values[0], stats.halfnorm.logpdf(sd, scale=1.0), rtol=1e-10
    )


def test_prior_predictive_responses_spread_with_each_rows_sigma(model):
    tree = model.prior_predictive(draws=2000, random_seed=4)
    prior = tree["prior"].to_dataset()
    from hierbayes.predict.prior_dpar import dpar_prior_rows

    sigma = dpar_prior_rows(model.design, prior)  # (draws, n)
    y = tree["prior_predictive"]["Reaction"].values[0]
    eta = prior["b"].values[0] @ model.design.X.T
    eta += prior["u|Subject"].values[0][:, model.design.blocks[0].codes, 0]
    z = (y - eta) / sigma
    assert abs(z.std() - 1) < 0.01  # 360,000 standard normals
