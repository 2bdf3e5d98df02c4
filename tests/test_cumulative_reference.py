"""The cumulative (ordinal logit) family through the whole pipeline, on real and simulated data.

Real data: ordinal's ``wine`` (Randall 1989; 72 bitterness ratings in 5 ordered categories by 9
judges), ``rating ~ temp + contact + (1 | judge)``. Reference numbers from
``tests/reference_cumulative.R`` (which also writes ``tests/data/wine.csv``): ``ordinal::clmm``
(Laplace, ML) and ``brms::brm(family = cumulative("logit"))`` with brms's default priors, which
the fit here uses too (flat on the effects, ``student_t(3, 0, 2.5)`` on the centred cut-points
and on the judge SD). R is not needed to run these tests.
"""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit
from scipy.special import expit

import hierbayes as hb
from hierbayes.diagnostics import describe_parameter
from hierbayes.errors import ArgumentError, SummaryError
from hierbayes.loglik import pointwise_log_likelihood
from hierbayes.predict.ordinal import check_kind

DATA = Path(__file__).parent / "data" / "wine.csv"
LEVELS = ("1", "2", "3", "4", "5")
CUTS = ["1|2", "2|3", "3|4", "4|5"]
TERMS = ["temp[T.warm]", "contact[T.yes]"]

# ordinal::clmm (tests/reference_cumulative.R)
CLMM_BETA = [3.062997, 1.834885]
CLMM_CUT = [-1.623667, 1.513365, 4.228527, 6.088773]
CLMM_SD_JUDGE = 1.131133

# brms, cumulative("logit"), 4 chains x 5000 draws (tests/reference_cumulative.R, WITH_BRMS=1):
# posterior means and SDs of the cut-points 1|2..4|5, temp, contact and the judge SD
BRMS_MEAN = [-1.6709, 1.4960, 4.2051, 6.1185, 3.0860, 1.8469, 1.4136]
BRMS_SD = [0.7572, 0.6673, 0.8439, 0.9982, 0.5975, 0.5134, 0.5413]
BRMS_ESS = 4000  # bulk ESS of the effects and cut-points 8,900-14,900; the SD's taken lower


def wine() -> pd.DataFrame:
    data = pd.read_csv(DATA, dtype={"judge": str, "bottle": str})
    data["rating"] = pd.Categorical(data["rating"].astype(str), categories=LEVELS, ordered=True)
    return data


BRMS_PRIORS = {
    "b|temp[T.warm]": hb.Prior("Flat"),
    "b|contact[T.yes]": hb.Prior("Flat"),
    "sd|judge": hb.Prior("HalfStudentT", nu=3, sigma=2.5),
}


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    model = hb.Model(
        "rating ~ temp + contact + (1 | judge)", wine(), family="cumulative", priors=BRMS_PRIORS
    )
    return quiet_fit(model, draws=1000, tune=500, chains=4, random_seed=1)


def _draws(fit: hb.Fit, name: str, **sel) -> np.ndarray:
    return fit.idata["posterior"][name].sel(sel).transpose("chain", "draw").values


def test_default_priors_are_listed():
    model = hb.Model("rating ~ temp + contact + (1 | judge)", wine(), family="cumulative")
    priors = model.priors
    assert str(priors.loc["cutpoints", "prior"]) == "StudentT(mu=0, nu=3, sigma=2.5)"
    assert "Intercept" not in priors.index  # the cut-points take its place
    assert list(model.design.fixed_columns) == TERMS


@pytest.mark.slow
def test_agrees_with_ordinal_clmm(fit):
    # Posterior means against the Laplace ML estimates: within 0.3 posterior SD plus 4 Monte
    # Carlo SEs. Weak priors leave the two apart by the posterior's skewness only (4 x 1000
    # draws: 0.02-0.16 SD for the effects and cut-points). The judge SD's posterior median
    # within 20% (plus 4 Monte Carlo SEs of the median) of the ML estimate, which lies in the
    # posterior's central half: with 9 judges the SD's posterior is right-skewed and ML (a mode,
    # biased low like any ML variance) sits below its median (4 x 1000 draws: 1.31 vs 1.13).
    pairs = [(("b", {"term": t}), v) for t, v in zip(TERMS, CLMM_BETA, strict=True)]
    pairs += [(("cutpoints", {"cutpoint": c}), v) for c, v in zip(CUTS, CLMM_CUT, strict=True)]
    for (name, sel), value in pairs:
        chains = _draws(fit, name, **sel)
        sd = chains.std()
        mcse = sd / np.sqrt(float(az.ess(chains)))
        assert abs(chains.mean() - value) < 0.3 * sd + 4 * mcse, (name, sel, chains.mean(), value)
    chains = _draws(fit, "sd|judge", judge__term="Intercept")
    median = np.median(chains)
    mcse = float(az.mcse(chains, method="median"))
    assert abs(median / CLMM_SD_JUDGE - 1) < 0.2 + 4 * mcse / CLMM_SD_JUDGE, (median, mcse)
    lo, hi = np.quantile(chains, [0.25, 0.75])
    assert lo < CLMM_SD_JUDGE < hi, (lo, hi)


