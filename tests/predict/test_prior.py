"""Prior draws, log prior densities and prior predictive draws against closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.density.layout import centred_fixed_design, prior_rows
from hierbayes.density.prior_density import prior_logp
from hierbayes.errors import ArgumentError, PriorError
from hierbayes.predict.prior import (
    lkj_logpdf,
    log_prior,
    prior_logpdf,
    sample_lkj,
    sample_prior,
)

N = 4000


def _data(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(8), 6)
    x = rng.normal(1.5, 2.0, g.size)
    y = 1.0 + 0.5 * x + rng.normal(0, 1, 8)[g] + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


PRIORS = {
    "Intercept": hb.Prior("Normal", mu=3.0, sigma=2.0),
    "b|x": hb.Prior("Normal", mu=-1.0, sigma=0.5),
    "sd|g": hb.Prior("HalfNormal", sigma=[1.5, 0.4]),
    "cor|g": hb.Prior("LKJ", eta=2.0),
    "sigma": hb.Prior("HalfStudentT", nu=3.0, sigma=1.2),
}


@pytest.fixture(scope="module")
def model() -> hb.Model:
    return hb.Model("y ~ x + (1 + x | g)", data=_data(), priors=PRIORS)


@pytest.fixture(scope="module")
def prior(model: hb.Model):
    return model.prior_predictive(draws=N, random_seed=3)


def _within(values: np.ndarray, expected: float, se: float) -> None:
    assert abs(float(np.mean(values)) - expected) < 4 * se, (np.mean(values), expected, se)


def test_groups_and_labels(model: hb.Model, prior) -> None:
    assert set(prior.children) == {"prior", "prior_predictive", "observed_data"}
    draws = prior["prior"]
    assert list(draws["b"]["term"].values) == ["Intercept", "x"]
    assert list(draws["u|g"]["g"].values) == list(model.design.blocks[0].levels)
    assert list(draws["sd|g"]["g__term"].values) == ["Intercept", "x"]
    assert dict(prior["prior_predictive"]["y"].sizes) == {"chain": 1, "draw": N, "obs": 48}


def test_same_seed_same_draws(model: hb.Model) -> None:
    a = model.prior_predictive(draws=20, random_seed=5)
    b = model.prior_predictive(draws=20, random_seed=5)
    assert np.array_equal(a["prior_predictive"]["y"].values, b["prior_predictive"]["y"].values)


def test_fixed_effects_follow_the_prior_table(model: hb.Model, prior) -> None:
    b = prior["prior"]["b"].values.reshape(N, 2)
    _, means, _ = centred_fixed_design(model.design)
    slope = b[:, 1]
    centred = b[:, 0] + means[0] * slope  # the Intercept prior is at the predictors' means
    _within(slope, -1.0, 0.5 / np.sqrt(N))
    _within(centred, 3.0, 2.0 / np.sqrt(N))
    _within(np.std(slope, ddof=1), 0.5, 0.5 / np.sqrt(2 * N))
    _within(np.std(centred, ddof=1), 2.0, 2.0 / np.sqrt(2 * N))
    assert abs(np.corrcoef(slope, centred)[0, 1]) < 4 / np.sqrt(N)


def test_sds_sigma_and_correlation_follow_the_prior_table(prior) -> None:
    draws = prior["prior"]
    sd = draws["sd|g"].values.reshape(N, 2)
    for k, scale in enumerate((1.5, 0.4)):
        mean, var = scale * np.sqrt(2 / np.pi), scale**2 * (1 - 2 / np.pi)
        _within(sd[:, k], mean, np.sqrt(var / N))
    sigma = draws["sigma"].values.ravel()
    median = 1.2 * stats.t(3).ppf(0.75)  # |t_3| * 1.2
    density = 2 * stats.t(3, scale=1.2).pdf(median)
    assert abs(np.median(sigma) - median) < 4 * np.sqrt(0.25 / N) / density
    r = draws["cor|g"].values.reshape(N, 2, 2)[:, 0, 1]
    _within(r, 0.0, np.sqrt(0.2 / N))  # LKJ(2), 2 x 2: r = 2 Beta(2, 2) - 1, variance 1/5
    se_var = np.sqrt((np.mean(r**4) - np.mean(r**2) ** 2) / N)
    _within(r**2, 0.2, se_var)


def test_group_effects_have_the_drawn_covariance(prior) -> None:
    draws = prior["prior"]
    u = draws["u|g"].values[0]  # (draw, group, coef)
    sd = draws["sd|g"].values[0]
    z = u / sd[:, None, :]  # standardised effects of each group: unit variance
    _within(z[..., 0].ravel() ** 2, 1.0, np.sqrt(2.0 / N))


def test_onion_method_matches_lkj_marginals() -> None:
    # LKJ(eta) in dimension d: each correlation is 2 Beta(b, b) - 1, b = eta - 1 + d / 2
    n = 20_000
    cor = sample_lkj(1.0, 3, n, np.random.default_rng(2))
    assert np.allclose(cor, np.swapaxes(cor, 1, 2))
    assert np.all(np.linalg.eigvalsh(cor) > -1e-12)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        r = cor[:, i, j]
        se = np.sqrt((np.mean(r**4) - np.mean(r**2) ** 2) / n)
        _within(r**2, 1 / (2 * 1.5 + 1), se)


def test_lkj_density_integrates_to_one() -> None:
    r = np.linspace(-1, 1, 20_001)[1:-1]
    cor = np.stack([np.stack([np.ones_like(r), r], -1), np.stack([r, np.ones_like(r)], -1)], -2)
    density = np.exp(lkj_logpdf(2.0, cor))
    assert np.trapezoid(density, r) == pytest.approx(1.0, abs=1e-6)


def test_response_of_a_simple_model_matches_its_closed_form() -> None:
    # y = Intercept + u_g + e: mean m, variance s0^2 + tau^2 + s^2 (one row per draw: iid)
    data = _data(1)
    priors = {
        "Intercept": hb.Prior("Normal", mu=5.0, sigma=2.0),
        "sd|g": hb.Prior("HalfNormal", sigma=1.5),
        "sigma": hb.Prior("HalfNormal", sigma=0.8),
    }
    m = hb.Model("y ~ 1 + (1 | g)", data=data, priors=priors)
    y = m.prior_predictive(draws=N, random_seed=4)["prior_predictive"]["y"].values[0, :, 0]
    variance = 2.0**2 + 1.5**2 + 0.8**2
    _within(y, 5.0, np.sqrt(variance / N))
    se = np.sqrt((np.mean((y - 5.0) ** 4) - variance**2) / N)
    _within((y - 5.0) ** 2, variance, se)


def test_binomial_response_stays_within_trials() -> None:
    m = hb.Model(
        "incidence | trials(size) ~ C(period) + (1 | herd)",
        data=hb.datasets.load("cbpp"),
        family="binomial",
    )
    y = m.prior_predictive(draws=50, random_seed=1)["prior_predictive"]["incidence"].values
    assert y.dtype.kind == "i"
    assert np.all((y >= 0) & (y <= m.design.trials))


def test_priors_too_wide_to_draw_counts_are_a_prior_error() -> None:
    """Default-like priors on a log link can give rates numpy cannot draw (above ~1e19): a
    PriorError that says why, not numpy's ValueError."""
    data = pd.DataFrame({"count": [0, 1, 2, 3], "g": list("aabb")})
    priors = {"Intercept": hb.Prior("Normal", mu=60.0, sigma=1.0)}
    m = hb.Model("count ~ 1 + (1 | g)", data=data, family="poisson", priors=priors)
    with pytest.raises(hb.PriorError, match=r"poisson responses that cannot be drawn .*reaches"):
        m.prior_predictive(draws=5, random_seed=1)


