"""Prior draws of the build layer against the distributions of the prior table."""

from __future__ import annotations

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.build.prior_draws import draw_prior

N = 4000


def _model() -> hb.Model:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"g": np.repeat(list("abcdef"), 5), "x": rng.normal(2.0, 1.0, 30), "y": rng.normal(size=30)}
    )
    priors = {
        "Intercept": hb.Prior("Normal", mu=1.0, sigma=0.5),
        "b|x": hb.Prior("Normal", mu=0.0, sigma=2.0),
        "sd|g": hb.Prior("HalfNormal", sigma=[1.0, 0.5]),
        "sigma": hb.Prior("Exponential", lam=2.0),
    }
    return hb.Model("y ~ x + (1 + x | g)", data=data, priors=priors)


def test_prior_draws_match_the_prior_table_within_monte_carlo_error():
    m = _model()
    d = draw_prior(m.design, m.prior_values, N, random_seed=3)
    se = 4 / np.sqrt(N)  # 4 Monte Carlo SEs in units of the distribution's SD
    slope = d["b"][:, 1]
    assert abs(slope.mean()) < 2.0 * se and abs(slope.std() / 2.0 - 1) < 2 * se
    # the prior is on the intercept at the mean of x: Intercept_c = b0 + mean(x) b1
    centred = d["b"][:, 0] + m.design.X[:, 1].mean() * slope
    assert abs(centred.mean() - 1.0) < 0.5 * se and abs(centred.std() / 0.5 - 1) < 2 * se
    # HalfNormal(s): mean s sqrt(2/pi), SD s sqrt(1 - 2/pi)
    for k, s in enumerate([1.0, 0.5]):
        draws = d["sd|g"][:, k]
        assert abs(draws.mean() - s * np.sqrt(2 / np.pi)) < s * np.sqrt(1 - 2 / np.pi) * se
    assert abs(d["sigma"].mean() - 0.5) < 0.5 * se  # Exponential(2): mean = SD = 0.5
    # LKJ(2) on a 2x2 correlation: density ∝ (1 - r²), mean 0, variance 1/5
    r = d["cor|g"][:, 0, 1]
    assert abs(r.mean()) < np.sqrt(0.2) * se and abs(r.var() - 0.2) < 0.2 * 2 * se
    # the response given the parameters: y - eta has SD sigma
    assert d["y"].shape == (N, 30) and d["u|g"].shape == (N, 6, 2)


def test_draw_i_does_not_depend_on_the_number_of_draws():
    m = _model()
    few = draw_prior(m.design, m.prior_values, 3, random_seed=9)
    more = draw_prior(m.design, m.prior_values, 5, random_seed=9)
    for name, values in few.items():
        np.testing.assert_array_equal(values, more[name][:3])
