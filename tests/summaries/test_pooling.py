"""pooling() and shrinkage(): labels, the three estimates and the shrinkage factor, checked draw
by draw against hand computations, statsmodels and simulated data."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
import xarray as xr
from helpers import synthetic_fit
from scipy.special import expit
from scipy.stats import spearmanr

import hierbayes as hb
from hierbayes import summaries
from hierbayes.summaries.pooling import shrinkage_draws


def _flat(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw", ...).values).reshape(-1, *da.shape[2:])


def _draws(values: np.ndarray, like: xr.DataArray) -> xr.DataArray:
    """Flat draws (S, ...) back to (chain, draw, ...) like a posterior variable."""
    return xr.DataArray(
        values.reshape(like.sizes["chain"], like.sizes["draw"], *values.shape[1:]),
        dims=("chain", "draw", *[f"d{i}" for i in range(values.ndim - 1)]),
    )


@pytest.mark.slow
def test_pooling_on_sleepstudy(sleep_fit: hb.Fit, sleep: pd.DataFrame):
    table = sleep_fit.pooling()
    assert list(table.columns) == [
        "factor", "group", "term", "n", "no_pool", "partial", "hdi_3%", "hdi_97%",
        "population", "complete_pool", "reason",
    ]  # fmt: skip
    subjects = [str(s) for s in sorted(sleep["Subject"].unique())]
    assert table["group"].tolist()[::2] == subjects
    assert table["term"].tolist()[:4] == ["Intercept", "Days"] * 2
    assert (table["n"] == 10).all() and (table["reason"] == "").all()
    for subject in ["308", "335"]:
        rows = sleep[sleep["Subject"].astype(str) == subject]
        slope, intercept = np.polyfit(rows["Days"], rows["Reaction"], 1)
        own = table[table["group"] == subject].set_index("term")["no_pool"]
        np.testing.assert_allclose(own[["Intercept", "Days"]], [intercept, slope], rtol=1e-9)
    # no level-2 predictors: the partial-pooling estimate is lme4's coef(), b + u
    coef = sleep_fit.coef()
    np.testing.assert_allclose(table["partial"], coef["mean"])
    np.testing.assert_allclose(table["hdi_3%"], coef["hdi_3%"])
    fixef = sleep_fit.fixef()["mean"]
    np.testing.assert_allclose(table["population"], fixef[table["term"]].to_numpy())
    ols = smf.ols("Reaction ~ Days", data=sleep).fit().params
    np.testing.assert_allclose(table["complete_pool"], ols[table["term"]].to_numpy(), rtol=1e-10)
    pd.testing.assert_frame_equal(table, summaries.pooling(sleep_fit))


@pytest.mark.slow
def test_population_includes_the_groups_level2_predictors(radon_fit: hb.Fit):
    radon = hb.datasets.load("radon")
    table = radon_fit.pooling()
    counties = radon.groupby("county")
    uranium = counties["uranium"].first()
    uranium.index = uranium.index.astype(str)
    uranium = uranium.loc[table["group"]].to_numpy()
    np.testing.assert_array_equal(table["n"], counties.size().loc[table["group"].astype(int)])
    post = radon_fit.idata["posterior"]
    b = post["b"]
    population = b.sel(term="Intercept") + b.sel(term="uranium") * xr.DataArray(
        uranium, dims="county", coords={"county": table["group"].tolist()}
    )
    np.testing.assert_allclose(table["population"], population.mean(("chain", "draw")))
    partial = population + post["u|county"].sel(county__term="Intercept")
    np.testing.assert_allclose(table["partial"], partial.mean(("chain", "draw")))
    hdi = az.hdi(partial, prob=0.94)
    np.testing.assert_allclose(table["hdi_97%"], hdi.sel(ci_bound="upper"))
    ols = smf.ols("log_radon ~ basement + uranium", data=radon).fit().params
    np.testing.assert_allclose(
        table["complete_pool"], ols["Intercept"] + ols["uranium"] * uranium, rtol=1e-10
    )


@pytest.mark.slow
def test_random_intercept_shrinkage_is_the_closed_form(ri_sim_fit: hb.Fit):
    table = ri_sim_fit.shrinkage()
    post = ri_sim_fit.idata["posterior"]
    tau2 = _flat(post["sd|g"])[:, 0] ** 2
    sigma2 = _flat(post["sigma"]) ** 2
    n = table["n"].to_numpy(dtype=float)
    lam = tau2[:, None] / (tau2[:, None] + sigma2[:, None] / n)
    expected = 1.0 - lam
    np.testing.assert_allclose(table["mean"], expected.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(table["sd"], expected.std(axis=0, ddof=1), rtol=1e-8)
    hdi = az.hdi(_draws(expected, post["sigma"]), prob=0.94)
    np.testing.assert_allclose(table["hdi_3%"], hdi.sel(ci_bound="lower"), rtol=1e-10)
    # groups with fewer observations shrink more
    assert spearmanr(table["n"], table["mean"]).statistic < -0.95
    assert table.loc[table["n"] == 1, "mean"].min() > table.loc[table["n"] > 100, "mean"].max()


@pytest.mark.slow
def test_partial_estimates_lie_between_no_pooling_and_population(ri_sim_fit: hb.Fit):
    pool = ri_sim_fit.pooling()
    post = ri_sim_fit.idata["posterior"]
    partial_draws = _flat(post["b"].sel(term="Intercept"))[:, None] + _flat(post["u|g"])[:, :, 0]
    tol = 0.05 * partial_draws.std(axis=0, ddof=1)  # 5% of a posterior SD
    low = np.minimum(pool["no_pool"], pool["population"]) - tol
    high = np.maximum(pool["no_pool"], pool["population"]) + tol
    assert ((pool["partial"] >= low) & (pool["partial"] <= high)).all()
    # the empirical factor agrees with the analytic one where the two estimates are far apart
    shrink = ri_sim_fit.shrinkage()
    far = (pool["no_pool"] - pool["population"]).abs() > 1.0  # half a residual SD
    assert far.sum() >= 10
    np.testing.assert_allclose(shrink.loc[far, "empirical"], shrink.loc[far, "mean"], atol=0.1)


@pytest.mark.slow
def test_matrix_shrinkage_for_correlated_slopes(sleep_fit: hb.Fit, sleep: pd.DataFrame):
    table = sleep_fit.shrinkage()
    post = sleep_fit.idata["posterior"]
    sd = _flat(post["sd|Subject"])
    rho = _flat(post["cor|Subject"])[:, 0, 1]
    sigma2 = _flat(post["sigma"]) ** 2
    T = np.stack(
        [
            np.stack([sd[:, 0] ** 2, rho * sd[:, 0] * sd[:, 1]], axis=1),
            np.stack([rho * sd[:, 0] * sd[:, 1], sd[:, 1] ** 2], axis=1),
        ],
        axis=1,
    )
    Z = np.column_stack([np.ones(10), np.arange(10.0)])  # every subject: days 0..9
    A = Z.T @ Z
    data_precision = A[None] / sigma2[:, None, None]
    lam = np.linalg.inv(np.linalg.inv(T) + data_precision) @ data_precision
    expected = 1.0 - np.diagonal(lam, axis1=1, axis2=2)
    mine = table[table["group"] == "308"].set_index("term")
    np.testing.assert_allclose(mine.loc[["Intercept", "Days"], "mean"], expected.mean(axis=0))
    # one coefficient: the matrix formula reduces to the scalar closed form
    scalar = shrinkage_draws(np.array([[[4.0]]]), np.array([[[3.0]]]), np.array([6.0]))
    assert scalar[0, 0, 0] == pytest.approx((6.0 / 3) / (4.0 + 6.0 / 3))


def test_non_gaussian_shrinkage_uses_working_weights():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(6), np.array([3, 5, 8, 12, 20, 40]))
    x = rng.normal(size=g.size)
    df = pd.DataFrame(
        {"y": rng.integers(0, 2, g.size).astype(float), "x": x, "g": [f"g{j}" for j in g]}
    )
    fit = synthetic_fit(hb.Model("y ~ x + (1 + x | g)", data=df, family="bernoulli"), seed=9)
    table = summaries.shrinkage(fit)
    post = fit.idata["posterior"]
    b = post["b"].mean(("chain", "draw")).values
    u = post["u|g"].mean(("chain", "draw")).values
    eta = b[0] + b[1] * x + u[g, 0] + u[g, 1] * x
    w = expit(eta) * (1 - expit(eta))
    sd = _flat(post["sd|g"])
    rho = _flat(post["cor|g"])[:, 0, 1]
    T = np.empty((sd.shape[0], 2, 2))
    T[:, 0, 0], T[:, 1, 1] = sd[:, 0] ** 2, sd[:, 1] ** 2
    T[:, 0, 1] = T[:, 1, 0] = rho * sd[:, 0] * sd[:, 1]
    for j in (0, 5):
        Z = np.column_stack([np.ones((g == j).sum()), x[g == j]])
        A = Z.T @ (w[g == j, None] * Z)
        lam = np.linalg.inv(np.linalg.inv(T) + A) @ A
        expected = 1.0 - np.diagonal(lam, axis1=1, axis2=2)
        mine = table[table["group"] == f"g{j}"].set_index("term")
        np.testing.assert_allclose(mine.loc[["Intercept", "x"], "mean"], expected.mean(axis=0))


def test_pooling_needs_a_single_grouping_factor():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"y": rng.normal(size=30), "f": rng.choice(["a", "b"], 30), "h": rng.choice(["c", "d"], 30)}
    )
    fit = synthetic_fit(hb.Model("y ~ 1 + (1 | f) + (1 | h)", data=df), seed=0)
    with pytest.raises(hb.SummaryError, match="pooling\\(\\) is defined for models with one"):
        fit.pooling()
    with pytest.raises(hb.SummaryError, match="shrinkage\\(\\) is defined for models with one"):
        fit.shrinkage()