def test_negative_binomial_draws_its_shape_and_overdispersed_counts() -> None:
    """The family's own parameters are drawn from their priors and reach the response: with
    the rate fixed at 3 and shape ~ Gamma(4, 1), E[y] = 3 and Var(y) = 3 + 9 E[1/shape] = 6."""
    data = pd.DataFrame({"count": np.arange(6) % 3})
    priors = {
        "Intercept": hb.Prior("Normal", mu=float(np.log(3.0)), sigma=1e-6),
        "shape": hb.Prior("Gamma", alpha=4.0, beta=1.0),
    }
    m = hb.Model("count ~ 1", data=data, family="negativebinomial", priors=priors)
    draws = m.prior_predictive(draws=N, random_seed=5)
    shape = draws["prior"]["shape"].values.ravel()
    _within(shape, 4.0, 2.0 / np.sqrt(N))
    y = draws["prior_predictive"]["count"].values[0, :, 0]
    assert y.dtype.kind == "i"
    _within(y, 3.0, np.sqrt(6.0 / N))
    se = np.sqrt((np.mean((y - 3.0) ** 4) - 36.0) / N)
    _within((y - 3.0) ** 2, 6.0, se)
    scored = log_prior(m.design, m.prior_values, draws["prior"].to_dataset())
    expected = stats.gamma(4.0, scale=1.0).logpdf(shape)
    np.testing.assert_allclose(scored["shape"].values.ravel(), expected, rtol=1e-10)


