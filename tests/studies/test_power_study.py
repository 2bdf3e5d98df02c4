"""Power and precision of planned designs against answers known in advance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.studies.planned import PlannedDesign

FAST = {"draws": 150, "tune": 150, "chains": 2, "progressbar": False}


def _plan(**kwargs) -> dict:
    base = {
        "fixed": {"Intercept": 1.0, "x": 0.0},
        "sd": {"g": 1.0},
        "sigma": 1.0,
        "level1": {"x": stats.norm()},
        "target": "x",
    }
    return {**base, **kwargs}


@pytest.mark.slow
def test_a_huge_effect_is_always_detected():
    result = hb.power(
        "y ~ x + (1 | g)",
        **_plan(fixed={"Intercept": 1.0, "x": 3.0}),
        n_groups=[6],
        n_per_group=[5],
        n=12,
        random_seed=3,
        **FAST,
    )
    table = result.table()
    # the slope's posterior SD is about 1/sqrt(30): 3 is 16 SDs from 0
    assert table["power"].iloc[0] == 1.0 and table["replicates"].iloc[0] == 12
    assert not result.failures


@pytest.mark.slow
def test_a_zero_effect_is_detected_at_about_the_error_rate_and_covered():
    n = 60
    result = hb.power(
        "y ~ x + (1 | g)",
        **_plan(),
        n_groups=[8],
        n_per_group=[5],
        n=n,
        random_seed=5,
        **FAST,
    )
    row = result.table().iloc[0]
    se = np.sqrt(0.05 * 0.95 / n)
    assert row["power"] <= 0.05 + 3 * se
    assert row["coverage"] == 1 - row["power"]  # the truth is the null
    assert abs(row["bias"]) < 3 * row["width"] / 3.92 / np.sqrt(n)


@pytest.mark.slow
def test_interval_width_matches_the_closed_form():
    """Random intercepts, x iid N(0, 1) within groups: the slope's GLS variance is
    sigma² / (sum of within-group SS + between-group information), close to
    1 / (J (m - 1) + J m var(xbar) / (tau² + sigma²/m) ... ), here 1 / (9.09 J)."""
    J, m, tau, sigma, n = 20, 10, 1.0, 1.0, 20
    result = hb.power(
        "y ~ x + (1 | g)",
        **_plan(sd={"g": tau}, sigma=sigma),
        n_groups=[J],
        n_per_group=[m],
        n=n,
        random_seed=8,
        **FAST,
    )
    row = result.table().iloc[0]
    within = J * (m - 1)
    between = J * (1 / m) / (tau**2 + sigma**2 / m)
    expected = 2 * stats.norm.ppf(0.975) * sigma / np.sqrt(within + between)
    # Monte Carlo error of the mean width, plus 4% for sigma's and SS's sampling variation
    assert abs(row["width"] - expected) < 3 * row["width_se"] + 0.04 * expected, (row, expected)
    assert row["power"] == 0.0 or row["power"] <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / n)


def test_plan_checks_name_what_is_missing():
    with pytest.raises(hb.ModelSpecError, match=r"missing \['x'\]"):
        hb.power("y ~ x + (1 | g)", **_plan(fixed={"Intercept": 0.0}, target="Intercept"))
    with pytest.raises(hb.ModelSpecError, match="target 'z' is not one of the fixed effects"):
        hb.power("y ~ x + (1 | g)", **_plan(target="z"))
    with pytest.raises(hb.ModelSpecError, match="exactly one grouping factor"):
        hb.power("y ~ x + (1 | g) + (1 | h)", **_plan())
    with pytest.raises(hb.ModelSpecError, match=r"sd= needs the SD of \['Intercept', 'x'\]"):
        hb.power("y ~ x + (1 + x | g)", **_plan(sd={}))
    with pytest.raises(hb.ModelSpecError, match="not positive semi-definite"):
        hb.power("y ~ x + (1 + x | g)", **_plan(sd={"g": [1, 1]}, cor={"g": 1.5}))
    with pytest.raises(hb.ModelSpecError, match=r"predictor 'x' must be a scipy\.stats"):
        hb.power("y ~ x + (1 | g)", **_plan(level1={"x": 3}))
    with pytest.raises(hb.ModelSpecError, match="Give every predictor a distribution"):
        hb.power("y ~ x + (1 | g)", **_plan(level1={}))


def test_simulated_data_follow_the_plan():
    plan = PlannedDesign(
        formula="y ~ x + sector + (1 + x | school)",
        fixed={"Intercept": 2.0, "x": 0.5, "sector[T.b]": -1.0},
        sd={"school": {"Intercept": 1.0, "x": 0.3}},
        cor={"school": 0.5},
        sigma=0.5,
        level1={"x": lambda rng, size: rng.normal(size=size)},
        level2={"sector": ["a", "b"]},
    )
    data = plan.simulate(400, 30, np.random.default_rng(1))
    assert len(data) == 12_000 and data["school"].nunique() == 400
    per_school = data.groupby("school")["sector"].nunique()
    assert (per_school == 1).all()  # a level-2 predictor is constant within a group
    assert (data.groupby("school")["sector"].first().value_counts() == 200).all()  # balanced
    # school means of y - 0.5 x: 2 + u0 (- 1 for sector b), u0 ~ N(0, 1); sigma²/30 noise
    resid = data["y"] - 0.5 * data["x"] + np.where(data["sector"] == "b", 1.0, 0.0)
    means = resid.groupby(data["school"]).mean()
    assert abs(means.mean() - 2.0) < 3 * np.sqrt((1 + 0.25 / 30) / 400)
    assert abs(means.var() - (1.0 + 0.25 / 30)) < 0.2


def test_binomial_plan_simulates_the_assumed_probability():
    plan = PlannedDesign(
        formula="k | trials(trials) ~ x + (1 | g)",
        fixed={"Intercept": 0.5, "x": 0.0},
        sd={"g": 0.0},
        level1={"x": stats.norm()},
        family="binomial",
        trials=5,
    )
    data = plan.simulate(200, 10, np.random.default_rng(2))
    share = data["k"].sum() / data["trials"].sum()
    p = 1 / (1 + np.exp(-0.5))
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / 10_000)
    assert data["k"].between(0, 5).all()


def test_failed_power_replicates_are_counted_per_size(monkeypatch: pytest.MonkeyPatch):
    from hierbayes.studies import power_study as power_module

    original = power_module.power_replicate

    def fail_for_small(task):
        if task.n_groups == 4:
            raise np.linalg.LinAlgError("simulated failure")
        return original(task)

    monkeypatch.setattr(power_module, "power_replicate", fail_for_small)
    with pytest.warns(RuntimeWarning, match=r"3 of 6 power replicates failed"):
        result = power_module.power(
            "y ~ x + (1 | g)", **_plan(), n_groups=[4, 6], n_per_group=[4], n=3, **FAST
        )
    table = result.table()
    assert table.loc[(6, 4), "failed"] == 0 and table.loc[(6, 4), "replicates"] == 3
    assert table.loc[(4, 4), "failed"] == 3 and table.loc[(4, 4), "replicates"] == 0
    assert np.isnan(table.loc[(4, 4), "power"])
    assert set(result.failures[i].index for i in range(3)) == {0, 1, 2}
    assert "simulated failure" in str(result.failures[0])
