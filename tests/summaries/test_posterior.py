"""Draw helpers: factor selection, group-effect covariance, linear predictor, replicates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_fit

import hierbayes as hb
from hierbayes.summaries.posterior import (
    factor_blocks,
    factor_covariance,
    flatten,
    linear_predictor,
    predictive_draws,
    single_factor,
    unflatten,
)


@pytest.fixture(scope="module")
def crossed() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "f": rng.choice(["a1", "a2", "a3"], n),
            "h": rng.choice(["b1", "b2", "b3", "b4"], n),
            "k": rng.integers(0, 5, n).astype(float),
        }
    )


def test_factor_selection_errors(crossed):
    design = hb.Model("y ~ x + (1 | f) + (1 | h)", data=crossed).design
    with pytest.raises(hb.SummaryError, match="several grouping factors \\(f, h\\)"):
        factor_blocks(design)
    with pytest.raises(hb.SummaryError, match="Unknown grouping factor 'c'"):
        factor_blocks(design, "c")
    assert factor_blocks(design, "h").levels == ("b1", "b2", "b3", "b4")
    with pytest.raises(hb.SummaryError, match="pooling\\(\\) is defined for models with one"):
        single_factor(design, "pooling()")
    plain = hb.Model("y ~ x", data=crossed).design
    with pytest.raises(hb.SummaryError, match="no group-level terms"):
        factor_blocks(plain)


def test_covariance_of_correlated_uncorrelated_and_stacked_terms(crossed):
    fit = synthetic_fit(hb.Model("y ~ x + (1 + x | f)", data=crossed), seed=1)
    post = fit.idata["posterior"].to_dataset()
    T = factor_covariance(post, factor_blocks(fit.design))
    sd = flatten(post["sd|f"])
    rho = flatten(post["cor|f"])[:, 0, 1]
    np.testing.assert_allclose(T[:, 0, 0], sd[:, 0] ** 2)
    np.testing.assert_allclose(T[:, 1, 1], sd[:, 1] ** 2)
    np.testing.assert_allclose(T[:, 0, 1], rho * sd[:, 0] * sd[:, 1])

    fit = synthetic_fit(hb.Model("y ~ x + (1 | f) + (0 + x | f)", data=crossed), seed=2)
    post = fit.idata["posterior"].to_dataset()
    fb = factor_blocks(fit.design)
    assert fb.terms == ("Intercept", "x")
    T = factor_covariance(post, fb)
    np.testing.assert_allclose(T[:, 0, 0], flatten(post["sd|f"])[:, 0] ** 2)
    np.testing.assert_allclose(T[:, 1, 1], flatten(post["sd|f.2"])[:, 0] ** 2)
    assert np.all(T[:, 0, 1] == 0)


def test_linear_predictor_draw_by_draw(crossed):
    fit = synthetic_fit(hb.Model("y ~ x + (1 + x | f) + (1 | h)", data=crossed), seed=3)
    post = fit.idata["posterior"]
    s = 7  # flat index: chain 0, draw 7
    b = post["b"].isel(chain=0, draw=s).values
    ua = post["u|f"].isel(chain=0, draw=s).sel(f=crossed["f"].to_numpy()).values
    ub = post["u|h"].isel(chain=0, draw=s).sel(h=crossed["h"].to_numpy()).values[:, 0]
    x = crossed["x"].to_numpy()
    expected = b[0] + b[1] * x + ua[:, 0] + ua[:, 1] * x + ub
    eta = np.concatenate(list(linear_predictor(fit, chunk=4)), axis=0)
    assert eta.shape == (100, 60)
    np.testing.assert_allclose(eta[s], expected)
    fixed = np.concatenate(list(linear_predictor(fit, groups=False, draws=np.array([s]))))
    np.testing.assert_allclose(fixed[0], b[0] + b[1] * x)


def test_unflatten_inverts_flatten(crossed):
    fit = synthetic_fit(hb.Model("y ~ x + (1 | f)", data=crossed), seed=4)
    post = fit.idata["posterior"].to_dataset()
    da = unflatten(flatten(post["u|f"]), post, ("f", "t"), {"f": ["a1", "a2", "a3"]})
    np.testing.assert_array_equal(da.values, post["u|f"].values)
    assert da.dims == ("chain", "draw", "f", "t")


def test_predictive_draws_follow_the_family(crossed):
    rng = np.random.default_rng
    for family, formula in [
        ("poisson", "k ~ x + (1 | f)"),
        ("binomial", "k | trials(t) ~ x + (1 | f)"),
        ("gaussian", "y ~ x + (1 | f)"),
    ]:
        data = crossed.assign(t=crossed["k"] + 3)
        fit = synthetic_fit(hb.Model(formula, data=data, family=family), seed=5)
        reps = predictive_draws(fit, 30, rng(0))
        assert reps.shape == (30, 60)
        np.testing.assert_array_equal(reps, predictive_draws(fit, 30, rng(0)))
        if family != "gaussian":
            assert np.all(reps >= 0) and np.all(reps == np.round(reps))
        if family == "binomial":
            assert np.all(reps <= data["t"].to_numpy())
    gauss = predictive_draws(fit, 500, rng(1))  # all 100 draws: the gaussian mean and sd
    eta = np.concatenate(list(linear_predictor(fit)))
    sigma = flatten(fit.idata["posterior"]["sigma"])
    z = (gauss - eta) / sigma[:, None]
    assert gauss.shape == (100, 60)
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05  # 6000 standard normals
