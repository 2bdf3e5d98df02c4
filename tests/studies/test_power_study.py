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


# family kinds: (family, link, own parameters, fixed, response, P(event) by closed form, event)
_LAM = float(np.exp(0.5))
FAMILY_PLANS = {
    "student_t": (
        "student_t",
        None,
        {"sigma": 1.0, "nu": 3.0},
        0.0,
        stats.t.cdf(1, 3) - stats.t.cdf(-1, 3),
        lambda y: np.abs(y) < 1,
    ),
    "negativebinomial": (
        "negativebinomial",
        None,
        {"shape": 2.0},
        1.0,
        (2.0 / (2.0 + np.e)) ** 2,
        lambda y: y == 0,
    ),
    "gamma": (
        "gamma",
        None,
        {"shape": 2.0},
        0.0,
        stats.gamma.cdf(1, 2, scale=0.5),
        lambda y: y < 1,
    ),
    "beta": ("beta", None, {"phi": 10.0}, 0.0, stats.beta.cdf(0.3, 5, 5), lambda y: y < 0.3),
    "zero_inflated_poisson": (
        "zero_inflated_poisson",
        None,
        {"zi": 0.3},
        0.5,
        0.3 + 0.7 * np.exp(-_LAM),
        lambda y: y == 0,
    ),
    "bernoulli:probit": ("bernoulli", "probit", {}, 0.5, stats.norm.cdf(0.5), lambda y: y == 1),
    "cumulative:probit": (
        "cumulative",
        "probit",
        {"cutpoints": [-0.5, 0.5]},
        None,
        stats.norm.cdf(-0.5),
        lambda y: np.asarray(y) == 1,
    ),
}


def _family_plan(name: str, slope: float = 0.0) -> dict:
    family, link, params, intercept, _, _ = FAMILY_PLANS[name]
    fixed = {"x": slope} if intercept is None else {"Intercept": intercept, "x": slope}
    return {
        "formula": "y ~ x + (1 | g)",
        "fixed": fixed,
        "sd": {"g": 0.0},
        "level1": {"x": stats.norm()},
        "family": family,
        "link": link,
        "sigma": params.get("sigma"),
        "params": {k: v for k, v in params.items() if k != "sigma"},
    }


@pytest.mark.parametrize("name", sorted(FAMILY_PLANS))
def test_every_family_simulates_its_own_parameters(name):
    # with no effects, P(event) of each response has a closed form in the family's parameters
    _, _, _, _, p, event = FAMILY_PLANS[name]
    data = PlannedDesign(**_family_plan(name)).simulate(200, 100, np.random.default_rng(3))
    share = float(np.mean(event(data["y"])))
    assert abs(share - p) < 4.5 * np.sqrt(p * (1 - p) / len(data)), (share, p)


def test_a_missing_or_impossible_own_parameter_is_named():
    plan = _plan(level1={"x": stats.norm()})
    with pytest.raises(hb.ModelSpecError, match=r"student_t design needs .* \['nu'\]: pass "):
        hb.power("y ~ x + (1 | g)", **plan, family="student_t")
    with pytest.raises(hb.ModelSpecError, match=r"needs .* \['sigma'\]: pass sigma="):
        hb.power("y ~ x + (1 | g)", **{**plan, "sigma": None})
    with pytest.raises(hb.ModelSpecError, match=r"zi of the zero_inflated_poisson family must be "):
        hb.power(
            "y ~ x + (1 | g)",
            **{**plan, "sigma": None},
            family="zero_inflated_poisson",
            params={"zi": 1.5},
        )
    with pytest.raises(hb.ModelSpecError, match=r"poisson family has no parameter \['shape'\]"):
        hb.power(
            "y ~ x + (1 | g)", **{**plan, "sigma": None}, family="poisson", params={"shape": 2}
        )
    with pytest.raises(hb.FamilyError, match=r"no link 'probit'"):
        hb.power("y ~ x + (1 | g)", **{**plan, "sigma": None}, family="poisson", link="probit")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::hierbayes.errors.ConvergenceWarning")  # 150 draws
@pytest.mark.parametrize("name", sorted(FAMILY_PLANS))
def test_every_family_detects_a_large_effect(name):
    plan = _family_plan(name, slope=1.5)
    result = hb.power(
        plan.pop("formula"),
        **plan,
        target="x",
        n_groups=[6],
        n_per_group=[15],
        n=2,
        random_seed=4,
        **FAST,
    )
    row = result.table().iloc[0]
    # the slope's posterior SD is at most about 0.3 with 90 rows: 1.5 is 5 SDs from 0
    assert row["replicates"] == 2 and row["power"] == 1.0, result.replicates
    assert {"divergences", "max_rhat", "min_ess_bulk"} <= set(result.replicates)


def test_non_converged_replicates_are_reported(monkeypatch: pytest.MonkeyPatch):
    from hierbayes.errors import ConvergenceWarning
    from hierbayes.studies import power_study as power_module

    def fake(task):  # replicate 1 diverges, replicate 2 has a large R-hat
        return {
            "replicate": task.index,
            "n_groups": task.n_groups,
            "n_per_group": task.n_per_group,
            "mean": 0.1,
            "lower": -0.5,
            "upper": 0.7,
            "width": 1.2,
            "excludes_null": False,
            "covers_truth": True,
            "divergences": int(task.index == 1),
            "max_rhat": 1.3 if task.index == 2 else 1.0,
            "min_ess_bulk": 200.0,
            "warning": "",
        }

    monkeypatch.setattr(power_module, "power_replicate", fake)
    with pytest.warns(ConvergenceWarning, match=r"2 of 4 power replicates did not converge .*1, 2"):
        result = power_module.power(
            "y ~ x + (1 | g)", **_plan(), n_groups=[4], n_per_group=[4], n=4, **FAST
        )
    assert result.nonconverged["replicate"].tolist() == [1, 2]
    row = result.table().iloc[0]
    assert row["nonconverged"] == 2 and row["replicates"] == 4
    assert "2 did not converge" in str(result)