@pytest.mark.slow
def test_agrees_with_brms(fit):
    # The same model and priors as brms: the posterior means differ by Monte Carlo error only,
    # here within 4.5 SEs of the difference (ours from the fit's ESS, brms's from its own); the
    # posterior SDs within 4.5 relative SEs (1/sqrt(2 ESS)) of each other
    names = [("cutpoints", {"cutpoint": c}) for c in CUTS] + [("b", {"term": t}) for t in TERMS]
    names += [("sd|judge", {"judge__term": "Intercept"})]
    for (name, sel), mean, sd in zip(names, BRMS_MEAN, BRMS_SD, strict=True):
        chains = _draws(fit, name, **sel)
        ess = float(az.ess(chains))
        se = np.sqrt(chains.var() / ess + sd**2 / BRMS_ESS)
        assert abs(chains.mean() - mean) < 4.5 * se, (name, sel, chains.mean(), mean, se)
        rel = np.sqrt(1 / (2 * ess) + 1 / (2 * BRMS_ESS))
        assert abs(chains.std() / sd - 1) < 4.5 * rel, (name, sel, chains.std(), sd)


def test_cut_points_shift_exactly_with_the_centring(fit):
    post = fit.idata["posterior"]
    means = fit.design.X.mean(axis=0)
    shift = post["beta"].values @ means
    np.testing.assert_allclose(
        post["cutpoints"].values, post["cutpoints_c"].values + shift[..., None], rtol=1e-12
    )
    assert (np.diff(post["cutpoints"].values, axis=-1) > 0).all()
    assert list(post["cutpoints"]["cutpoint"].values) == CUTS


@pytest.mark.slow
def test_predictions_log_likelihood_and_summaries(fit):
    post = fit.idata["posterior"]
    linear = fit.predict(kind="linear")
    # η = X b + u_judge, without an intercept
    b = post["b"].sel(term=TERMS).values
    u = post["u|judge"].sel(judge__term="Intercept")
    codes = [list(u["judge"].values).index(j) for j in wine()["judge"]]
    expected = b @ fit.design.X.T + u.values[:, :, codes]
    np.testing.assert_allclose(linear.values, expected, rtol=1e-12, atol=1e-12)
    # P(y = k) = logistic(c_k - η) - logistic(c_{k-1} - η)
    prob = fit.predict(kind="prob")
    assert prob.dims == ("chain", "draw", "obs", "category")
    assert list(prob["category"].values) == list(LEVELS)
    cum = expit(post["cutpoints"].values[:, :, None, :] - linear.values[..., None])
    by_hand = np.diff(np.concatenate([0 * cum[..., :1], cum, 1 + 0 * cum[..., :1]], -1), axis=-1)
    np.testing.assert_allclose(prob.values, by_hand, rtol=1e-10, atol=1e-14)
    mean = fit.predict(kind="mean")
    np.testing.assert_allclose(mean.values, by_hand @ np.arange(1.0, 6.0), rtol=1e-12)
    # the pointwise log-likelihood is the log probability of the observed category
    y = fit.design.y.astype(int) - 1
    table = pointwise_log_likelihood(fit.idata, fit.design)["log_likelihood"]["rating"].values
    np.testing.assert_allclose(
        table, np.log(np.take_along_axis(by_hand, y[None, None, :, None], -1)[..., 0]), rtol=1e-9
    )
    assert np.isfinite(fit.loo()["elpd"])
    # draws of category labels; their shares estimate the mean probabilities
    pps = fit.predict(kind="pps", random_seed=1)
    assert set(np.unique(pps.values)) <= set(LEVELS)
    shares = fit.predict(kind="pps", random_seed=1, summary=True)
    assert list(shares.columns) == list(LEVELS)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    S = pps.sizes["chain"] * pps.sizes["draw"]
    p = prob.mean(("chain", "draw")).values
    assert (np.abs(shares.to_numpy() - p) <= 4.5 * np.sqrt(p * (1 - p) / S) + 1e-9).all()
    table = fit.predict(kind="prob", summary=True)
    assert table.index.names == ["obs", "category"] and len(table) == 72 * 5
    # ICC on the latent scale: τ² / (τ² + π²/3)
    tau2 = post["sd|judge"].values[..., 0] ** 2
    icc = fit.icc()
    assert float(icc["mean"].iloc[0]) == pytest.approx((tau2 / (tau2 + np.pi**2 / 3)).mean())
    # Bayesian R² of brms for ordinal models: on the expected category number
    mu = mean.values.reshape(-1, 72)
    yy = fit.design.y
    var_fit = mu.var(axis=1, ddof=1)
    r2 = var_fit / (var_fit + (yy - mu).var(axis=1, ddof=1))
    assert float(fit.r2().loc["conditional", "mean"]) == pytest.approx(r2.mean(), rel=1e-10)
    fixed = fit.summary().fixed  # cut-points first, as brms's Intercept[k]
    assert list(fixed.index) == [f"cutpoint[{c}]" for c in CUTS] + TERMS
    np.testing.assert_allclose(
        fixed["mean"].iloc[:4], post["cutpoints"].mean(("chain", "draw")).values
    )
    assert "cutpoint[1|2]" in str(fit.summary())
    # conditional effects on the response scale: the expected category, as predict's mean
    effects = fit.conditional_effects("temp")
    by_mean = fit.predict(
        pd.DataFrame({"temp": ["cold", "warm"], "contact": ["no", "no"]}),
        groups="population",
        kind="mean",
    ).mean(("chain", "draw"))
    assert effects["temp"].tolist() == ["cold", "warm"]
    assert effects["contact"].tolist() == ["no", "no"]  # the reference level
    np.testing.assert_allclose(effects["mean"], by_mean.values, rtol=1e-12)
    with pytest.raises(SummaryError, match=r"not available for the cumulative family"):
        fit.pooling()
    # convergence checks cover the cut-points
    ess = az.ess(post["cutpoints"].to_dataset())["cutpoints"].values
    assert fit.diagnostics.min_ess_bulk <= ess.min() + 1e-9
    assert describe_parameter("cutpoints", {"cutpoint": "1|2"}) == "the cut-point 1|2"
    text = str(fit.model.equations())
    assert "logit P(rating_ij ≤ k) = c_k − η_ij" in text and "γ_00" not in text
    gaussian = hb.Model("y ~ x", pd.DataFrame({"y": [1.0, 2, 4], "x": [0.0, 1, 3]})).design
    with pytest.raises(ArgumentError, match=r"kind='prob'.*this model is gaussian"):
        check_kind(gaussian, "prob", "existing")
    # the cut-points are a vector per draw: hypotheses name the effects, not them
    assert fit.hypothesis("temp[T.warm] > 0")["post_prob"].iloc[0] > 0.99
    with pytest.raises(SummaryError, match=r"cutpoints"):
        fit.hypothesis("cutpoints > 0")


