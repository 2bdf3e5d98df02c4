"""The zero-inflated poisson and negative binomial families through the whole pipeline.

Real data: glmmTMB's Salamanders (644 counts at 23 sites, ``tests/data/salamanders.csv``),
glmmTMB's own zero-inflation example ``count ~ spp + mined + (1 | site)`` with ``zi = ~1``;
reference numbers from ``tests/reference_zero_inflated.R`` (R is not needed to run these tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.errors import SummaryError

DATA = Path(__file__).parent / "data" / "salamanders.csv"
FORMULA = "count ~ spp + mined + (1 | site)"

# glmmTMB (tests/reference_zero_inflated.R); hierbayes's names of glmmTMB's terms
TERMS = {
    "(Intercept)": "Intercept",
    "sppDF": "spp[T.DF]",
    "sppDM": "spp[T.DM]",
    "sppEC-A": "spp[T.EC-A]",
    "sppEC-L": "spp[T.EC-L]",
    "sppGP": "spp[T.GP]",
    "sppPR": "spp[T.PR]",
    "minedyes": "mined[T.yes]",
}
ZIP = {
    "fixef": {
        "(Intercept)": 1.542199, "sppDF": -0.485233, "sppDM": -0.360531, "sppEC-A": -1.180375,
        "sppEC-L": 0.031218, "sppGP": -0.666069, "sppPR": -1.868480, "minedyes": -2.159321,
    },
    "se": {
        "(Intercept)": 0.172486, "sppDF": 0.123955, "sppDM": 0.115706, "sppEC-A": 0.190594,
        "sppEC-L": 0.103883, "sppGP": 0.123822, "sppPR": 0.231317, "minedyes": 0.275304,
    },
    "sd|site": 0.541386,
    "zi": 0.289907,
}  # fmt: skip
ZINB = {
    "fixef": {
        "(Intercept)": 1.372981, "sppDF": -0.480897, "sppDM": -0.424329, "sppEC-A": -1.502774,
        "sppEC-L": -0.221524, "sppGP": -0.792929, "sppPR": -2.112654, "minedyes": -2.263275,
    },
    "se": {
        "(Intercept)": 0.217301, "sppDF": 0.219178, "sppDM": 0.213387, "sppEC-A": 0.244396,
        "sppEC-L": 0.208911, "sppGP": 0.216649, "sppPR": 0.279522, "minedyes": 0.283807,
    },
    "sd|site": 0.542630,
    "shape": 0.942403,
    "zi": 0.0,  # at the boundary: glmmTMB's logit(zi) = -16 with SE 3341
}  # fmt: skip
# zinb: glmmTMB's profile deviance of zi, 2 (max logLik - logLik at zi fixed)
ZINB_PROFILE = {0.05: 0.356695, 0.10: 1.459288, 0.15: 3.662119}


def _model(family: str) -> hb.Model:
    return hb.Model(FORMULA, pd.read_csv(DATA), family=family)


@pytest.fixture(scope="module")
def zip_fit() -> hb.Fit:
    return quiet_fit(_model("zero_inflated_poisson"), draws=300, tune=300, chains=2, random_seed=5)


@pytest.fixture(scope="module")
def zinb_fit() -> hb.Fit:
    return quiet_fit(
        _model("zero_inflated_negativebinomial"), draws=300, tune=300, chains=2, random_seed=5
    )


def test_default_priors_are_listed():
    priors = _model("zero_inflated_negativebinomial").priors
    assert str(priors.loc["zi", "prior"]) == "Beta(alpha=1, beta=1)"
    assert str(priors.loc["shape", "prior"]) == "Gamma(alpha=0.01, beta=0.01)"
    assert list(_model("zero_inflated_poisson").priors.index[-1:]) == ["zi"]


def _agrees(fit: hb.Fit, ref: dict, se_rel: float) -> None:
    post = fit.idata["posterior"]
    for tmb, term in TERMS.items():
        draws = post["b"].sel(term=term).values.ravel()
        mean, sd = draws.mean(), draws.std()
        # posterior mean within 0.3 posterior SD of the ML estimate (Monte Carlo error of the
        # mean with 600 draws: about 0.06 SD); posterior SD near the ML standard error (it
        # also carries the uncertainty of sd|site and the family's own parameters)
        assert abs(mean - ref["fixef"][tmb]) < 0.3 * sd, (term, mean, ref["fixef"][tmb], sd)
        assert sd == pytest.approx(ref["se"][tmb], rel=se_rel), term
    draws = post["sd|site"].values.ravel()
    lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
    # 23 sites: the posterior of sd|site is wide (SD about 20% of its value) and right-skewed,
    # so its median sits above the ML estimate, which lies inside the 90% interval
    assert lo < ref["sd|site"] < hi
    assert med == pytest.approx(ref["sd|site"], rel=0.2)


@pytest.mark.slow
def test_zero_inflated_poisson_agrees_with_glmmtmb(zip_fit):
    _agrees(zip_fit, ZIP, se_rel=0.25)
    zi = zip_fit.idata["posterior"]["zi"].values.ravel()
    # zi is well identified here (ML 0.29, SE of logit(zi) 0.16): the ML value lies inside the
    # 90% interval and within 0.5 posterior SD of the posterior mean
    lo, hi = np.quantile(zi, [0.05, 0.95])
    assert lo < ZIP["zi"] < hi
    assert abs(zi.mean() - ZIP["zi"]) < 0.5 * zi.std()


@pytest.mark.slow
def test_zero_inflated_negativebinomial_agrees_with_glmmtmb(zinb_fit):
    _agrees(zinb_fit, ZINB, se_rel=0.3)
    post = zinb_fit.idata["posterior"]
    lo, hi = np.quantile(post["shape"].values.ravel(), [0.05, 0.95])
    assert lo < ZINB["shape"] < hi
    # ML puts zi on the boundary 0. glmmTMB's profile deviance of zi is close to quadratic,
    # c zi² with c = 143, 146, 163 at zi = 0.05, 0.10, 0.15 (ZINB_PROFILE), so under the uniform
    # prior the posterior of zi is close to half-normal with SD 1/sqrt(c): median 0.674/sqrt(c),
    # 95% quantile 1.96/sqrt(c). 25%: the profile is not the integrated likelihood, and c
    # itself varies by 12% over that range (Monte Carlo error of the quantiles from 600 draws:
    # 5-10%)
    zi = post["zi"].values.ravel()
    c = np.mean([dev / z**2 for z, dev in ZINB_PROFILE.items()])
    assert np.quantile(zi, 0.5) == pytest.approx(0.674 / np.sqrt(c), rel=0.25)
    assert np.quantile(zi, 0.95) == pytest.approx(1.96 / np.sqrt(c), rel=0.25)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["zip_fit", "zinb_fit"])
def test_predictions_simulations_and_summaries(which, request, tmp_path):
    fit = request.getfixturevalue(which)
    data = pd.read_csv(DATA)
    new = data.iloc[:5]
    zi = fit.idata["posterior"]["zi"].values[..., None]
    linear = np.asarray(fit.predict(new, kind="linear"))
    mean = np.asarray(fit.predict(new, kind="mean"))
    np.testing.assert_allclose(mean, (1 - zi) * np.exp(linear), rtol=1e-12)
    pps = np.asarray(fit.predict(new, kind="pps", random_seed=1))
    assert pps.dtype.kind == "i" and (pps >= 0).all()
    # the replicated counts average to the mean (1 - zi) λ, and have the share of zeros
    # zi + (1 - zi) f(0) of the family, draw by draw
    se = pps.std(axis=(0, 1)) / np.sqrt(pps[..., 0].size)
    assert np.all(np.abs(pps.mean(axis=(0, 1)) - mean.mean(axis=(0, 1))) < 4.5 * se)
    sim = fit.simulate_new_groups(
        200,
        x=pd.DataFrame({"spp": ["GP", "DM"], "mined": ["no", "no"]}),
        observations=True,
        random_seed=3,
    )
    assert sim.data["count"].dtype.kind == "i"
    assert abs(sim.data["count"].mean() - sim.data["mean"].mean()) < 4.5 * sim.data[
        "count"
    ].std() / np.sqrt(len(sim.data))
    # conditional effects on the response scale are the population means (1 - zi) exp(X b)
    effects = fit.conditional_effects("mined")
    population = fit.predict(effects[["spp", "mined"]], groups="population", kind="mean")
    np.testing.assert_allclose(
        effects["mean"], np.asarray(population).mean(axis=(0, 1)), rtol=1e-10
    )
    assert "ZI" in str(fit.model.equations())
    with pytest.raises(SummaryError, match=r"No latent-scale residual variance for the zero"):
        fit.icc()
    r2 = fit.r2()
    assert 0 < float(r2.loc["marginal", "mean"]) < float(r2.loc["conditional", "mean"]) < 1
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit.plot_ppc()
    plt.close("all")
    assert np.isfinite(fit.loo()["elpd"])
    again = hb.load(fit.save(tmp_path / "zi"))
    np.testing.assert_array_equal(again.idata["posterior"]["zi"].values, zi[..., 0])
    assert again.design.family.name == fit.design.family.name


@pytest.mark.slow
@pytest.mark.parametrize("family", ["zero_inflated_poisson", "zero_inflated_negativebinomial"])
def test_recovers_known_parameters(family):
    rng = np.random.default_rng(8)
    J, n = 30, 20
    truth = {"Intercept": 1.0, "x": 0.5, "sd": 0.6, "shape": 2.0, "zi": 0.3}
    g = np.repeat(np.arange(J), n)
    x = rng.normal(size=J * n)
    u = rng.normal(0, truth["sd"], J)
    mu = np.exp(truth["Intercept"] + truth["x"] * x + u[g])
    if family == "zero_inflated_poisson":
        del truth["shape"]
        y = rng.poisson(mu)
    else:
        y = rng.negative_binomial(truth["shape"], truth["shape"] / (truth["shape"] + mu))
    y[rng.random(J * n) < truth["zi"]] = 0
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    model = hb.Model("y ~ x + (1 | g)", data, family=family)
    post = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=2).idata["posterior"]
    draws = {
        "Intercept": post["b"].sel(term="Intercept").values,
        "x": post["b"].sel(term="x").values,
        "sd": post["sd|g"].values,
        "zi": post["zi"].values,
        **({"shape": post["shape"].values} if "shape" in truth else {}),
    }
    # several parameters at once: each within 2.58 posterior SDs of the truth (99% each, so
    # that all five hold with probability 95% by Bonferroni; five 90% intervals would all cover
    # the truth only 59% of the time)
    for name, value in truth.items():
        mean, sd = draws[name].mean(), draws[name].std()
        assert abs(mean - value) < 2.58 * sd, (name, mean, sd, value)
