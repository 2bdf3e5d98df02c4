"""Averages over the data (predictions, comparisons, slopes) and population-averaged predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import expit

import hierbayes as hb
from hierbayes.errors import SummaryError
from hierbayes.families import get_family
from hierbayes.predict.draws import new_group_effects, posterior_draws
from hierbayes.predict.marginal import integrate_inverse_link


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


@pytest.mark.parametrize(
    ("eta", "variance", "tolerance"),
    [(-2.0, 0.3, 1e-12), (0.4, 1.0, 1e-12), (1.5, 4.0, 1e-9), (-3.0, 25.0, 1e-6)],
)
def test_logit_normal_integral_by_quadrature(eta: float, variance: float, tolerance) -> None:
    family = get_family("bernoulli")
    ours = float(integrate_inverse_link(family, np.array([eta]), np.array([variance]))[0])
    sd = np.sqrt(variance)
    exact, _ = integrate.quad(
        lambda s: expit(eta + s) * np.exp(-0.5 * (s / sd) ** 2) / (sd * np.sqrt(2 * np.pi)),
        -np.inf,
        np.inf,
        epsabs=1e-14,
        limit=200,
    )
    assert ours == pytest.approx(exact, abs=tolerance)
    # and against brute-force simulation, within 4 Monte Carlo SEs
    p = expit(eta + sd * np.random.default_rng(1).standard_normal(1_000_000))
    assert abs(ours - p.mean()) < 4 * p.std() / np.sqrt(p.size)


def test_marginal_prediction_averages_new_groups(cbpp_fit) -> None:
    new = pd.DataFrame({"period": [1, 4], "size": [10, 10]})
    marginal = cbpp_fit.predict(new, groups="marginal").values.reshape(-1, 2)
    draws = posterior_draws(cbpp_fit)
    b = draws.b.reshape(-1, draws.b.shape[-1])
    eta = np.stack([b[:, 0], b[:, 0] + b[:, 3]], axis=1)  # period 1 and 4
    sd = draws.sd["herd"].reshape(-1, 1)
    u = new_group_effects(sd, None, 2000, np.random.default_rng(2))[..., 0]  # (S, M)
    brute = expit(eta[:, :, None] + u[:, None, :]).mean(axis=2)
    diff = marginal - brute
    assert np.all(np.abs(diff.mean(axis=0)) < 4 * diff.std(axis=0) / np.sqrt(diff.shape[0]))
    population = cbpp_fit.predict(new, groups="population").values.reshape(-1, 2)
    # with a logit link the population average is pulled toward 1/2 from the average group
    assert np.all(marginal.mean(axis=0) > population.mean(axis=0))


def test_marginal_equals_population_for_a_gaussian_model(ri_sim_fit) -> None:
    new = pd.DataFrame({"x": [0.0, 1.0]})
    a = ri_sim_fit.predict(new, groups="marginal")
    b = ri_sim_fit.predict(new, groups="population")
    assert np.allclose(a.values, b.values)


def test_bad_arguments_are_errors(hsb_small_fit, cbpp_fit) -> None:
    with pytest.raises(ValueError, match="groups='marginal' averages the expected response"):
        cbpp_fit.predict(pd.DataFrame({"period": [1]}), groups="marginal", kind="pps")
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
