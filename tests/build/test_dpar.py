"""The PyMC model of a residual SD with its own linear predictor (``sigma="~ ..."``)."""

import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import ModelSpecError


@pytest.fixture(scope="module")
def model():
    sleep = hb.datasets.load("sleepstudy")
    return hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep, sigma="~ Days + (1 | Subject)")


def test_logp_matches_a_hand_written_density(model):
    pm_model = model.build()
    rng = np.random.default_rng(3)
    point = {
        "beta": np.array([9.5]),
        "Intercept_c": np.array(300.0),
        "sd|Subject_log__": np.array([np.log(30.0)]),
        "u|Subject": rng.normal(0, 30, size=(18, 1)),
        "b|sigma_Days": np.array(0.08),
        "sigma_Intercept_c": np.array(3.2),
        "sd|sigma_Subject_log__": np.array([np.log(0.4)]),
        "z|sigma_Subject": rng.normal(size=(18, 1)),
    }
    got = pm_model.compile_logp()(point)

    design = model.design
    days, y = design.X[:, 1], design.y
    pri = model.prior_values
    codes = design.blocks[0].codes
    mu = 300.0 + 9.5 * (days - days.mean()) + point["u|Subject"][codes, 0]
    sd_sigma = 0.4
    log_sigma = 3.2 + 0.08 * (days - days.mean()) + sd_sigma * point["z|sigma_Subject"][codes, 0]
    expected = stats.norm.logpdf(y, mu, np.exp(log_sigma)).sum()
    expected += stats.norm.logpdf(9.5, 0, pri["b|Days"].kwargs["sigma"])
    expected += stats.norm.logpdf(
        300.0, pri["Intercept"].kwargs["mu"], pri["Intercept"].kwargs["sigma"]
    )
    # SDs sampled on the log scale: the density of the SD times its Jacobian
    expected += stats.halfnorm.logpdf(30.0, scale=pri["sd|Subject"].kwargs["sigma"]) + np.log(30)
    expected += stats.norm.logpdf(point["u|Subject"], 0, 30.0).sum()
    expected += stats.norm.logpdf(0.08, 0, pri["b|sigma_Days"].kwargs["sigma"])
    t = pri["sigma_Intercept"].kwargs
    expected += stats.t.logpdf(3.2, t["nu"], t["mu"], t["sigma"])
    expected += stats.halfnorm.logpdf(0.4, scale=1.0) + np.log(0.4)
    expected += stats.norm.logpdf(point["z|sigma_Subject"]).sum()
    assert got == pytest.approx(expected, rel=1e-9)


def test_coefficients_are_labelled_as_in_brms(model):
    pm_model = model.build()
    assert list(pm_model.coords["sigma_term"]) == ["sigma_Intercept", "sigma_Days"]
    assert list(pm_model.coords["Subject"]) == list(model.design.blocks[0].levels)
    assert pm_model.named_vars_to_dims["u|sigma_Subject"] == ("Subject", "sigma_Subject__term")


def test_auto_integrates_nothing_out(model):
    assert model.parameterization == {"Subject": ("centered",)}
    compiled = model.compiled_density()  # sampled through the compiled kernel
    assert compiled is not None and compiled.layout.dpar is not None


def test_marginal_is_refused_with_the_reason():
    sleep = hb.datasets.load("sleepstudy")
    with pytest.raises(ModelSpecError, match="one residual SD for all rows"):
        hb.Model(
            "Reaction ~ Days + (1 | Subject)",
            data=sleep,
            sigma="~ Days",
            parameterization="marginal",
        )
    with pytest.raises(ModelSpecError, match="sigma='~ Days'"):
        hb.Model(
            "Reaction ~ Days + (1 | Subject)",
            data=sleep,
            sigma="~ Days",
            parameterization={"Subject": "marginal"},
        )


def test_likelihood_weights_count_each_row_with_its_own_sigma():
    sleep = hb.datasets.load("sleepstudy").assign(w=np.tile([1.0, 3.0], 90))
    args = ("Reaction ~ Days", sleep)
    plain = hb.Model(*args, sigma="~ Days")
    weighted = hb.Model(*args, sigma="~ Days", weights="w", priors=plain.prior_values)
    point = {
        "beta": np.array([10.0]),
        "Intercept_c": np.array(298.0),
        "b|sigma_Days": np.array(0.1),
        "sigma_Intercept_c": np.array(3.5),
    }
    days, w, y = plain.design.X[:, 1], sleep["w"].to_numpy(), plain.design.y

    def loglik(centre, weights):
        mu = 298.0 + 10.0 * (days - centre)
        sigma = np.exp(3.5 + 0.1 * (days - centre))  # centred as the mean's predictors are
        return (weights * stats.norm.logpdf(y, mu, sigma)).sum()

    expected = loglik(np.average(days, weights=w), w) - loglik(days.mean(), 1.0)
    diff = weighted.build().compile_logp()(point) - plain.build().compile_logp()(point)
    assert diff == pytest.approx(expected, rel=1e-9)
