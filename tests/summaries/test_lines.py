"""group_lines(): each group's line draw by draw, the values of the other predictors, errors."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import synthetic_fit
from scipy.special import expit

import hierbayes as hb


def _flat(da: xr.DataArray) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw", ...).values).reshape(-1, *da.shape[2:])


@pytest.mark.slow
def test_lines_of_sleepstudy_subjects(sleep_fit: hb.Fit, sleep: pd.DataFrame):
    table = sleep_fit.group_lines("Days", grid=[0, 4.5, 9], groups=["308", 372])
    assert list(table.columns) == [
        "group", "Days", "mean", "sd", "hdi_3%", "hdi_97%", "population", "no_pool",
    ]  # fmt: skip
    assert table["group"].tolist() == ["308"] * 3 + ["372"] * 3
    post = sleep_fit.idata["posterior"]
    b = _flat(post["b"])
    for subject in ["308", "372"]:
        u = _flat(post["u|Subject"].sel(Subject=subject))
        line = (b[:, :1] + u[:, :1]) + (b[:, 1:] + u[:, 1:]) * np.array([0.0, 4.5, 9.0])
        part = table[table["group"] == subject]
        np.testing.assert_allclose(part["mean"], line.mean(axis=0))
        np.testing.assert_allclose(part["sd"], line.std(axis=0, ddof=1))
        draws = xr.DataArray(line.reshape(4, 500, 3), dims=("chain", "draw", "x"))
        hdi = az.hdi(draws, prob=0.94)
        np.testing.assert_allclose(part["hdi_97%"], hdi.sel(ci_bound="upper"))
        population = (b[:, :1] + b[:, 1:] * np.array([0.0, 4.5, 9.0])).mean(axis=0)
        np.testing.assert_allclose(part["population"], population)
        rows = sleep[sleep["Subject"].astype(str) == subject]
        slope, intercept = np.polyfit(rows["Days"], rows["Reaction"], 1)
        np.testing.assert_allclose(part["no_pool"], intercept + slope * np.array([0, 4.5, 9]))
    default = sleep_fit.group_lines("Days")
    assert len(default) == 18 * 25
    assert default["Days"].min() == 0 and default["Days"].max() == 9


@pytest.mark.slow
def test_other_predictors_at_group_values_or_reference(radon_fit: hb.Fit):
    radon = hb.datasets.load("radon")
    counties = ["1", "50"]
    table = radon_fit.group_lines("basement", grid=[0, 1], groups=counties)
    uranium = radon.groupby("county")["uranium"].first()
    np.testing.assert_allclose(table["uranium"], uranium.loc[[1, 1, 50, 50]].to_numpy())
    # uranium is a county-level predictor: no line per county over it
    with pytest.raises(hb.SummaryError, match="x='uranium' is constant within every county"):
        radon_fit.group_lines("uranium", grid=[0.0], groups=counties)
    post = radon_fit.idata["posterior"]
    b = post["b"]
    u = post["u|county"].sel(county="50", county__term="Intercept")
    expected = b.sel(term="Intercept") + b.sel(term="uranium") * uranium.loc[50] + u
    assert table["mean"].iloc[2] == pytest.approx(float(expected.mean()))
    np.testing.assert_allclose(
        table["mean"].iloc[3], float((expected + b.sel(term="basement")).mean())
    )


def test_other_level1_predictor_at_its_mean_or_at():
    from fakes import fake_fit

    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "x": rng.normal(size=40),
            "z": rng.normal(size=40),
            "g": np.repeat(np.arange(4), 10),
        }
    )
    fit = fake_fit(hb.Model("y ~ x + z + (1 | g)", data=data), draws=20)
    # z varies within groups: set at its mean over the data, or at at=
    table = fit.group_lines("x", grid=[0.0], groups=[0, 1])
    np.testing.assert_allclose(table["z"], data["z"].mean())
    fixed = fit.group_lines("x", grid=[0.0], groups=[0, 1], at={"z": 0})
    assert (fixed["z"] == 0).all()


def _categorical_data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(6), 10)
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, g.size).astype(float),
            "x": rng.normal(size=g.size),
            "kind": rng.choice(["b", "a", "c"], g.size),
            "sector": np.where(g % 2 == 0, "Public", "Catholic"),
            "g": g,
        }
    )


def test_categorical_predictors_take_reference_or_group_level():
    df = _categorical_data()
    model = hb.Model("y ~ x + kind + sector + (1 + x | g)", data=df, family="bernoulli")
    fit = synthetic_fit(model, seed=6)
    table = fit.group_lines("x", grid=[-1.0, 1.0], groups=[0, 1], scale="link")
    assert table["kind"].tolist() == ["a"] * 4  # level-1 categorical: its reference level
    assert table["sector"].tolist() == ["Public", "Public", "Catholic", "Catholic"]
    post = fit.idata["posterior"]
    b = post["b"].to_series().unstack("term")
    assert list(model.design.fixed_columns) == [
        "Intercept", "x", "kind[T.b]", "kind[T.c]", "sector[T.Public]",
    ]  # fmt: skip
    u = _flat(post["u|g"].sel(g="1"))
    eta = b["Intercept"].to_numpy() + u[:, 0] + (b["x"].to_numpy() + u[:, 1]) * 1.0
    assert table["mean"].iloc[3] == pytest.approx(eta.mean())  # Catholic school, x = 1
    response = fit.group_lines("x", grid=[1.0], groups=[1])
    assert response["mean"].iloc[0] == pytest.approx(expit(eta).mean())
    np.testing.assert_allclose(
        table["population"].iloc[3], (b["Intercept"] + b["x"]).mean(), rtol=1e-12
    )


def test_group_lines_errors():
    df = _categorical_data()
    fit = synthetic_fit(hb.Model("y ~ x + kind + (1 | g)", data=df, family="bernoulli"), seed=7)
    with pytest.raises(hb.SummaryError, match="x='z' is not a predictor of this model"):
        fit.group_lines("z")
    with pytest.raises(hb.SummaryError, match="x='kind' is categorical"):
        fit.group_lines("kind")
    with pytest.raises(hb.SummaryError, match="grid= must be a non-empty sequence of finite"):
        fit.group_lines("x", grid=[0.0, np.nan])
    with pytest.raises(hb.SummaryError, match="grid= must be a non-empty"):
        fit.group_lines("x", grid=[])
    with pytest.raises(hb.SummaryError, match="Unknown g 'nine'; its groups are 0, 1"):
        fit.group_lines("x", groups=["nine"])
    with pytest.raises(hb.SummaryError, match="at= names \\['sector'\\]"):
        fit.group_lines("x", at={"sector": "Public"})
    with pytest.raises(hb.SummaryError, match="scale must be 'response' or 'link'"):
        fit.group_lines("x", scale="probability")


def test_a_numeric_column_used_as_a_category_is_not_a_line_variable():
    cbpp = hb.datasets.load("cbpp")
    cbpp["z"] = np.random.default_rng(0).normal(size=len(cbpp))
    model = hb.Model(
        "incidence | trials(size) ~ z + C(period) + (1 | herd)", cbpp, family="binomial"
    )
    fit = synthetic_fit(model, 1)
    with pytest.raises(hb.SummaryError, match="'period' is categorical in this model"):
        fit.group_lines("period")
    lines = fit.group_lines("z", grid=[0.0, 1.0], groups=["1"])
    assert lines["period"].tolist() == [1, 1]  # its reference level, not its mean


@pytest.mark.slow
def test_zero_inflated_lines_are_expected_counts():
    # E[y] = (1 - zi) exp(η) for a zero-inflated count, draw by draw; the no-pooling line
    # takes the posterior mean of zi
    from fakes import fake_fit

    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(5), 12)
    x = rng.normal(size=g.size)
    y = rng.poisson(np.exp(0.5 + 0.3 * x)) * rng.binomial(1, 0.7, g.size)
    data = pd.DataFrame({"y": y, "x": x, "g": g})
    model = hb.Model("y ~ x + (1 | g)", data=data, family="zero_inflated_poisson")
    fit = fake_fit(model, draws=30)
    zi = xr.DataArray(rng.uniform(0.1, 0.5, (2, 30)), dims=("chain", "draw"))
    fit.idata["posterior"]["zi"] = zi
    grid = [-1.0, 0.5]
    table = fit.group_lines("x", grid=grid, groups=[1, 3])
    link = fit.group_lines("x", grid=grid, groups=[1, 3], scale="link")
    post = fit.idata["posterior"]
    b = _flat(post["b"])
    u = _flat(post["u|g"].sel(g__term="Intercept"))
    keep = (1 - zi.values).reshape(-1)
    for row, (j, v) in enumerate([(1, -1.0), (1, 0.5), (3, -1.0), (3, 0.5)]):
        eta = b[:, 0] + b[:, 1] * v + u[:, list(post["g"].values).index(str(j))]
        np.testing.assert_allclose(link["mean"].iloc[row], eta.mean(), rtol=1e-12)
        np.testing.assert_allclose(table["mean"].iloc[row], (keep * np.exp(eta)).mean(), rtol=1e-12)
        fixed = b[:, 0] + b[:, 1] * v
        np.testing.assert_allclose(
            table["population"].iloc[row], (keep * np.exp(fixed)).mean(), rtol=1e-12
        )
    # no pooling: each group's own line on the link scale, times 1 - E[zi]
    np.testing.assert_allclose(
        table["no_pool"], (1 - float(zi.mean())) * np.exp(link["no_pool"]), rtol=1e-12
    )
