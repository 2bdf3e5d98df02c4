"""No-pooling and complete-pooling fits, checked against statsmodels and per-group least squares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import hierbayes as hb
from hierbayes.design import make_design
from hierbayes.families import get_family
from hierbayes.spec import parse_formula
from hierbayes.summaries.nopool import complete_pooling, no_pooling, working_weights
from hierbayes.summaries.population import population_map
from hierbayes.summaries.posterior import factor_blocks


def _no_pool(formula: str, data: pd.DataFrame, family: str = "gaussian"):
    design = make_design(parse_formula(formula), data, family=family)
    fb = factor_blocks(design)
    return design, no_pooling(design, fb, population_map(design, fb))


def test_varying_intercept_with_common_slope_matches_dummy_regression():
    radon = hb.datasets.load("radon")
    design, res = _no_pool("log_radon ~ basement + uranium + (1 | county)", radon)
    ols = smf.ols("log_radon ~ 0 + C(county) + basement", data=radon).fit()
    expected = ols.params.filter(like="C(county)").to_numpy()
    np.testing.assert_allclose(res.estimates[:, 0], expected, rtol=1e-10, atol=1e-10)
    assert res.shared_columns == ("basement",)
    np.testing.assert_allclose(res.shared, [ols.params["basement"]], rtol=1e-10)
    assert res.levels == design.blocks[0].levels
    assert set(res.reasons) == {""}


def test_varying_slopes_are_separate_regressions(sleep: pd.DataFrame):
    _, res = _no_pool("Reaction ~ Days + (1 + Days | Subject)", sleep)
    for j, subject in enumerate(res.levels):
        rows = sleep[sleep["Subject"].astype(str) == subject]
        slope, intercept = np.polyfit(rows["Days"], rows["Reaction"], 1)
        np.testing.assert_allclose(res.estimates[j], [intercept, slope], rtol=1e-9)


def test_unidentified_groups_get_nan_and_a_reason():
    df = pd.DataFrame(
        {
            "y": [1.0, 2.0, 2.5, 4.0, 7.0, 5.0, 6.0, 3.0, 3.5],
            "x": [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 2.0, 1.0, 5.0],
            "g": ["a", "a", "a", "b", "b", "b", "c", "d", "d"],
        }
    )
    df.loc[len(df)] = [9.0, 1.0, "e"]
    df.loc[len(df)] = [8.0, 1.0, "e"]
    _, res = _no_pool("y ~ x + (1 + x | g)", df)
    reasons = dict(zip(res.levels, res.reasons, strict=True))
    assert reasons["c"] == "1 observation(s) for 2 coefficients"
    assert "does not vary within it" in reasons["e"]
    assert reasons["a"] == reasons["b"] == reasons["d"] == ""
    assert np.isnan(res.estimates[[2, 4]]).all()
    rows = df[df["g"] == "d"]
    np.testing.assert_allclose(
        res.estimates[3][::-1], np.polyfit(rows["x"].astype(float), rows["y"].astype(float), 1)
    )


def _bernoulli_data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(8), 30)
    x = rng.normal(size=g.size)
    eta = -0.5 + rng.normal(0, 1, 8)[g] + 0.8 * x
    y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    df = pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})
    df.loc[df["g"] == "g7", "y"] = 0.0  # all failures: intercept at -infinity
    return df


def test_bernoulli_matches_statsmodels_glm_and_flags_all_zero_group():
    df = _bernoulli_data(1)
    _, res = _no_pool("y ~ x + (1 | g)", df, family="bernoulli")
    assert res.reasons[7].startswith("all responses are 0")
    assert np.isnan(res.estimates[7, 0])
    kept = df[df["g"] != "g7"]
    glm = smf.glm("y ~ 0 + C(g) + x", data=kept, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(
        res.estimates[:7, 0], glm.params.filter(like="C(g)").to_numpy(), rtol=1e-6
    )
    np.testing.assert_allclose(res.shared, [glm.params["x"]], rtol=1e-6)


def test_perfect_separation_by_a_slope_is_detected():
    df = _bernoulli_data(2)
    df = df[df["g"] != "g7"].copy()
    sep = df["g"] == "g0"
    df.loc[sep, "y"] = (df.loc[sep, "x"] > 0).astype(float)  # x separates g0 perfectly
    _, res = _no_pool("y ~ x + (1 + x | g)", df, family="bernoulli")
    assert res.reasons[0] == "perfect separation: the group's own estimate is infinite"
    assert np.isnan(res.estimates[0]).all()
    for j in range(1, 7):
        rows = df[df["g"] == f"g{j}"]
        glm = sm.GLM(rows["y"], sm.add_constant(rows["x"]), family=sm.families.Binomial()).fit()
        np.testing.assert_allclose(res.estimates[j], glm.params.to_numpy(), rtol=1e-6)


def test_binomial_with_trials_and_poisson_match_statsmodels():
    cbpp = hb.datasets.load("cbpp")
    _, res = _no_pool("incidence | trials(size) ~ C(period) + (1 | herd)", cbpp, family="binomial")
    herd = cbpp["herd"].astype(str)
    ok = [label for label, reason in zip(res.levels, res.reasons, strict=True) if reason == ""]
    rows = herd.isin(ok).to_numpy()
    exog = pd.DataFrame({h: (herd == h).astype(float) for h in ok})
    periods = pd.get_dummies(cbpp["period"], prefix="p", drop_first=True, dtype=float)
    exog = exog.join(periods)[rows]
    endog = np.column_stack([cbpp["incidence"], cbpp["size"] - cbpp["incidence"]])[rows]
    glm = sm.GLM(endog, exog, family=sm.families.Binomial()).fit()
    mine = {label: est for label, est in zip(res.levels, res.estimates[:, 0], strict=True)}
    np.testing.assert_allclose([mine[h] for h in ok], glm.params[ok].to_numpy(), rtol=1e-6)

    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(6), 20)
    x = rng.normal(size=g.size)
    y = rng.poisson(np.exp(0.3 + 0.4 * x + rng.normal(0, 0.5, 6)[g])).astype(float)
    y[g == 5] = 0.0
    df = pd.DataFrame({"y": y, "x": x, "g": g})
    _, res = _no_pool("y ~ x + (1 | g)", df, family="poisson")
    assert res.reasons[5] == "all counts are 0: the estimate is -infinite"
    glm = smf.glm("y ~ 0 + C(g) + x", data=df[g != 5], family=sm.families.Poisson()).fit()
    np.testing.assert_allclose(res.estimates[:5, 0], glm.params.iloc[:5].to_numpy(), rtol=1e-6)


def test_complete_pooling_is_one_regression_ignoring_groups(sleep: pd.DataFrame):
    design = make_design(parse_formula("Reaction ~ Days + (1 + Days | Subject)"), sleep)
    ols = smf.ols("Reaction ~ Days", data=sleep).fit()
    np.testing.assert_allclose(complete_pooling(design), ols.params.to_numpy(), rtol=1e-10)
    df = _bernoulli_data(3)
    design = make_design(parse_formula("y ~ x + (1 | g)"), df, family="bernoulli")
    glm = smf.glm("y ~ x", data=df, family=sm.families.Binomial()).fit()
    np.testing.assert_allclose(complete_pooling(design), glm.params.to_numpy(), rtol=1e-6)


def test_working_weights():
    eta = np.array([-1.0, 0.0, 2.0])
    p = 1 / (1 + np.exp(-eta))
    np.testing.assert_allclose(working_weights(get_family("bernoulli"), eta), p * (1 - p))
    np.testing.assert_allclose(
        working_weights(get_family("binomial"), eta, np.array([1.0, 5.0, 10.0])),
        np.array([1.0, 5.0, 10.0]) * p * (1 - p),
    )
    np.testing.assert_allclose(working_weights(get_family("poisson"), eta), np.exp(eta))
    np.testing.assert_allclose(working_weights(get_family("gaussian"), eta), 1.0)


def test_confounded_common_coefficient_is_an_error():
    df = pd.DataFrame(
        {"y": [1.0, 2.0, 3.0, 5.0], "x": [1.0, 2.0, 3.0, 4.0], "g": ["a", "a", "b", "b"]}
    )
    df["x2"] = df["x"]
    design = make_design(parse_formula("y ~ x2 + (1 + x | g)"), df)
    fb = factor_blocks(design)
    with pytest.raises(hb.SummaryError, match="not identified from the variation within groups"):
        no_pooling(design, fb, population_map(design, fb))


def test_complete_pooling_with_an_offset_equals_statsmodels_glm():
    d = pd.read_csv(Path(__file__).parents[1] / "data" / "mmmec.csv", dtype={"region": str})
    formula = "deaths ~ uvb + offset(np.log(expected)) + (1 | region)"
    design = make_design(parse_formula(formula), d, family="poisson")
    reference = sm.GLM(
        d.deaths, sm.add_constant(d.uvb), family=sm.families.Poisson(), offset=np.log(d.expected)
    ).fit()
    np.testing.assert_allclose(complete_pooling(design), reference.params.values, rtol=1e-8)


@pytest.mark.parametrize("scale", [1e-9, 1.0, 1e9])
def test_confounding_decision_does_not_depend_on_units(scale: float):
    df = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 5.0, 4.0, 7.0, 2.0, 6.0, 5.0],
            "x": [1.0, 2.0, 3.5, 4.0, 5.0, 7.0, 2.0, 3.0, 9.0],
            "g": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
        }
    )
    df["x2"] = scale * df["x"]
    confounded = make_design(parse_formula("y ~ x2 + (1 + x | g)"), df)
    fb = factor_blocks(confounded)
    with pytest.raises(hb.SummaryError, match="not identified from the variation within groups"):
        no_pooling(confounded, fb, population_map(confounded, fb))

    # a common predictor that varies within groups apart from x is identified at any scale,
    # with the same coefficient in the units of w
    def shared(w_scale: float) -> float:
        df["w"] = w_scale * np.array([0.3, -1.0, 2.0, 0.1, -0.7, 1.1, 0.4, 0.9, -0.2])
        free = make_design(parse_formula("y ~ w + (1 + x | g)"), df)
        fb = factor_blocks(free)
        return float(no_pooling(free, fb, population_map(free, fb)).shared[0]) * w_scale

    np.testing.assert_allclose(shared(scale), shared(1.0), rtol=1e-8)


@pytest.mark.parametrize(
    ("link", "sm_link"),
    [("probit", sm.families.links.Probit), ("cloglog", sm.families.links.CLogLog)],
)
def test_probit_and_cloglog_no_pooling_match_statsmodels(link, sm_link):
    cbpp = hb.datasets.load("cbpp")
    design = make_design(
        parse_formula("incidence | trials(size) ~ C(period) + (1 | herd)"),
        cbpp,
        family="binomial",
        link=link,
    )
    fb = factor_blocks(design)
    res = no_pooling(design, fb, population_map(design, fb))
    herd = cbpp["herd"].astype(str)
    ok = [label for label, reason in zip(res.levels, res.reasons, strict=True) if reason == ""]
    rows = herd.isin(ok).to_numpy()
    exog = pd.DataFrame({h: (herd == h).astype(float) for h in ok})
    periods = pd.get_dummies(cbpp["period"], prefix="p", drop_first=True, dtype=float)
    exog = exog.join(periods)[rows]
    endog = np.column_stack([cbpp["incidence"], cbpp["size"] - cbpp["incidence"]])[rows]
    glm = sm.GLM(endog, exog, family=sm.families.Binomial(link=sm_link())).fit(tol=1e-12)
    mine = {label: est for label, est in zip(res.levels, res.estimates[:, 0], strict=True)}
    np.testing.assert_allclose([mine[h] for h in ok], glm.params[ok].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(res.shared, glm.params.iloc[len(ok) :].to_numpy(), rtol=1e-6)


def test_gamma_and_lognormal_no_pooling_are_their_own_maximum_likelihood_fits(sleep):
    # lognormal: least squares on log y; gamma: the gamma GLM with log link (its ML estimate of
    # the coefficients does not depend on the shape)
    formula = "Reaction ~ Days + (1 | Subject)"
    _, res = _no_pool(formula, sleep, family="lognormal")
    ols = smf.ols("np.log(Reaction) ~ 0 + C(Subject) + Days", data=sleep).fit()
    np.testing.assert_allclose(res.estimates[:, 0], ols.params.iloc[:18], rtol=1e-10)
    np.testing.assert_allclose(res.shared, [ols.params["Days"]], rtol=1e-10)
    _, res = _no_pool(formula, sleep, family="gamma")
    family = sm.families.Gamma(sm.families.links.Log())
    glm = smf.glm("Reaction ~ 0 + C(Subject) + Days", data=sleep, family=family).fit(tol=1e-12)
    np.testing.assert_allclose(res.estimates[:, 0], glm.params.iloc[:18], rtol=1e-8)
    np.testing.assert_allclose(res.shared, [glm.params["Days"]], rtol=1e-8)


def test_working_weights_of_families_with_a_dispersion_are_their_expected_information():
    eta = np.array([-1.0, 0.5, 2.0])
    mu = np.exp(eta)
    gamma = working_weights(get_family("gamma"), eta, params={"shape": 3.5})
    np.testing.assert_allclose(gamma, 3.5, rtol=1e-12)  # (dμ/dη)² / Var(y) = μ² / (μ²/α)
    nb = working_weights(get_family("negativebinomial"), eta, params={"shape": 2.0})
    np.testing.assert_allclose(nb, mu**2 / (mu + mu**2 / 2.0), rtol=1e-12)
    with pytest.raises(hb.errors.SummaryError, match=r"gamma family need its own parameters"):
        working_weights(get_family("gamma"), eta)
