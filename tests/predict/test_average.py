"""Averages over the data: predictions, comparisons and slopes against the coefficients."""

from __future__ import annotations

import numpy as np
import pytest

import hierbayes as hb
from hierbayes.errors import SummaryError


def _b(fit: hb.Fit, term: str) -> np.ndarray:
    return fit.idata["posterior"]["b"].sel(term=term).values.ravel()


def test_comparison_and_slope_of_a_gaussian_model_equal_the_coefficient(ri_sim_fit) -> None:
    # y ~ x + (1 | g): the average change for x + 1, and the derivative, are b[x] in every draw
    coefficient = hb.Fit.fixef(ri_sim_fit).loc["x"]
    comparison = ri_sim_fit.comparisons("x").iloc[0]
    assert comparison["contrast"] == "+1"
    assert comparison["mean"] == pytest.approx(coefficient["mean"], rel=1e-9)
    assert comparison["sd"] == pytest.approx(coefficient["sd"], rel=1e-7)
    assert comparison["hdi_3%"] == pytest.approx(coefficient["hdi_3%"], rel=1e-7)
    slope = ri_sim_fit.slopes("x").iloc[0]
    assert slope["mean"] == pytest.approx(coefficient["mean"], rel=1e-6)
    marginal = ri_sim_fit.comparisons("x", delta=2.0, groups="marginal").iloc[0]
    assert marginal["mean"] == pytest.approx(2 * coefficient["mean"], rel=1e-9)


def test_comparison_of_a_categorical_predictor_with_an_interaction(hsb_small_fit) -> None:
    # Public - Catholic on every row: b[sector] + b[cses:sector] * cses_i, averaged over rows
    data = hsb_small_fit.design.data
    table = hsb_small_fit.comparisons("sector", by="sector")
    assert list(table["contrast"].unique()) == ["Public - Catholic"]
    for level, part in data.groupby("sector"):
        expected = (
            _b(hsb_small_fit, "sector[T.Public]")
            + _b(hsb_small_fit, "cses:sector[T.Public]") * part["cses"].mean()
        )
        row = table[table["sector"] == level].iloc[0]
        assert row["mean"] == pytest.approx(expected.mean(), rel=1e-9)


def test_slopes_by_a_moderator_by_finite_difference(hsb_small_fit) -> None:
    # population level: b[cses] + b[cses:meanses] meanses_i + b[cses:sector] Public_i, averaged;
    # each row's own school (the default) adds that school's cses deviation
    data = hsb_small_fit.design.data
    average_group = hsb_small_fit.slopes("cses", by="sector", groups="population")
    own = hsb_small_fit.slopes("cses", by="sector")
    u = hsb_small_fit.idata["posterior"]["u|school"].sel(school__term="cses")
    for level, part in data.groupby("sector"):
        expected = (
            _b(hsb_small_fit, "cses")
            + _b(hsb_small_fit, "cses:meanses") * part["meanses"].mean()
            + _b(hsb_small_fit, "cses:sector[T.Public]") * (level == "Public")
        )
        row = average_group[average_group["sector"] == level].iloc[0]
        assert row["mean"] == pytest.approx(expected.mean(), rel=1e-6)
        labels = part["school"].astype(str).to_numpy()
        deviation = u.sel(school=labels).values.reshape(expected.size, -1).mean(axis=1)
        row = own[own["sector"] == level].iloc[0]
        assert row["mean"] == pytest.approx((expected + deviation).mean(), rel=1e-6)


def test_average_predictions_of_the_average_group(hsb_small_fit) -> None:
    table = hsb_small_fit.predictions(by="sector", groups="population")
    design = hsb_small_fit.design
    b = hsb_small_fit.idata["posterior"]["b"].sel(term=list(design.fixed_columns))
    eta = b.values.reshape(-1, len(design.fixed_columns)) @ design.X.T
    for level in ("Catholic", "Public"):
        rows = (design.data["sector"] == level).to_numpy()
        row = table[table["sector"] == level].iloc[0]
        assert row["mean"] == pytest.approx(eta[:, rows].mean(), rel=1e-10)
    overall = hsb_small_fit.predictions(groups="population").iloc[0]
    assert overall["mean"] == pytest.approx(eta.mean(), rel=1e-10)


def test_bad_arguments_are_errors(hsb_small_fit) -> None:
    with pytest.raises(SummaryError, match=r"by= names \['region'\]"):
        hsb_small_fit.predictions(by="region")
    with pytest.raises(SummaryError, match="'sector' is categorical: use comparisons"):
        hsb_small_fit.slopes("sector")
    with pytest.raises(SummaryError, match="'ses' is not a column of the data"):
        hsb_small_fit.comparisons("ses")
    with pytest.raises(SummaryError, match="groups must be one of"):
        hsb_small_fit.predictions(groups="all")
    with pytest.raises(SummaryError, match="delta must be a non-zero number"):
        hsb_small_fit.comparisons("cses", delta=0.0)
