"""fit.conditional_effects() and fit.plot_effects() against a hand computation from the draws."""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy.special import expit

import hierbayes as hb
from hierbayes.errors import SummaryError


def _b(fit: hb.Fit) -> dict[str, np.ndarray]:
    b = fit.idata["posterior"]["b"]
    return {str(t): b.sel(term=t).values.ravel() for t in b["term"].values}


def _hdi(values: np.ndarray) -> tuple[float, float]:
    interval = az.hdi(xr.DataArray(values[None], dims=("chain", "draw")), prob=0.94)
    return float(interval.sel(ci_bound="lower")), float(interval.sel(ci_bound="upper"))


def test_line_by_a_categorical_moderator(hsb_small_fit: hb.Fit) -> None:
    table = hsb_small_fit.conditional_effects("cses", by="sector")
    data = hsb_small_fit.design.data
    meanses = data["meanses"].mean()
    b = _b(hsb_small_fit)
    assert list(table["sector"].unique()) == ["Catholic", "Public"]
    assert np.allclose(table["meanses"], meanses)
    assert table["cses"].min() == pytest.approx(data["cses"].min())
    assert table["cses"].max() == pytest.approx(data["cses"].max())
    for _, row in table.iloc[[0, 37, 49, 50, 99]].iterrows():
        public = float(row["sector"] == "Public")
        x = row["cses"]
        eta = (
            b["Intercept"]
            + b["cses"] * x
            + b["meanses"] * meanses
            + b["sector[T.Public]"] * public
            + b["cses:meanses"] * x * meanses
            + b["cses:sector[T.Public]"] * x * public
        )
        assert row["mean"] == pytest.approx(eta.mean(), rel=1e-10)
        assert row["sd"] == pytest.approx(eta.std(ddof=1), rel=1e-8)
        assert (row["hdi_3%"], row["hdi_97%"]) == pytest.approx(_hdi(eta), rel=1e-10)


def test_points_of_a_categorical_predictor_at_a_numeric_moderator(hsb_small_fit: hb.Fit) -> None:
    table = hsb_small_fit.conditional_effects("sector", by="meanses", at={"cses": 0.5})
    data = hsb_small_fit.design.data
    m, s = data["meanses"].mean(), data["meanses"].std(ddof=1)
    assert np.allclose(sorted(table["meanses"].unique()), [m - s, m, m + s])
    b = _b(hsb_small_fit)
    row = table[(table["sector"] == "Public") & np.isclose(table["meanses"], m + s)].iloc[0]
    w = m + s
    eta = (
        b["Intercept"]
        + b["cses"] * 0.5
        + b["meanses"] * w
        + b["sector[T.Public]"]
        + b["cses:meanses"] * 0.5 * w
        + b["cses:sector[T.Public]"] * 0.5
    )
    assert row["mean"] == pytest.approx(eta.mean(), rel=1e-10)


def test_response_scale_of_a_binomial_model(cbpp_fit: hb.Fit) -> None:
    table = cbpp_fit.conditional_effects("period")
    b = _b(cbpp_fit)
    assert list(table["period"]) == [1, 2, 3, 4]
    assert table["mean"].iloc[0] == pytest.approx(expit(b["Intercept"]).mean(), rel=1e-10)
    p3 = expit(b["Intercept"] + b["C(period)[T.3]"])
    assert table["mean"].iloc[2] == pytest.approx(p3.mean(), rel=1e-10)
    link = cbpp_fit.conditional_effects("period", scale="link")
    assert link["mean"].iloc[2] == pytest.approx((b["Intercept"] + b["C(period)[T.3]"]).mean())


def test_bad_arguments_are_errors(hsb_small_fit: hb.Fit) -> None:
    with pytest.raises(SummaryError, match="x='ses' is not a population-level predictor"):
        hsb_small_fit.conditional_effects("ses")
    with pytest.raises(SummaryError, match="by='cses' is the predictor itself"):
        hsb_small_fit.conditional_effects("cses", by="cses")
    with pytest.raises(SummaryError, match=r"at= names \['school'\]"):
        hsb_small_fit.conditional_effects("cses", at={"school": 1224})
    with pytest.raises(SummaryError, match="scale must be 'response' or 'link'"):
        hsb_small_fit.conditional_effects("cses", scale="odds")
