"""coef(kind="level"): Raudenbush & Bryk's level-1 coefficients of each group, with the level-2
predictors, against hand computations from the draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb


def _two_level() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    groups = pd.DataFrame({"g": ["a", "b", "c", "d"], "w": [-1.0, 0.5, 2.0, 0.0]})
    data = pd.DataFrame({"g": np.repeat(groups["g"], 6).to_numpy(), "x": rng.normal(size=24)})
    data["y"] = rng.normal(size=24)
    return data, groups


def test_level_coefficients_add_the_level2_predictors_by_hand() -> None:
    data, groups = _two_level()
    model = hb.Model("y ~ x * w + (1 + x | g)", data=data, level2={"g": groups})
    fit = fake_fit(model, b={"Intercept": 1.0, "x": 2.0, "w": 0.5, "x:w": -0.3}, jitter=0.2)
    table = fit.coef(kind="level")
    assert set(table["term"]) == {"Intercept", "x"}  # the level-1 coefficients only
    assert table["factor"].eq("g").all() and len(table) == 8
    post = fit.idata["posterior"]
    b, u = post["b"], post["u|g"]
    for label, w in zip(groups["g"], groups["w"], strict=True):
        uj = u.sel(g=label)
        beta0 = b.sel(term="Intercept") + w * b.sel(term="w") + uj.sel(g__term="Intercept")
        beta1 = b.sel(term="x") + w * b.sel(term="x:w") + uj.sel(g__term="x")
        rows = table[table["group"] == label].set_index("term")
        assert rows.loc["Intercept", "mean"] == pytest.approx(float(beta0.mean()), rel=1e-12)
        assert rows.loc["x", "mean"] == pytest.approx(float(beta1.mean()), rel=1e-12)
        assert rows.loc["x", "sd"] == pytest.approx(float(beta1.std(ddof=1)), rel=1e-9)
    # lme4's coef keeps gamma_00 + u_0j and repeats the level-2 predictor's effect
    lme4 = fit.coef()
    assert set(lme4["term"]) == {"Intercept", "x", "w", "x:w"}
    w_rows = lme4[lme4["term"] == "w"]
    assert np.allclose(w_rows["mean"], float(b.sel(term="w").mean()))


def test_a_coefficient_without_deviation_still_varies_through_level2() -> None:
    data, groups = _two_level()
    model = hb.Model("y ~ x * w + (1 | g)", data=data, level2={"g": groups})
    fit = fake_fit(model, jitter=0.2)
    table = fit.coef(kind="level").set_index(["group", "term"])
    b = fit.idata["posterior"]["b"]
    expected = b.sel(term="x") + 2.0 * b.sel(term="x:w")  # group c has w = 2
    assert table.loc[("c", "x"), "mean"] == pytest.approx(float(expected.mean()), rel=1e-12)


def test_level_coefficients_need_two_levels() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=24),
            "a": np.tile(list("pq"), 12),
            "b": np.repeat(list("rst"), 8),
        }
    )
    fit = fake_fit(hb.Model("y ~ 1 + (1 | a) + (1 | b)", data=data))
    with pytest.raises(hb.SummaryError, match="needs a two-level model"):
        fit.coef(kind="level")
    with pytest.raises(hb.SummaryError, match="Unknown kind='R&B'"):
        fit.coef(kind="R&B")


def test_level_coefficients_refuse_a_group_term_coded_unlike_the_fixed_part() -> None:
    data, groups = _two_level()
    data["trt"] = np.tile(["p", "q"], 12)
    model = hb.Model("y ~ trt + w + (0 + trt | g)", data=data, level2={"g": groups})
    with pytest.raises(hb.SummaryError, match="codes trt\\[p\\], trt\\[q\\] differently"):
        fake_fit(model).coef(kind="level")


@pytest.mark.slow
def test_hsb_school_1224_intercept_is_beta_0j(hsb_fit: hb.Fit) -> None:
    table = hsb_fit.coef(kind="level")
    row = table[(table["group"] == "1224") & (table["term"] == "Intercept")].iloc[0]
    post = hsb_fit.idata["posterior"]
    b = post["b"]
    u0 = post["u|school"].sel(school="1224", school__term="Intercept")
    # school 1224: meanses -0.434383, a public school
    hand = (
        b.sel(term="Intercept")
        - 0.434383 * b.sel(term="meanses")
        + b.sel(term="sector[T.Public]")
        + u0
    )
    assert row["mean"] == pytest.approx(float(hand.mean()), abs=1e-5)
    # about 9.72 (Raudenbush & Bryk's model), within Monte Carlo error and the posterior SD
    assert abs(row["mean"] - 9.72) < row["sd"]
    lme4 = hsb_fit.coef()
    plain = lme4[(lme4["group"] == "1224") & (lme4["term"] == "Intercept")]["mean"].iloc[0]
    assert plain == pytest.approx(float((b.sel(term="Intercept") + u0).mean()))
