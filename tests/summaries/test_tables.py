"""fixef / ranef / coef / varcorr: labels and numbers checked against the raw posterior draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest

import hierbayes as hb
from hierbayes.summaries import hdi_columns

pytestmark = pytest.mark.slow


def _flat(da) -> np.ndarray:
    return np.asarray(da.values).reshape(-1, *da.shape[2:])


def test_fixef_matches_posterior_draws(sleep_fit: hb.Fit):
    table = sleep_fit.fixef()
    b = sleep_fit.idata["posterior"]["b"]
    assert list(table.index) == ["Intercept", "Days"]
    assert table.index.name == "term"
    draws = _flat(b)
    np.testing.assert_allclose(table["mean"], draws.mean(axis=0))
    np.testing.assert_allclose(table["sd"], draws.std(axis=0, ddof=1))
    hdi = az.hdi(b, prob=0.94)
    np.testing.assert_allclose(table["hdi_3%"], hdi.sel(ci_bound="lower"))
    np.testing.assert_allclose(table["hdi_97%"], hdi.sel(ci_bound="upper"))
    np.testing.assert_allclose(table["r_hat"], az.rhat(b))
    assert list(sleep_fit.fixef(prob=0.8).columns[2:4]) == list(hdi_columns(0.8))


def test_intercept_is_recovered_from_centred_parameterisation(sleep_fit: hb.Fit, sleep):
    post = sleep_fit.idata["posterior"]
    mean_days = sleep["Days"].mean()
    expected = post["Intercept_c"] - mean_days * post["beta"].sel(slope_term="Days")
    np.testing.assert_allclose(post["b"].sel(term="Intercept"), expected)


def test_ranef_labels_and_values(sleep_fit: hb.Fit, sleep):
    table = sleep_fit.ranef()
    subjects = sorted(sleep["Subject"].unique())
    assert list(table.columns[:3]) == ["factor", "group", "term"]
    assert set(table["factor"]) == {"Subject"}
    assert table["group"].tolist()[::2] == [str(s) for s in subjects]
    assert table["term"].tolist()[:2] == ["Intercept", "Days"]
    u = sleep_fit.idata["posterior"]["u|Subject"]
    row = table[(table["group"] == "308") & (table["term"] == "Days")].iloc[0]
    assert row["mean"] == pytest.approx(float(u.sel(Subject="308", Subject__term="Days").mean()))


def test_coef_equals_fixef_plus_ranef_draw_by_draw(sleep_fit: hb.Fit):
    post = sleep_fit.idata["posterior"]
    table = sleep_fit.coef()
    for group in ["308", "335"]:
        for term in ["Intercept", "Days"]:
            draws = post["b"].sel(term=term) + post["u|Subject"].sel(
                Subject=group, Subject__term=term
            )
            row = table[(table["group"] == group) & (table["term"] == term)].iloc[0]
            assert row["mean"] == pytest.approx(float(draws.mean()))
            assert row["sd"] == pytest.approx(float(draws.std(ddof=1)))
            lo, hi = az.hdi(draws, prob=0.94).values
            assert (row["hdi_3%"], row["hdi_97%"]) == pytest.approx((lo, hi))


def test_varcorr_rows_and_values(sleep_fit: hb.Fit):
    table = sleep_fit.varcorr()
    keys = list(zip(table["factor"], table["term"], table["stat"], strict=True))
    assert keys == [
        ("Subject", "Intercept", "sd"),
        ("Subject", "Days", "sd"),
        ("Subject", "Intercept:Days", "cor"),
        ("Residual", "", "sd"),
    ]
    post = sleep_fit.idata["posterior"]
    assert table["mean"].iloc[1] == pytest.approx(
        float(post["sd|Subject"].sel(Subject__term="Days").mean())
    )
    cor = post["cor|Subject"].sel(Subject__term="Intercept", Subject__term_bis="Days")
    assert table["mean"].iloc[2] == pytest.approx(float(cor.mean()))
    assert table["mean"].iloc[3] == pytest.approx(float(post["sigma"].mean()))


def test_summary_text_and_html(sleep_fit: hb.Fit):
    summary = sleep_fit.summary()
    text = str(summary)
    assert "Formula: Reaction ~ Days + (1 + Days | Subject)" in text
    assert "180 observations; groups: Subject, 18" in text
    assert "Random effects" in text and "Fixed effects" in text and "Residual" in text
    assert "4 chains x 500 draws" in text
    html = summary._repr_html_()
    assert html.startswith("<div>") and "Intercept" in html
    assert summary.fixed.equals(sleep_fit.fixef())


def test_idata_has_labelled_coords_and_log_likelihood(sleep_fit: hb.Fit, sleep):
    post = sleep_fit.idata["posterior"]
    assert list(post["b"]["term"].values) == ["Intercept", "Days"]
    assert post["u|Subject"].dims == ("chain", "draw", "Subject", "Subject__term")
    ll = sleep_fit.idata["log_likelihood"]["Reaction"]
    assert ll.sizes["obs"] == len(sleep)
    assert np.isfinite(ll.values).all()
