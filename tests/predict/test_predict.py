"""predict(): existing, new and average groups; kinds; seeds (hand-made posteriors, no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fakes import fake_fit
from scipy.special import expit

import hierbayes as hb
from hierbayes.errors import MissingColumnError, UnknownGroupError
from hierbayes.predict import posterior_predictive, predict

S = 2 * 2000  # posterior draws of the fake fits below


def _data(seed: int = 0, n_groups: int = 6, n_per: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat([f"s{j}" for j in range(n_groups)], n_per)
    x = rng.normal(size=g.size)
    return pd.DataFrame({"y": rng.normal(size=g.size), "x": x, "g": g})


@pytest.fixture(scope="module")
def slopes_fit() -> hb.Fit:
    model = hb.Model("y ~ x + (1 + x | g)", data=_data())
    return fake_fit(model, draws=2000, sd={"g": [2.0, 0.5]}, rho={"g": 0.6}, seed=1)


def _flat(da: xr.DataArray) -> np.ndarray:
    return da.transpose("chain", "draw", ...).values.reshape(-1, *da.shape[2:])


def test_existing_groups_equal_hand_computation(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.5, -1.0, 2.0], "g": ["s1", "s4", "s1"]}, index=[10, 11, 12])
    pred = predict(slopes_fit, new, groups="existing", kind="linear")
    post = slopes_fit.idata["posterior"]
    b = post["b"]
    u = post["u|g"]
    for i, (x, g) in enumerate(zip(new["x"], new["g"], strict=True)):
        expected = (
            b.sel(term="Intercept")
            + u.sel(g=g, g__term="Intercept")
            + (b.sel(term="x") + u.sel(g=g, g__term="x")) * x
        )
        np.testing.assert_allclose(pred.isel(obs=i).values, expected.values, rtol=1e-12)
    assert pred.dims == ("chain", "draw", "obs")
    assert pred["obs"].values.tolist() == [10, 11, 12]


def test_unknown_group_is_an_error_pointing_to_new(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.0, 0.0], "g": ["s1", "zz"]})
    with pytest.raises(UnknownGroupError, match=r"'zz'.*groups='new'"):
        predict(slopes_fit, new, groups="existing")


def test_population_sets_group_effects_to_zero(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.5, 3.0]})  # no group column needed
    pred = predict(slopes_fit, new, groups="population", kind="linear")
    b = slopes_fit.idata["posterior"]["b"]
    for i, x in enumerate(new["x"]):
        expected = b.sel(term="Intercept") + b.sel(term="x") * x
        np.testing.assert_allclose(pred.isel(obs=i).values, expected.values, rtol=1e-12)


def test_same_seed_same_predictions(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["n1", "n2"]})
    first = predict(slopes_fit, new, groups="new", kind="pps", random_seed=5)
    again = predict(slopes_fit, new, groups="new", kind="pps", random_seed=5)
    other = predict(slopes_fit, new, groups="new", kind="pps", random_seed=6)
    xr.testing.assert_identical(first, again)
    assert not np.allclose(first.values, other.values)


def test_new_labels_share_within_and_are_independent_across(slopes_fit: hb.Fit) -> None:
    # rows 0/1: the same new label and x; rows 2/3: two other new labels at x = 0
    new = pd.DataFrame({"x": [1.0, 1.0, 0.0, 0.0], "g": ["n1", "n1", "n2", "n3"]})
    pred = _flat(predict(slopes_fit, new, groups="new", kind="linear", random_seed=1))
    np.testing.assert_array_equal(pred[:, 0], pred[:, 1])
    b0 = _flat(slopes_fit.idata["posterior"]["b"].sel(term="Intercept"))
    u2, u3 = pred[:, 2] - b0, pred[:, 3] - b0  # new intercept effects of n2 and n3
    # independent draws: correlation over S draws is 0 within 4 / sqrt(S) (its SE is 1/sqrt(S))
    assert abs(np.corrcoef(u2, u3)[0, 1]) < 4 / np.sqrt(S)
    assert not np.allclose(u2, u3)


def test_new_group_effects_keep_the_correlation(slopes_fit: hb.Fit) -> None:
    # intercept effect at x = 0, slope effect from x = 1 minus x = 0, for 300 new groups
    labels = [f"n{j}" for j in range(300)]
    new = pd.DataFrame({"x": np.tile([0.0, 1.0], 300), "g": np.repeat(labels, 2)})
    pred = _flat(predict(slopes_fit, new, groups="new", kind="linear", random_seed=2))
    b = _flat(slopes_fit.idata["posterior"]["b"])
    u0 = pred[:, 0::2] - b[:, [0]]
    u1 = pred[:, 1::2] - pred[:, 0::2] - b[:, [1]]
    post = slopes_fit.idata["posterior"]
    sd = _flat(post["sd|g"])
    cor = _flat(post["cor|g"])[:, 0, 1]
    cov01 = np.mean(sd[:, 0] * sd[:, 1] * cor)
    var0, var1 = np.mean(sd[:, 0] ** 2), np.mean(sd[:, 1] ** 2)
    n = u0.size
    # MC SE of a mean of products of N(0, T) draws: sqrt(mean(T00 T11 + T01^2) / n) (and
    # sqrt(2 mean(Tkk^2) / n) for variances); 4 SE tolerance
    t00, t11, t01 = sd[:, 0] ** 2, sd[:, 1] ** 2, sd[:, 0] * sd[:, 1] * cor
    assert abs(np.mean(u0 * u1) - cov01) < 4 * np.sqrt(np.mean(t00 * t11 + t01**2) / n)
    assert abs(np.mean(u0**2) - var0) < 4 * np.sqrt(2 * np.mean(t00**2) / n)
    assert abs(np.mean(u1**2) - var1) < 4 * np.sqrt(2 * np.mean(t11**2) / n)
    assert np.corrcoef(u0.ravel(), u1.ravel())[0, 1] > 0.5  # the fake posterior's rho is 0.6


def test_known_labels_keep_their_effects_under_new(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.3, 0.3], "g": ["s2", "brand_new"]})
    with_new = predict(slopes_fit, new, groups="new", kind="linear", random_seed=3)
    existing = predict(slopes_fit, new.iloc[[0]], groups="existing", kind="linear")
    np.testing.assert_array_equal(with_new.isel(obs=0).values, existing.isel(obs=0).values)


def test_nested_new_class_in_known_school_draws_only_the_class_effect() -> None:
    rng = np.random.default_rng(2)
    school = np.repeat(["A", "B", "C", "D"], 12)
    klass = np.tile(["k1", "k2", "k3"], 16)
    data = pd.DataFrame({"y": rng.normal(size=48), "school": school, "klass": klass})
    model = hb.Model("y ~ 1 + (1 | school/klass)", data=data)
    fit = fake_fit(model, draws=2000, sd={"school": [3.0], "school:klass": [0.5]}, jitter=0.0)
    new = pd.DataFrame({"school": ["A", "Z"], "klass": ["new", "new"]})
    pred = _flat(predict(fit, new, groups="new", kind="linear", random_seed=4))
    post = fit.idata["posterior"]
    b0 = _flat(post["b"].sel(term="Intercept"))
    u_school = _flat(post["u|school"].sel(school="A", school__term="Intercept"))
    class_effect = pred[:, 0] - b0 - u_school
    # the new class's effect ~ N(0, 0.5²): variance within 4 MC SE (sqrt(2/S) 0.25)
    assert abs(class_effect.var() - 0.25) < 4 * np.sqrt(2 / S) * 0.25
    # a new class in a new school adds both: variance 3² + 0.5²
    total = pred[:, 1] - b0
    assert abs(total.var() - 9.25) < 4 * np.sqrt(2 / S) * 9.25


def test_crossed_factors_each_handled() -> None:
    rng = np.random.default_rng(3)
    a = np.repeat(["a1", "a2", "a3", "a4"], 6)
    item = np.tile(["i1", "i2", "i3"], 8)
    data = pd.DataFrame({"y": rng.normal(size=24), "a": a, "item": item})
    model = hb.Model("y ~ 1 + (1 | a) + (1 | item)", data=data)
    fit = fake_fit(model, draws=2000, sd={"a": [2.0], "item": [1.0]}, jitter=0.0)
    new = pd.DataFrame({"a": ["new"], "item": ["i2"]})
    pred = _flat(predict(fit, new, groups="new", kind="linear", random_seed=5))[:, 0]
    post = fit.idata["posterior"]
    known = _flat(post["b"].sel(term="Intercept")) + _flat(
        post["u|item"].sel(item="i2", item__term="Intercept")
    )
    effect = pred - known
    assert abs(effect.var() - 4.0) < 4 * np.sqrt(2 / S) * 4.0


def test_kinds_for_a_logit_model() -> None:
    rng = np.random.default_rng(4)
    data = pd.DataFrame(
        {
            "k": rng.integers(0, 6, size=40),
            "n": np.full(40, 10),
            "x": rng.normal(size=40),
            "g": np.repeat(list("abcdefgh"), 5),
        }
    )
    model = hb.Model("k | trials(n) ~ x + (1 | g)", data=data, family="binomial")
    fit = fake_fit(model, draws=500, b={"Intercept": -0.5, "x": 0.8})
    new = pd.DataFrame({"x": [0.2, -1.0], "g": ["a", "h"], "n": [40, 3]})
    linear = predict(fit, new, kind="linear")
    mean = predict(fit, new, kind="mean")
    np.testing.assert_allclose(mean.values, expit(linear.values), rtol=1e-12)
    pps = predict(fit, new, kind="pps", random_seed=1)
    assert pps.dtype.kind == "i"
    assert (pps.isel(obs=0) <= 40).all() and (pps.isel(obs=1) <= 3).all()
    # E[k] = n p: the mean of 1000 binomial draws is within 4 SE of n times the mean of p
    p = mean.isel(obs=0).values.ravel()
    k = pps.isel(obs=0).values.ravel()
    se = np.sqrt(np.var(40 * p) + np.mean(40 * p * (1 - p))) / np.sqrt(p.size)
    assert abs(k.mean() - 40 * p.mean()) < 4 * se
    with pytest.raises(MissingColumnError, match="Column 'n'"):
        predict(fit, new.drop(columns=["n"]), kind="pps")


def test_gaussian_pps_adds_residual_noise(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.0], "g": ["s0"]})
    linear = _flat(predict(slopes_fit, new, kind="linear"))[:, 0]
    pps = _flat(predict(slopes_fit, new, kind="pps", random_seed=8))[:, 0]
    sigma = _flat(slopes_fit.idata["posterior"]["sigma"])
    noise = (pps - linear) / sigma  # standard normal draw by draw
    assert abs(noise.mean()) < 4 / np.sqrt(S)
    assert abs(noise.var() - 1) < 4 * np.sqrt(2 / S)


def test_poisson_and_bernoulli_means() -> None:
    rng = np.random.default_rng(5)
    data = pd.DataFrame(
        {"c": rng.poisson(2, size=30), "x": rng.normal(size=30), "g": np.repeat(list("abc"), 10)}
    )
    fit = fake_fit(hb.Model("c ~ x + (1 | g)", data=data, family="poisson"), draws=200)
    new = data.iloc[:3]
    np.testing.assert_allclose(
        predict(fit, new, kind="mean").values, np.exp(predict(fit, new, kind="linear").values)
    )
    data["c"] = (data["c"] > 1).astype(int)
    fit = fake_fit(hb.Model("c ~ x + (1 | g)", data=data, family="bernoulli"), draws=200)
    pps = predict(fit, new, kind="pps", random_seed=0)
    assert set(np.unique(pps.values)) <= {0, 1}


def test_summary_table_is_indexed_like_newdata(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["s0", "s1"]}, index=["r1", "r2"])
    table = predict(slopes_fit, new, summary=True, prob=0.9)
    draws = predict(slopes_fit, new)
    assert list(table.index) == ["r1", "r2"]
    assert list(table.columns) == ["mean", "sd", "hdi_5%", "hdi_95%"]
    np.testing.assert_allclose(table["mean"], draws.mean(("chain", "draw")).values)


def test_duplicate_index_falls_back_to_positions(slopes_fit: hb.Fit) -> None:
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["s0", "s1"]}, index=[7, 7])
    assert predict(slopes_fit, new)["obs"].values.tolist() == [0, 1]


def test_default_newdata_is_the_training_data(slopes_fit: hb.Fit) -> None:
    design = slopes_fit.design
    training = predict(slopes_fit, kind="linear")
    again = predict(slopes_fit, design.data, kind="linear")
    np.testing.assert_allclose(training.values, again.values, rtol=1e-12)


def test_posterior_predictive_adds_a_group_to_a_copy(slopes_fit: hb.Fit) -> None:
    tree = posterior_predictive(slopes_fit, random_seed=1)
    assert "posterior_predictive" not in slopes_fit.idata.children
    pp = tree["posterior_predictive"]["y"]
    assert pp.dims == ("chain", "draw", "obs")
    np.testing.assert_array_equal(pp["obs"].values, slopes_fit.idata["observed_data"]["obs"].values)
    expected = predict(slopes_fit, kind="pps", random_seed=1)
    np.testing.assert_array_equal(pp.values, expected.values)


def test_bad_arguments(slopes_fit: hb.Fit) -> None:
    with pytest.raises(ValueError, match="groups must be one of"):
        predict(slopes_fit, groups="all")
    with pytest.raises(ValueError, match="kind must be one of"):
        predict(slopes_fit, kind="response")
    with pytest.raises(TypeError, match="newdata must be a pandas DataFrame"):
        predict(slopes_fit, {"x": [1.0]})


@pytest.mark.slow
def test_a_known_group_written_as_a_string_finds_its_level2_values(hsb_fit):
    as_int = hsb_fit.predict(pd.DataFrame({"cses": [0.0], "school": [1224]}), random_seed=1)
    as_str = hsb_fit.predict(pd.DataFrame({"cses": [0.0], "school": ["1224"]}), random_seed=1)
    np.testing.assert_array_equal(as_int.values, as_str.values)
