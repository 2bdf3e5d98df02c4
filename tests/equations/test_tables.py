"""fit.fixef(by="level") and fit.varcorr(labels=...): labels right, numbers from the draws."""

from __future__ import annotations

import arviz as az
import pytest

import hierbayes as hb

pytestmark = pytest.mark.slow


def test_fixef_by_level_orders_and_labels_the_gammas(hsb_fit: hb.Fit):
    table = hsb_fit.fixef(by="level")
    plain = hsb_fit.fixef()
    assert list(table.index) == [
        "Intercept",
        "meanses",
        "sector[T.Public]",
        "cses",
        "cses:meanses",
        "cses:sector[T.Public]",
    ]
    assert list(table["symbol"]) == ["γ_00", "γ_01", "γ_02", "γ_10", "γ_11", "γ_12"]
    assert table.loc["cses:meanses", "label"] == "γ_11: cses slope ~ meanses"
    assert table.loc["cses:meanses", "explains"] == "cses slope"
    assert table.loc["cses:meanses", "predictor"] == "meanses"
    assert table.loc["meanses", "label"] == "γ_01: intercept ~ meanses"
    assert table.loc["cses", "predictor"] == "1"
    assert list(table.columns[:4]) == ["symbol", "explains", "predictor", "label"]
    # the numbers are those of fixef(), row by row
    assert table[plain.columns].equals(plain.loc[table.index])
    assert "symbol" not in plain.columns


def test_fixef_by_level_in_gelman_hill_notation(hsb_fit: hb.Fit):
    table = hsb_fit.fixef(by="level", notation="gh")
    assert table.loc["cses:meanses", "label"] == "γ_1^β: cses slope ~ meanses"
    assert table.loc["Intercept", "symbol"] == "γ_0^α"


def test_varcorr_labels_variances_and_covariances_from_the_draws(sleep_fit: hb.Fit):
    table = sleep_fit.varcorr(labels="rb")
    keys = list(zip(table["factor"], table["term"], table["stat"], table["symbol"], strict=True))
    assert keys == [
        ("Subject", "Intercept", "sd", "√τ_00"),
        ("Subject", "Days", "sd", "√τ_11"),
        ("Subject", "Intercept:Days", "cor", "τ_01/√(τ_00·τ_11)"),
        ("Subject", "Intercept", "var", "τ_00"),
        ("Subject", "Days", "var", "τ_11"),
        ("Subject", "Intercept:Days", "cov", "τ_01"),
        ("Residual", "", "sd", "σ"),
        ("Residual", "", "var", "σ²"),
    ]
    post = sleep_fit.idata["posterior"]
    sd = post["sd|Subject"]
    cor = post["cor|Subject"].sel(Subject__term="Intercept", Subject__term_bis="Days")
    tau00 = sd.sel(Subject__term="Intercept") ** 2
    tau01 = cor * sd.sel(Subject__term="Intercept") * sd.sel(Subject__term="Days")
    sigma2 = post["sigma"] ** 2
    by_symbol = table.set_index("symbol")
    for symbol, draws in [("τ_00", tau00), ("τ_01", tau01), ("σ²", sigma2)]:
        row = by_symbol.loc[symbol]
        assert row["mean"] == pytest.approx(float(draws.mean()))
        assert row["sd"] == pytest.approx(float(draws.std(ddof=1)))
        lo, hi = az.hdi(draws, prob=0.94).values
        assert (row["hdi_3%"], row["hdi_97%"]) == pytest.approx((lo, hi))
        assert row["r_hat"] == pytest.approx(float(az.rhat(draws)))
    # the mean variance is not the square of the mean SD (it exceeds it by the SD's variance)
    mean_sd = by_symbol.loc["√τ_00", "mean"]
    assert by_symbol.loc["τ_00", "mean"] > mean_sd**2
    # the SD and correlation rows are varcorr()'s own
    plain = sleep_fit.varcorr()
    same = table[table["stat"].isin(["sd", "cor"])].drop(columns="symbol").reset_index(drop=True)
    assert same.equals(plain)


def test_varcorr_labels_in_gelman_hill_notation(sleep_fit: hb.Fit):
    table = sleep_fit.varcorr(labels="gh")
    assert list(table["symbol"]) == [
        "σ_α",
        "σ_β",
        "ρ_αβ",
        "σ_α²",
        "σ_β²",
        "ρ_αβ·σ_α·σ_β",
        "σ_y",
        "σ_y²",
    ]


def test_bad_options(sleep_fit: hb.Fit):
    with pytest.raises(ValueError, match="Unknown by='term'"):
        sleep_fit.fixef(by="term")
    with pytest.raises(ValueError, match="Unknown notation 'lme4'"):
        sleep_fit.varcorr(labels="lme4")


def test_varcorr_symbols_follow_the_equations_when_terms_are_reordered():
    import numpy as np
    import pandas as pd
    from helpers import synthetic_fit

    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=120),
            "x": rng.normal(size=120),
            "z": rng.normal(size=120),
            "g": np.repeat(list("abcdefghij"), 12),
        }
    )
    model = hb.Model("y ~ x + z + (1 + z + x | g)", data)
    table = synthetic_fit(model, 1).varcorr(labels="rb")
    cov = table[table["stat"] == "cov"].set_index("term")["symbol"].to_dict()
    # x is coefficient 1 and z coefficient 2 (fixed-part order), so z:x is τ_12, as in T
    assert cov == {"Intercept:z": "τ_02", "Intercept:x": "τ_01", "z:x": "τ_12"}
    assert "τ_12" in str(model.equations())