@pytest.mark.parametrize(
    ("family", "dpar", "response"),
    [
        ("negativebinomial", "shape", "count"),
        ("zero_inflated_negativebinomial", "shape", "count"),
        ("gamma", "shape", "y"),
        ("beta", "phi", "y"),
    ],
)
@pytest.mark.filterwarnings("error::RuntimeWarning")  # no 0 x inf in the discarded branch
def test_default_dispersion_priors_give_response_draws(family, dpar, response) -> None:
    """brms's default Gamma(0.01, 0.01) on a shape or precision draws values below 1e-300 (some
    round to 0), where NumPy's samplers refuse the parameters or overflow: the responses are
    the limit (counts 0; a gamma's 0; a beta's 0 or 1), never an error or a NaN."""
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(6), 5)
    y = {"count": rng.poisson(3, g.size), "y": rng.uniform(0.1, 0.9, g.size)}[response]
    data = pd.DataFrame({response: y, "g": [f"g{j}" for j in g]})
    m = hb.Model(f"{response} ~ 1 + (1 | g)", data=data, family=family)
    draws = m.prior_predictive(draws=2000, random_seed=3)
    value = draws["prior"][dpar].values.ravel()
    assert value.min() < 1e-306  # the case at hand is drawn
    out = draws["prior_predictive"][response].values
    assert np.isfinite(out).all() and (out >= 0).all()
    if family == "beta":
        assert (out <= 1).all()


@pytest.mark.parametrize(
    ("prior", "positive", "values"),
    [
        (hb.Prior("Normal", mu=1.0, sigma=2.0), False, [-1.0, 0.5, 3.0]),
        (hb.Prior("StudentT", nu=4.0, mu=1.0, sigma=2.0), False, [-1.0, 0.5, 3.0]),
        (hb.Prior("Cauchy", alpha=0.5, beta=2.0), False, [-1.0, 0.5, 3.0]),
        (hb.Prior("Laplace", mu=0.5, b=2.0), False, [-1.0, 0.5, 3.0]),
        (hb.Prior("HalfNormal", sigma=2.0), True, [0.1, 1.0, 3.0]),
        (hb.Prior("HalfStudentT", nu=3.0, sigma=2.0), True, [0.1, 1.0, 3.0]),
        (hb.Prior("HalfCauchy", beta=2.0), True, [0.1, 1.0, 3.0]),
        (hb.Prior("Exponential", lam=0.7), True, [0.1, 1.0, 3.0]),
        (hb.Prior("Gamma", alpha=2.0, beta=1.5), True, [0.1, 1.0, 3.0]),
        (hb.Prior("InverseGamma", alpha=2.0, beta=1.5), True, [0.1, 1.0, 3.0]),
        (hb.Prior("LogNormal", mu=0.2, sigma=0.7), True, [0.1, 1.0, 3.0]),
        (hb.Prior("Weibull", alpha=1.5, beta=2.0), True, [0.1, 1.0, 3.0]),
    ],
)
def test_log_density_equals_the_kernels(prior: hb.Prior, positive: bool, values) -> None:
    # the kernel's prior densities are tested against PyMC's to 1e-9
    (row,) = prior_rows("p", prior, 1, positive=positive)
    ours = prior_logpdf("p", prior, np.array(values)[:, None], positive=positive)[:, 0]
    kernel = [prior_logp(int(row[0]), row[1], row[2], row[3], v)[0] for v in values]
    assert np.allclose(ours, kernel, rtol=0, atol=1e-10)
    draws = sample_prior("p", prior, 1, 20_000, np.random.default_rng(0), positive=positive)
    # draws follow the density: the density integrated up to the draws' median is 1/2, within
    # 4 binomial SEs (plus the numerical integral's error)
    mid = float(np.median(draws[:, 0]))
    lo = -60.0 if not positive else 0.0
    xs = np.linspace(lo, mid, 200_001)[1:]
    dens = np.exp(prior_logpdf("p", prior, xs[:, None], positive=positive)[:, 0])
    assert abs(np.trapezoid(dens, xs) - 0.5) < 4 * np.sqrt(0.25 / 20_000) + 0.01


