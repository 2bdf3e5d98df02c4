"""Population-averaged predictions: quadrature against adaptive integration and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import expit

from hierbayes.errors import ArgumentError
from hierbayes.families import get_family
from hierbayes.predict.draws import new_group_effects, posterior_draws
from hierbayes.predict.marginal import integrate_inverse_link


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


def test_marginal_has_no_response_draws(cbpp_fit) -> None:
    with pytest.raises(ArgumentError, match="groups='marginal' averages the expected response"):
        cbpp_fit.predict(pd.DataFrame({"period": [1]}), groups="marginal", kind="pps")


@pytest.mark.parametrize(
    ("link", "sd", "tolerance"),
    [
        ("probit", 0.5, 1e-12),
        ("probit", 2.0, 1e-12),
        ("probit", 5.0, 1e-12),
        ("cloglog", 0.5, 1e-12),
        ("cloglog", 1.0, 1e-9),
        ("cloglog", 2.0, 1e-5),
        ("cloglog", 5.0, 2e-4),
    ],
)
@pytest.mark.parametrize("eta", [-3.0, 0.4, 1.5])
def test_probit_and_cloglog_normal_integrals(link: str, sd: float, tolerance, eta: float) -> None:
    # probit has the closed form Φ(η / √(1 + v)); cloglog is integrated by quadrature
    family = get_family("bernoulli", link)
    ours = float(integrate_inverse_link(family, np.array([eta]), np.array([sd**2]))[0])
    exact, _ = integrate.quad(
        lambda s: (
            family.inverse_link(np.array(eta + s))
            * np.exp(-0.5 * (s / sd) ** 2)
            / (sd * np.sqrt(2 * np.pi))
        ),
        -np.inf,
        np.inf,
        epsabs=1e-14,
        limit=400,
    )
    assert ours == pytest.approx(exact, abs=tolerance)


def test_a_zero_inflated_mean_is_integrated_with_its_own_parameters() -> None:
    eta, v = np.array([[0.5, -1.0]]), np.array([[0.8, 0.2]])
    zi = np.array([[0.3], [0.1]])
    for name in ("zero_inflated_poisson", "zero_inflated_negativebinomial"):
        family = get_family(name)
        got = integrate_inverse_link(family, eta, v, params={"zi": zi, "shape": 2.0})
        # E[(1 - zi) exp(η + s)] = (1 - zi) exp(η + v/2): quadrature against the closed form
        np.testing.assert_allclose(got, (1 - zi) * np.exp(eta + v / 2), rtol=1e-10)
