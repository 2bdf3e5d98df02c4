"""fit.hypothesis(): posterior probabilities, evidence ratios and Savage-Dickey Bayes factors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import SummaryError
from hierbayes.predict.prior import prior_draws
from hierbayes.summaries.hypothesis import (
    PRIOR_DRAWS,
    linear_normal_prior,
    savage_dickey,
    support_edge,
)
from hierbayes.summaries.hypothesis_parse import parse_hypothesis


def _b(fit: hb.Fit, term: str) -> np.ndarray:
    return fit.idata["posterior"]["b"].sel(term=term).values.ravel()


def test_savage_dickey_matches_the_closed_form() -> None:
    # posterior N(0.5, 1), prior N(0, 2): BF01 = N(0 | 0.5, 1) / N(0 | 0, 2). The kernel
    # estimate's expectation is the density smoothed by its bandwidth h (Scott: n^-1/5 sd);
    # its SD at the point is sqrt(f R(K) / (n h)) with R(K) = 1 / (2 sqrt(pi)).
    n = 20_000
    draws = np.random.default_rng(7).normal(0.5, 1.0, n)
    prior = float(stats.norm(0.0, 2.0).pdf(0.0))
    bf, density = savage_dickey(draws, prior)
    h = n ** (-1 / 5) * np.std(draws, ddof=1)
    smoothed = stats.norm(0.5, np.sqrt(1.0 + h**2)).pdf(0.0)
    se = np.sqrt(smoothed / (2 * np.sqrt(np.pi)) / (n * h))
    assert abs(density - smoothed) < 4 * se
    assert bf == pytest.approx(density / prior)
    exact = stats.norm(0.5, 1.0).pdf(0.0) / prior
    assert abs(bf - exact) < 4 * se / prior + abs(smoothed - stats.norm(0.5, 1).pdf(0)) / prior


def test_one_sided_probability_is_the_share_of_draws(hsb_small_fit: hb.Fit) -> None:
    table = hsb_small_fit.hypothesis(["cses:sector[T.Public] < 0", "meanses > 2 * cses"])
    d = _b(hsb_small_fit, "cses:sector[T.Public]")
    row = table.loc["cses:sector[T.Public] < 0"]
    assert row["post_prob"] == pytest.approx(np.mean(d < 0))
    assert row["evid_ratio"] == pytest.approx(np.mean(d < 0) / np.mean(d >= 0))
    assert row["estimate"] == pytest.approx(d.mean())
    assert row["sd"] == pytest.approx(d.std(ddof=1))
    assert np.isnan(row["bf01"])
    d2 = _b(hsb_small_fit, "meanses") - 2 * _b(hsb_small_fit, "cses")
    row = table.loc["meanses - 2 * cses > 0"]
    assert row["post_prob"] == pytest.approx(np.mean(d2 > 0))
    assert row["star"] == ("*" if np.mean(d2 > 0) > 0.94 else "")


def test_linear_normal_prior_matches_prior_draws(hsb_small_fit: hb.Fit) -> None:
    # b[Intercept] = Intercept_c - mean(X) @ beta: its prior involves every slope's prior
    design, priors = hsb_small_fit.design, hsb_small_fit.model.prior_values
    names = list(design.fixed_columns)
    draws = prior_draws(design, priors, 20_000, np.random.default_rng(3))
    for text in ("Intercept - 3 * sector[T.Public] = 10", "cses - meanses = 0"):
        hyp = parse_hypothesis(text, names)
        mean, sd = linear_normal_prior(hyp, design, priors)
        values = {p: draws["b"].sel(term=p).values.ravel() for p in hyp.parameters}
        d = hyp.evaluate(values)
        assert abs(d.mean() - mean) < 4 * sd / np.sqrt(d.size)
        assert abs(d.std(ddof=1) - sd) < 4 * sd / np.sqrt(2 * d.size)
    assert (
        linear_normal_prior(parse_hypothesis("cses * meanses = 0", names), design, priors) is None
    )


def test_point_hypothesis_uses_the_exact_prior_density(hsb_small_fit: hb.Fit) -> None:
    table = hsb_small_fit.hypothesis("cses - meanses = 0")
    row = table.iloc[0]
    design, priors = hsb_small_fit.design, hsb_small_fit.model.prior_values
    mean, sd = linear_normal_prior(
        parse_hypothesis("cses - meanses = 0", list(design.fixed_columns)), design, priors
    )
    assert row["prior_density"] == pytest.approx(stats.norm(mean, sd).pdf(0.0))
    d = _b(hsb_small_fit, "cses") - _b(hsb_small_fit, "meanses")
    assert row["posterior_density"] == pytest.approx(stats.gaussian_kde(d)(0.0)[0])
    assert row["bf01"] == pytest.approx(row["posterior_density"] / row["prior_density"])
    assert row["post_prob"] == pytest.approx(row["bf01"] / (1 + row["bf01"]))


def test_point_hypothesis_on_an_sd_uses_prior_draws(hsb_small_fit: hb.Fit) -> None:
    a = hsb_small_fit.hypothesis("sd|school[cses] = 0.5", random_seed=2)
    b = hsb_small_fit.hypothesis("sd|school[cses] = 0.5", random_seed=2)
    assert a.equals(b)
    # HalfNormal(s) prior of the SD, its density at x estimated from the same prior draws by a
    # kernel estimate reflected at 0, whose expectation is 2 N(x | 0, sqrt(s^2 + h^2))
    design, priors = hsb_small_fit.design, hsb_small_fit.model.prior_values
    scale = float(priors["sd|school"].kwargs["sigma"][1])
    draws = prior_draws(design, priors, PRIOR_DRAWS, np.random.default_rng(2))
    values = draws["sd|school"].sel(school__term="cses").values.ravel()
    h = values.size ** (-1 / 5) * values.std(ddof=1)
    expected = 2 * stats.norm(0.0, np.sqrt(scale**2 + h**2)).pdf(0.5)
    se = np.sqrt(expected / (2 * np.sqrt(np.pi)) / (values.size * h))
    assert abs(a["prior_density"].iloc[0] - expected) < 4 * se
    # the posterior density is reflected the same way
    sd = hsb_small_fit.idata["posterior"]["sd|school"].sel(school__term="cses").values.ravel()
    kde = stats.gaussian_kde(sd)
    assert a["posterior_density"].iloc[0] == pytest.approx(kde(0.5)[0] + kde(-0.5)[0])
    # a point hypothesis on a location is not reflected
    assert support_edge(parse_hypothesis("cses = 0.5", list(design.fixed_columns)), design) is None


def test_bad_hypotheses_are_errors(hsb_small_fit: hb.Fit) -> None:
    with pytest.raises(SummaryError, match="names 'ses', which is not a parameter"):
        hsb_small_fit.hypothesis("ses > 0")
    with pytest.raises(SummaryError, match="contains Call"):
        hsb_small_fit.hypothesis("exec('1') > cses")
    with pytest.raises(SummaryError, match="at least one hypothesis"):
        hsb_small_fit.hypothesis([])