@pytest.mark.slow
def test_new_data_new_groups_checks_and_saving(fit, tmp_path):
    new = pd.DataFrame({"temp": ["cold", "warm"], "contact": ["no", "yes"], "judge": ["x", "x"]})
    prob = fit.predict(new, groups="new", kind="prob", random_seed=2)
    np.testing.assert_allclose(prob.sum("category").values, 1.0, rtol=1e-12)
    # warm with contact rates higher than cold without, draw by draw
    mean = fit.predict(new, groups="population", kind="mean").values
    assert (mean[..., 1] > mean[..., 0]).all()
    sim = fit.simulate_new_groups(
        50,
        x=pd.DataFrame({"temp": ["cold", "warm"], "contact": ["no", "no"]}),
        observations=True,
        random_seed=3,
    )
    assert set(sim.data["rating"]) <= set(LEVELS)
    assert ((sim.data["mean"] >= 1) & (sim.data["mean"] <= 5)).all()
    idata = fit.posterior_predictive(random_seed=4)
    replicated = idata["posterior_predictive"]["rating"].values
    assert set(np.unique(replicated)) <= {1, 2, 3, 4, 5}
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, axes = fit.plot_ppc()  # a bar per category, labelled
    assert [t.get_text() for t in axes[0].get_xticklabels()] == list(LEVELS)
    plt.close("all")
    again = hb.load(fit.save(tmp_path / "wine"))
    assert again.design.response_levels == LEVELS
    np.testing.assert_array_equal(
        again.predict(kind="prob").values, fit.predict(kind="prob").values
    )


@pytest.mark.slow
def test_recovers_known_parameters():
    rng = np.random.default_rng(4)
    J, n = 40, 20
    truth = {"x": 0.8, "z": -0.5, "sd": 0.7}
    cut = np.array([-1.0, 0.3, 1.6])
    g = np.repeat(np.arange(J), n)
    x = rng.normal(1.0, 1.0, J * n)  # not centred: the cut-points shift with the centring
    z = rng.binomial(1, 0.4, J * n)
    eta = truth["x"] * x + truth["z"] * z + rng.normal(0, truth["sd"], J)[g]
    y = 1 + (rng.logistic(size=J * n)[:, None] > cut[None, :] - eta[:, None]).sum(axis=1)
    data = pd.DataFrame({"y": y, "x": x, "z": z, "g": g.astype(str)})
    model = hb.Model("y ~ x + z + (1 | g)", data, family="cumulative")
    post = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=2).idata["posterior"]
    draws = {
        "x": post["b"].sel(term="x").values,
        "z": post["b"].sel(term="z").values,
        "sd": post["sd|g"].values,
        **{f"c{k}": post["cutpoints"].values[..., k] for k in range(3)},
    }
    for name, value in {**truth, **{f"c{k}": c for k, c in enumerate(cut)}}.items():
        lo, hi = np.quantile(draws[name], [0.05, 0.95])
        assert lo < value < hi, (name, lo, hi, value)
