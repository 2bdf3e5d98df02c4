"""hb.table(): every cell is the number the fit's own method reports."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hierbayes as hb
from hierbayes.errors import SummaryError


@pytest.fixture(scope="module")
def table(hsb_small_fit, cbpp_fit):
    return hb.table({"HSB": hsb_small_fit, "cbpp": cbpp_fit})


def test_fixed_effects_equal_fixef(table, hsb_small_fit, cbpp_fit) -> None:
    for name, fit in (("HSB", hsb_small_fit), ("cbpp", cbpp_fit)):
        fixef = fit.fixef()
        for term, row in fixef.iterrows():
            cells = table.loc[("fixed effects", term), name]
            for stat in ("mean", "sd", "hdi_3%", "hdi_97%"):
                assert cells[stat] == row[stat]
    # a term one model lacks is empty for it
    assert np.isnan(table.loc[("fixed effects", "cses"), ("cbpp", "mean")])


def test_variance_components_icc_counts_and_loo(table, hsb_small_fit, cbpp_fit) -> None:
    varcorr = hsb_small_fit.varcorr()
    sd = varcorr[(varcorr["term"] == "cses") & (varcorr["stat"] == "sd")].iloc[0]
    assert table.loc[("variance components", "sd(cses) | school"), ("HSB", "mean")] == sd["mean"]
    cor = varcorr[varcorr["stat"] == "cor"].iloc[0]
    key = ("variance components", "cor(Intercept:cses) | school")
    assert table.loc[key, ("HSB", "hdi_97%")] == cor["hdi_97%"]
    sigma = varcorr[varcorr["factor"] == "Residual"].iloc[0]
    key = ("variance components", "sigma (residual SD)")
    assert table.loc[key, ("HSB", "mean")] == sigma["mean"]
    assert np.isnan(table.loc[key, ("cbpp", "mean")])  # binomial: no sigma
    icc = cbpp_fit.icc().iloc[0]
    assert table.loc[("ICC", "herd"), ("cbpp", "mean")] == icc["mean"]
    assert table.loc[("N", "observations"), ("HSB", "mean")] == hsb_small_fit.design.n_obs
    assert table.loc[("N", "groups | school"), ("HSB", "mean")] == 40
    assert table.loc[("N", "groups | herd"), ("cbpp", "mean")] == 15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.LooWarning)
        loo = cbpp_fit.loo()
    assert table.loc[("fit", "ELPD-LOO"), ("cbpp", "mean")] == pytest.approx(loo.elpd)
    assert table.loc[("fit", "ELPD-LOO"), ("cbpp", "sd")] == pytest.approx(loo.se)


def test_sections_in_order(table) -> None:
    sections = list(dict.fromkeys(table.index.get_level_values("section")))
    assert sections == ["fixed effects", "variance components", "ICC", "N", "fit"]


def test_text_format_and_latex(hsb_small_fit, cbpp_fit) -> None:
    text = hb.table({"HSB": hsb_small_fit, "cbpp": cbpp_fit}, format="text", digits=2)
    row = hsb_small_fit.fixef().loc["cses"]
    assert text.loc[("fixed effects", "cses"), "HSB"] == (
        f"{row['mean']:.2f} [{row['hdi_3%']:.2f}, {row['hdi_97%']:.2f}]"
    )
    assert text.loc[("N", "observations"), "HSB"] == f"{hsb_small_fit.design.n_obs:,}"
    assert text.loc[("fixed effects", "cses"), "cbpp"] == ""
    latex = text.to_latex(caption="Two models")
    assert latex.startswith("\\begin{table}")
    assert "\\toprule" in latex and "\\bottomrule" in latex
    assert "sector[T.Public]" in latex
    assert "hdi" not in latex
    numbers = hb.table({"HSB": hsb_small_fit}, loo=False).to_latex()
    assert "HSB hdi\\_3\\%" in numbers
    assert "<table" in text._repr_html_()


def test_bad_input_is_an_error(hsb_small_fit) -> None:
    with pytest.raises(SummaryError, match="needs a dict of fits by name"):
        hb.table([hsb_small_fit])
    with pytest.raises(SummaryError, match=r"M2 is not a hierbayes\.Fit"):
        hb.table({"M1": hsb_small_fit, "M2": "fit2"})
    with pytest.raises(SummaryError, match="format must be 'numbers' or 'text'"):
        hb.table({"M1": hsb_small_fit}, format="html")
