"""icc() and r2(): hand computations draw by draw, and recovery of a known ICC."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fakes import fake_fit
from helpers import synthetic_fit
from scipy.special import expit

import hierbayes as hb


def _flat(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw", ...).values).reshape(-1, *da.shape[2:])


def _hdi(values: np.ndarray, like: xr.DataArray) -> np.ndarray:
    da = xr.DataArray(
        values.reshape(like.sizes["chain"], like.sizes["draw"], *values.shape[1:]),
        dims=("chain", "draw", *[f"d{i}" for i in range(values.ndim - 1)]),
    )
    hdi = az.hdi(da, prob=0.94)
    return np.stack([hdi.sel(ci_bound="lower").values, hdi.sel(ci_bound="upper").values])


@pytest.mark.slow
def test_icc_of_a_random_intercept_covers_the_simulated_value(ri_sim, ri_sim_fit: hb.Fit):
    _, truth = ri_sim
    table = ri_sim_fit.icc()
    assert table["factor"].tolist() == ["g"]
    post = ri_sim_fit.idata["posterior"]
    tau2 = _flat(post["sd|g"])[:, 0] ** 2
    sigma2 = _flat(post["sigma"]) ** 2
    draws = tau2 / (tau2 + sigma2)
    assert table["mean"].iloc[0] == pytest.approx(draws.mean(), rel=1e-12)
    np.testing.assert_allclose(table[["hdi_3%", "hdi_97%"]].iloc[0], _hdi(draws, post["sigma"]))
    icc_true = truth["tau"] ** 2 / (truth["tau"] ** 2 + truth["sigma"] ** 2)
    assert table["hdi_3%"].iloc[0] < icc_true < table["hdi_97%"].iloc[0]


@pytest.mark.slow
def test_icc_with_a_varying_slope_depends_on_the_predictor(sleep_fit: hb.Fit, sleep):
    post = sleep_fit.idata["posterior"]
    sd = _flat(post["sd|Subject"])
    cov = _flat(post["cor|Subject"])[:, 0, 1] * sd[:, 0] * sd[:, 1]
    sigma2 = _flat(post["sigma"]) ** 2

    def share(days: np.ndarray) -> np.ndarray:
        v = sd[:, :1] ** 2 + 2 * cov[:, None] * days + sd[:, 1:] ** 2 * days**2
        return v / (v + sigma2[:, None])

    table = sleep_fit.icc(at={"Days": [0, 5, 9]})
    assert list(table.columns[:2]) == ["factor", "Days"]
    assert table["Days"].tolist() == [0, 5, 9]
    np.testing.assert_allclose(table["mean"], share(np.array([0.0, 5.0, 9.0])).mean(axis=0))
    # without at=: the between-group variance averaged over the observed Days
    days = sleep["Days"].to_numpy(dtype=float)
    v = (sd[:, :1] ** 2 + 2 * cov[:, None] * days + sd[:, 1:] ** 2 * days**2).mean(axis=1)
    assert sleep_fit.icc()["mean"].iloc[0] == pytest.approx((v / (v + sigma2)).mean())


def test_icc_of_crossed_factors_and_on_the_latent_scale():
    rng = np.random.default_rng(2)
    n = 80
    df = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "k": rng.poisson(2.0, n).astype(float),
            "s": rng.integers(0, 2, n).astype(float),
            "x": rng.normal(size=n),
            "f": rng.choice(["a", "b", "c"], n),
            "h": rng.choice(["d", "e", "g", "i"], n),
        }
    )
    fit = synthetic_fit(hb.Model("y ~ x + (1 | f) + (1 | h)", data=df), seed=1)
    post = fit.idata["posterior"]
    tf, th = _flat(post["sd|f"])[:, 0] ** 2, _flat(post["sd|h"])[:, 0] ** 2
    s2 = _flat(post["sigma"]) ** 2
    table = fit.icc().set_index("factor")
    assert table.loc["f", "mean"] == pytest.approx((tf / (tf + th + s2)).mean())
    assert table.loc["h", "mean"] == pytest.approx((th / (tf + th + s2)).mean())

    with pytest.raises(hb.SummaryError, match="equal-length value lists"):
        synthetic_fit(hb.Model("y ~ (1 + x + k | f)", data=df), seed=1).icc(
            at={"x": [0.0, 1.0], "k": [1.0, 2.0, 3.0]}
        )

    fit = synthetic_fit(hb.Model("s ~ x + (1 | f)", data=df, family="bernoulli"), seed=2)
    tau2 = _flat(fit.idata["posterior"]["sd|f"])[:, 0] ** 2
    assert fit.icc()["mean"].iloc[0] == pytest.approx((tau2 / (tau2 + np.pi**2 / 3)).mean())

    fit = synthetic_fit(hb.Model("k ~ x + (1 | f)", data=df, family="poisson"), seed=3)
    post = fit.idata["posterior"]
    tau2 = _flat(post["sd|f"])[:, 0] ** 2
    b = _flat(post["b"])
    fixed_mean = b[:, 0] + b[:, 1] * df["x"].mean()
    resid = np.log1p(1.0 / np.exp(fixed_mean + tau2 / 2))
    assert fit.icc()["mean"].iloc[0] == pytest.approx((tau2 / (tau2 + resid)).mean())


@pytest.mark.slow
def test_icc_at_errors(sleep_fit: hb.Fit, ri_sim_fit: hb.Fit):
    with pytest.raises(hb.SummaryError, match="no coefficient other than the intercept varies"):
        ri_sim_fit.icc(at={"x": [0.0]})
    with pytest.raises(hb.SummaryError, match="unknown: \\['x'\\], missing: \\['Days'\\]"):
        sleep_fit.icc(at={"x": [1.0]})
    with pytest.raises(hb.SummaryError, match="at= has no rows"):
        sleep_fit.icc(at=pd.DataFrame({"Days": []}))
    with pytest.raises(hb.SummaryError, match="Could not evaluate the group term"):
        sleep_fit.icc(at={"Days": ["a"]})


@pytest.mark.slow
def test_bayesian_r2_by_hand(sleep_fit: hb.Fit, sleep):
    post = sleep_fit.idata["posterior"]
    b = _flat(post["b"])
    u = _flat(post["u|Subject"])  # (S, subjects, terms), subjects sorted like the labels
    codes = pd.Categorical(sleep["Subject"].astype(str)).codes
    days, y = sleep["Days"].to_numpy(dtype=float), sleep["Reaction"].to_numpy()
    fixed = b[:, :1] + b[:, 1:] * days
    full = fixed + u[:, codes, 0] + u[:, codes, 1] * days

    def r2(fitted: np.ndarray) -> np.ndarray:
        v_fit = fitted.var(axis=1, ddof=1)
        return v_fit / (v_fit + (y - fitted).var(axis=1, ddof=1))

    table = sleep_fit.r2()
    assert table.index.tolist() == ["marginal", "conditional"]
    assert table.loc["conditional", "mean"] == pytest.approx(r2(full).mean(), rel=1e-10)
    assert table.loc["marginal", "mean"] == pytest.approx(r2(fixed).mean(), rel=1e-10)
    lo, hi = _hdi(r2(full), post["sigma"])
    assert table.loc["conditional", "hdi_3%"] == pytest.approx(lo)
    assert table.loc["conditional", "hdi_97%"] == pytest.approx(hi)
    bounds = table[["hdi_3%", "hdi_97%"]].to_numpy()
    assert ((bounds >= 0) & (bounds <= 1)).all()
    assert table.loc["marginal", "mean"] < table.loc["conditional", "mean"]


def test_r2_of_a_binomial_model_uses_expected_counts():
    cbpp = hb.datasets.load("cbpp")
    model = hb.Model("incidence | trials(size) ~ 1 + (1 | herd)", data=cbpp, family="binomial")
    fit = synthetic_fit(model, seed=4)
    post = fit.idata["posterior"]
    b = _flat(post["b"])[:, 0]
    u = _flat(post["u|herd"])[:, :, 0]
    levels = list(model.design.blocks[0].levels)
    codes = np.array([levels.index(str(h)) for h in cbpp["herd"]])
    mu = cbpp["size"].to_numpy() * expit(b[:, None] + u[:, codes])
    y = cbpp["incidence"].to_numpy()
    v_fit = mu.var(axis=1, ddof=1)
    expected = v_fit / (v_fit + (y - mu).var(axis=1, ddof=1))
    table = fit.r2()
    assert table.loc["conditional", "mean"] == pytest.approx(expected.mean(), rel=1e-10)
    assert 0 <= table.loc["marginal", "hdi_3%"] <= table.loc["marginal", "hdi_97%"] <= 1


def test_r2_of_an_intercept_only_fixed_part_is_exactly_zero():
    # the fitted values X b are one number per draw, but a matrix product over 7185 rows rounds
    # some of them differently (R² about 1e-31 before): the variance of a constant is 0
    hsb = hb.datasets.load("hsb")
    fit = fake_fit(
        hb.Model("mAch ~ 1 + (1 | school)", data=hsb), b={"Intercept": 12.637}, draws=100
    )
    table = fit.r2()
    assert table.loc["marginal", "mean"] == 0.0 and table.loc["marginal", "sd"] == 0.0
    assert table.loc["conditional", "mean"] > 0