def test_log_prior_scores_the_intercept_at_the_predictors_means(model: hb.Model, prior) -> None:
    draws = prior["prior"].to_dataset()
    lp = log_prior(model.design, model.prior_values, draws)
    b = draws["b"].values.reshape(N, 2)
    _, means, _ = centred_fixed_design(model.design)
    expected = stats.norm(3.0, 2.0).logpdf(b[:, 0] + means[0] * b[:, 1])
    assert np.allclose(lp["Intercept"].values.ravel(), expected)
    sd = draws["sd|g"].values.reshape(N, 2)
    expected_sd = stats.halfnorm(scale=1.5).logpdf(sd[:, 0]) + stats.halfnorm(scale=0.4).logpdf(
        sd[:, 1]
    )
    assert np.allclose(lp["sd|g"].values.ravel(), expected_sd)
    assert set(lp.data_vars) == {"Intercept", "b|x", "sd|g", "cor|g", "sigma"}


def test_improper_prior_has_no_draws() -> None:
    m = hb.Model("y ~ x + (1 | g)", data=_data(), priors={"b|x": hb.Prior("Flat")})
    with pytest.raises(PriorError, match="'b\\|x' is Flat, an improper prior"):
        m.prior_predictive(draws=10)


@pytest.mark.parametrize("draws", [0, -1, 2.5, True, "10"])
def test_draws_must_be_a_positive_integer(model: hb.Model, draws: object) -> None:
    with pytest.raises(ArgumentError, match=f"draws must be a positive integer, got {draws!r}"):
        model.prior_predictive(draws=draws)


def test_a_prior_the_kernel_lacks_is_drawn_and_scored_by_pymc() -> None:
    m = hb.Model(
        "y ~ x + (1 | g)", data=_data(), priors={"b|x": hb.Prior("Uniform", lower=-5, upper=20)}
    )
    draws = m.prior_predictive(draws=2000, random_seed=1)["prior"].to_dataset()
    slope = draws["b"].sel(term="x").values.ravel()
    assert slope.min() >= -5 and slope.max() <= 20
    _within(slope, 7.5, 25 / np.sqrt(12 * slope.size))
    lp = log_prior(m.design, m.prior_values, draws)
    assert np.allclose(lp["b|x"].values, -np.log(25.0))


def test_every_own_parameter_of_the_family_is_drawn_scored_and_used() -> None:
    # Student-t: sigma and nu from their priors, the response from StudentT(nu, eta, sigma)
    data = _data()
    model = hb.Model(
        "y ~ 1", data, family="student_t", priors={"nu": hb.Prior("Gamma", alpha=4.0, beta=0.5)}
    )
    tree = model.prior_predictive(draws=N, random_seed=3)
    nu = tree["prior"]["nu"].values.ravel()
    # Gamma(4, rate 0.5): mean 8, SD 4
    assert abs(nu.mean() - 8.0) < 4 * 4.0 / np.sqrt(N)
    scored = log_prior(model.design, model.prior_values, tree["prior"].to_dataset())
    np.testing.assert_allclose(scored["nu"].values.ravel(), stats.gamma.logpdf(nu, 4.0, scale=2.0))
    # the response's quartiles given each draw's η, σ, ν: |y - η| < σ t_ν(0.75) half the time
    prior = tree["prior"]
    eta = prior["b"].sel(term="Intercept").values.ravel()[:, None]
    sigma = prior["sigma"].values.ravel()[:, None]
    y = tree["prior_predictive"]["y"].values.reshape(N, -1)
    inside = np.abs(y - eta) < sigma * stats.t.ppf(0.75, nu[:, None])
    assert abs(inside.mean() - 0.5) < 4 * np.sqrt(0.25 / inside.size)
