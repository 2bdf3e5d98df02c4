"""The compiled log-density equals the PyMC model's, and its gradient is the derivative.

The PyMC model of ``hierbayes.build`` is the reference: with its value transforms removed, its
log-density (without Jacobians) at the constrained values of a point must equal the kernel's
log-density at that point minus the log-Jacobian of the kernel's own transforms (log for SDs,
the row map for correlation factors). The gradient is checked against central differences.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from pymc.model.transform.conditioning import remove_value_transforms
from scipy import stats

import hierbayes as hb
from hierbayes.density import shear_layout
from hierbayes.density.codes import M_PAIRS
from hierbayes.density.dpar_layout import dpar_blocks
from hierbayes.density.draws import named_draws
from hierbayes.density.layout import Layout, make_layout, prior_rows
from hierbayes.density.prior_density import prior_logp


@pytest.fixture(autouse=True)
def _terms_as_written(monkeypatch):
    """The PyMC model samples every term as written: no slope at its centre here (the sheared
    kernel is checked against this one in test_shear.py)."""
    monkeypatch.setattr(shear_layout, "SHEAR_AT", np.inf)


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 240
    data = pd.DataFrame(
        {
            "g": [f"g{j}" for j in rng.integers(0, 9, n)],
            "h": [f"h{j}" for j in rng.integers(0, 5, n)],
            "x": rng.normal(size=n),
            "w": rng.normal(size=n),
            "k": rng.integers(0, 5, n),
            "c": rng.integers(0, 7, n),
            "n": 7,
        }
    )
    data["y"] = 1 + data.x + rng.normal(size=n) + data.g.str[1:].astype(int) * 0.2
    data["yb"] = (rng.random(n) < 0.4).astype(int)
    data["pos"] = rng.gamma(2.0, np.exp(0.3 * data.x) / 2.0)  # positive, skewed
    data["p"] = np.clip(rng.beta(2.0, 3.0, n), 1e-3, 1 - 1e-3)  # a proportion in (0, 1)
    data["o"] = rng.integers(1, 5, n)  # an ordinal response, 4 categories
    # group-level predictors (constant within g, within h)
    data["gl"] = data.g.str[1:].astype(int) * 0.3
    data["hl"] = (data.h.str[1:].astype(int) - 2.0) ** 2
    return data


def log_jacobian(layout: Layout, x: np.ndarray) -> float:
    """log |d constrained / d x| of the kernel's transforms."""
    total = 0.0
    for bl in (*layout.blocks, *dpar_blocks(layout)):
        logged = [c != "expanded" for c in bl.choice]  # an expanded SD: s itself, no transform
        total += x[bl.sd][logged].sum()
        if bl.corr is not None:
            for i in range(1, len(bl.block.columns)):
                start = bl.corr.start + i * (i - 1) // 2
                total -= (i + 2) / 2 * np.log1p((x[start : start + i] ** 2).sum())
    for name, at in layout.family_params.items():
        if name in layout.logit_params:  # a probability (zi): logit scale, p (1 - p)
            total += -np.logaddexp(0.0, -x[at]) - np.logaddexp(0.0, x[at])
        else:  # σ, the NB shape, ...: sampled on the log scale
            total += x[at]
    if layout.cutpoints is not None:  # c_k = c_{k-1} + exp(x_k)
        total += x[layout.cutpoints][1:].sum()
    return float(total)


def compare_with_pymc(model: hb.Model, n_points: int = 3, seed: int = 1) -> None:
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    reference = remove_value_transforms(model.build())
    logp = reference.compile_logp(jacobian=False)
    rng = np.random.default_rng(seed)
    for _ in range(n_points):
        x = layout.center + rng.normal(0.0, 0.5, layout.n_dim)
        value, grad = layout.logp_grad(x)
        draws = named_draws(layout, x[None])
        point = {v.name: np.asarray(draws[v.name][0]) for v in reference.value_vars}
        expected = float(logp(point))
        assert value - log_jacobian(layout, x) == pytest.approx(expected, rel=1e-9, abs=1e-6)
        eps = 1e-6
        numeric = np.empty(layout.n_dim)
        for i in range(layout.n_dim):
            step = np.zeros(layout.n_dim)
            step[i] = eps
            numeric[i] = (layout.logp_grad(x + step)[0] - layout.logp_grad(x - step)[0]) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-5 * (1 + abs(value)) / 100)


MODELS = [
    # (formula, family, parameterization)
    ("y ~ x + (1 + x | g)", "gaussian", "auto"),  # integrated out, sufficient statistics
    ("y ~ x + (1 + x | g)", "gaussian", "noncentered"),
    ("y ~ x + (1 + x | g)", "gaussian", "centered"),
    ("y ~ x + (1 + x + w | g)", "gaussian", {"g": ("centered", "noncentered", "centered")}),
    ("y ~ x + (1 + x + w | g)", "gaussian", "marginal"),
    ("y ~ x + (x || g)", "gaussian", "noncentered"),
    ("y ~ x + (1 | g) + (0 + x | g)", "gaussian", "marginal"),
    ("y ~ x + (1 + x | g) + (1 | h)", "gaussian", "auto"),  # h integrated out beside g
    ("y ~ x + (1 + w | g) + (1 + x | h)", "gaussian", {"g": "noncentered", "h": "marginal"}),
    # lower level integrated out, upper sampled ("auto" integrates both: test_nested_marginal.py)
    ("y ~ x + (1 | g/h)", "gaussian", {"g:h": "marginal"}),
    ("y ~ 0 + x + (1 + x | g)", "gaussian", "auto"),
    ("y ~ 1 + (1 | g)", "gaussian", "centered"),
    ("y ~ 0 + (1 + x | g)", "gaussian", "auto"),  # no fixed effects
    ("y ~ 0 + (1 | g) + (1 | h)", "gaussian", "auto"),
    ("y ~ 0 + (1 | g)", "gaussian", "noncentered"),
    ("y ~ x + (1 | g)", "gaussian", "marginal"),  # one coefficient, sufficient statistics
    ("y ~ x + (1 + x | g) + (0 + w | g)", "gaussian", "marginal"),  # several blocks, general
    (
        "y ~ x + (1 + x | g) + (0 + w | g) + (1 | h)",
        "gaussian",
        {"g": "marginal", "g.2": "marginal"},
    ),
    ("y ~ x + (1 + x + w + c | g)", "gaussian", "noncentered"),  # LKJ of four
    ("y ~ x", "gaussian", "auto"),  # no group terms
    ("yb ~ x + (1 + x | g)", "bernoulli", "auto"),
    ("yb ~ x", "bernoulli", "auto"),
    ("k ~ x + (1 + x | g)", "poisson", "centered"),
    ("c | trials(n) ~ x + (1 + x | g)", "binomial", "centered"),
    ("c | trials(n) ~ x + (1 | g) + (1 | h)", "binomial", "auto"),
    ("k ~ x + (x || g)", "poisson", "centered"),
    # offsets: in η for every family; gaussian integrated-out paths see y - offset
    ("k ~ x + offset(np.log(c + 1)) + offset(0.1 * w) + (1 + x | g)", "poisson", "centered"),
    ("yb ~ x + offset(w) + (1 | g)", "bernoulli", "noncentered"),
    ("c | trials(n) ~ x + offset(-w) + (1 | g)", "binomial", "auto"),
    ("y ~ x + offset(2 * w) + (1 + x | g)", "gaussian", "auto"),  # sufficient statistics
    ("y ~ x + offset(w) + (1 | g) + (1 | h)", "gaussian", "auto"),  # h integrated out by rows
    ("y ~ x + offset(w) + (1 + x | g)", "gaussian", "noncentered"),
    ("k ~ x + (1 + x | g)", "negativebinomial", "centered"),
    # hierarchical centring: h (fewest groups) holds the intercept and hl, g holds gl
    ("yb ~ x + gl + hl + (1 | g) + (1 | h)", "bernoulli", "centered"),
    ("y ~ x + gl + (1 + x | g)", "gaussian", "centered"),
    # centred slopes hold their fixed slope; h (fewest groups) holds x and the intercept
    ("y ~ x + (1 + x | g) + (1 + x | h)", "gaussian", "centered"),
    ("k ~ x * w + (1 + x:w | g)", "poisson", "centered"),  # an interaction
    ("y ~ x * gl + (1 + x | g)", "gaussian", "centered"),  # x:gl held with each group's gl
    ("k ~ x + (1 | h) + (0 + x | g)", "poisson", "centered"),  # -mean(x) β in h's intercepts
    ("y ~ 0 + x + (1 + x | g)", "gaussian", "centered"),  # no intercept: x not centred
    ("yb ~ x + w + (1 + x + w | g)", "bernoulli", {"g": ("centered", "noncentered", "centered")}),
    ("y ~ x + w + (1 + x + w | g)", "gaussian", {"g": ("noncentered", "centered", "centered")}),
    ("k ~ x + gl + hl + (1 | g) + (1 | h)", "poisson", {"g": "centered", "h": "noncentered"}),
    ("k ~ x + offset(0.1 * w) + (1 | g) + (1 | h)", "negativebinomial", "noncentered"),
    ("y ~ x + (1 + x | g)", "student_t", "centered"),
    ("y ~ x + offset(0.1 * w) + (1 | g) + (1 | h)", "student_t", "noncentered"),
    ("pos ~ x + (1 + x | g)", "gamma", "centered"),
    ("pos ~ x + offset(0.1 * w) + (1 | g) + (1 | h)", "gamma", "noncentered"),
    ("pos ~ x + (1 + x | g)", "lognormal", "centered"),
    ("pos ~ x + offset(0.1 * w) + (1 | g) + (1 | h)", "lognormal", "auto"),
    ("p ~ x + (1 + x | g)", "beta", "centered"),
    ("p ~ x + offset(0.1 * w) + (1 | g) + (1 | h)", "beta", "noncentered"),
    ("k ~ x + (1 + x | g)", "zero_inflated_poisson", "centered"),
    (
        "k ~ x + offset(0.1 * w) + (1 | g) + (1 | h)",
        "zero_inflated_negativebinomial",
        "noncentered",
    ),
    # ordered cut-points at the predictors' means; no intercept in η
    ("o ~ x + w + (1 + x | g)", "cumulative", "centered"),
    ("o ~ x + offset(0.3 * w) + (1 | g) + (1 | h)", "cumulative", "noncentered"),
    ("o ~ 1 + (1 | g)", "cumulative", "auto"),  # cut-points alone in the fixed part
    # parameter-expanded SDs (s signed, sd = |s|; density.expanded)
    ("k ~ x + (1 | g) + (1 | h)", "poisson", {"g": "expanded", "h": "centered"}),
    ("y ~ x + (x || g) + (1 | h)", "gaussian", {"g": "expanded", "h": "noncentered"}),
    ("yb ~ x + gl + (1 | g)", "bernoulli", "expanded"),
]


@pytest.mark.parametrize(
    "prior", [hb.Prior("HalfStudentT", nu=3, sigma=1.5), hb.Prior("Exponential", lam=2.0)]
)
def test_expanded_sds_of_either_sign_match_the_pymc_model(df, prior):
    """The symmetric extension of the SD's prior, at negative and positive ``s``."""
    model = hb.Model(
        "k ~ x + (x || g)",
        data=df,
        family="poisson",
        priors={"sd|g": prior},
        parameterization="expanded",
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    rng = np.random.default_rng(2)
    for s in ([-0.8, 0.3], [0.5, -1.2]):
        x = layout.center + rng.normal(0.0, 0.3, layout.n_dim)
        x[layout.blocks[0].sd] = s
        np.testing.assert_allclose(named_draws(layout, x[None])["sd|g"][0], np.abs(s))
        check_point(model, layout, x)


def check_point(model: hb.Model, layout: Layout, x: np.ndarray) -> None:
    """The kernel's log-density at ``x`` is the PyMC model's (no transform of expanded SDs, all
    of whose other transforms here are logs), and its gradient the central differences'."""
    reference = remove_value_transforms(model.build())
    logp = reference.compile_logp(jacobian=False)
    value, grad = layout.logp_grad(x)
    draws = named_draws(layout, x[None])
    point = {v.name: np.asarray(draws[v.name][0]) for v in reference.value_vars}
    assert value - log_jacobian(layout, x) == pytest.approx(float(logp(point)), rel=1e-9, abs=1e-6)
    step = 1e-6
    for i in range(layout.n_dim):
        e = np.zeros(layout.n_dim)
        e[i] = step
        numeric = (layout.logp_grad(x + e)[0] - layout.logp_grad(x - e)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-5), i


def test_rotated_pairs_of_nested_effects_match_the_pymc_model():
    """Sites holding one plot sample their two effects rotated (hierbayes.density.pairs): an
    orthonormal map, so the log-density is the PyMC model's at the turned-back point, at either
    sign of the two expanded scales."""
    rng = np.random.default_rng(3)
    plots_per_site = [1, 1, 1, 2, 3, 1, 2]
    site = np.repeat(np.arange(len(plots_per_site)), plots_per_site)
    rows = np.repeat(np.arange(site.size), 2)
    data = pd.DataFrame(
        {
            "k": rng.poisson(2.0, rows.size),
            "x": rng.normal(size=rows.size),
            "site": [f"s{j}" for j in site[rows]],
            "plot": [f"p{j}" for j in rows],
        }
    )
    model = hb.Model(
        "k ~ x + (1 | site) + (1 | plot)", data=data, family="poisson", parameterization="expanded"
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert len(layout.arrays[layout.arrays[0][M_PAIRS]]) == 6 * 4  # the sites of one plot
    sds = [bl.sd.start for bl in layout.blocks]
    for signs in ([1.0, 1.0], [-1.0, 0.5], [0.7, -0.3]):
        x = layout.center + rng.normal(0.0, 0.5, layout.n_dim)
        x[sds] = signs
        check_point(model, layout, x)


@pytest.mark.parametrize("family", ["zero_inflated_poisson", "zero_inflated_negativebinomial"])
def test_a_beta_prior_of_the_zero_inflation_matches_pymc(df, family):
    priors = {"zi": hb.Prior("Beta", alpha=2.0, beta=5.0)}
    model = hb.Model("k ~ x + (1 | g)", data=df, family=family, priors=priors)
    compare_with_pymc(model, n_points=2)


def test_the_zero_inflation_needs_a_prior_on_the_unit_interval(df):
    with pytest.raises(
        hb.errors.PriorError,
        match=r"'zi' of the zero_inflated_poisson family is a probability: its prior must be on "
        r"\(0, 1\), Prior\('Beta', alpha=\.\.\., beta=\.\.\.\); got HalfNormal\.",
    ):
        hb.Model(
            "k ~ x + (1 | g)",
            data=df,
            family="zero_inflated_poisson",
            priors={"zi": hb.Prior("HalfNormal", sigma=1.0)},
        )


@pytest.mark.parametrize(("formula", "family", "parameterization"), MODELS)
def test_log_density_and_gradient_match_the_pymc_model(df, formula, family, parameterization):
    model = hb.Model(formula, data=df, family=family, parameterization=parameterization)
    compare_with_pymc(model)


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("y ~ x + (1 + x | g)", "gaussian"),
        ("k ~ x + offset(0.1 * w) + (1 | g) + (1 | h)", "poisson"),
        ("yb ~ x + (1 | g)", "bernoulli"),
        ("c | trials(n) ~ x + (1 | g)", "binomial"),
        ("y ~ x + (1 | g)", "student_t"),
        ("pos ~ x + (1 | g)", "gamma"),
        ("pos ~ x + (1 | g)", "lognormal"),
        ("o ~ x + w + (1 | g)", "cumulative"),
    ],
)
def test_likelihood_weights_match_the_pymc_model(df, formula, family):
    data = df.assign(wt=np.linspace(0.0, 3.0, len(df)))
    model = hb.Model(formula, data=data, family=family, weights="wt")
    assert model.parameterization["g"][0] != "marginal"  # weights are not integrated out
    compare_with_pymc(model)


LINK_MODELS = [
    # (formula, family, link, parameterization): the probit and cloglog links
    ("yb ~ x + (1 + x | g)", "bernoulli", "probit", "auto"),
    ("yb ~ x + offset(w) + (1 | g)", "bernoulli", "cloglog", "noncentered"),
    ("c | trials(n) ~ x + (1 | g) + (1 | h)", "binomial", "probit", "auto"),
    ("c | trials(n) ~ x + offset(-w) + (1 + x | g)", "binomial", "cloglog", "centered"),
    # ordinal probit: cut-points at the predictors' means, Φ(c_k - η)
    ("o ~ x + w + (1 + x | g)", "cumulative", "probit", "centered"),
    ("o ~ x + offset(0.3 * w) + (1 | g) + (1 | h)", "cumulative", "probit", "noncentered"),
]


@pytest.mark.parametrize(("formula", "family", "link", "parameterization"), LINK_MODELS)
def test_links_log_density_and_gradient_match_the_pymc_model(
    df, formula, family, link, parameterization
):
    model = hb.Model(formula, data=df, family=family, link=link, parameterization=parameterization)
    assert model.family.link == link
    compare_with_pymc(model)


@pytest.mark.parametrize("link", ["probit", "cloglog"])
def test_links_with_likelihood_weights_match_the_pymc_model(df, link):
    data = df.assign(wt=np.linspace(0.0, 3.0, len(df)))
    model = hb.Model("yb ~ x + (1 | g)", data=data, family="bernoulli", link=link, weights="wt")
    compare_with_pymc(model)


def test_ordinal_probit_with_likelihood_weights_matches_the_pymc_model(df):
    data = df.assign(wt=np.linspace(0.0, 3.0, len(df)))
    model = hb.Model(
        "o ~ x + w + (1 | g)", data=data, family="cumulative", link="probit", weights="wt"
    )
    compare_with_pymc(model)


PRIORS = [
    {
        "Intercept": hb.Prior("Cauchy", alpha=0.0, beta=5.0),
        "b|x": hb.Prior("StudentT", nu=3, mu=0.5, sigma=2.0),
        "sd|g": hb.Prior("Exponential", lam=[1.0, 2.0]),
        "cor|g": hb.Prior("LKJ", eta=1.0),
        "sigma": hb.Prior("Gamma", alpha=2.0, beta=1.0),
    },
    {
        "b|x": hb.Prior("Laplace", mu=0.0, b=2.0),
        "sd|g": hb.Prior("InverseGamma", alpha=3.0, beta=2.0),
        "cor|g": hb.Prior("LKJ", eta=4.0),
        "sigma": hb.Prior("LogNormal", mu=0.0, sigma=1.0),
    },
    {
        "b|x": hb.Prior("Normal", mu=1.0, tau=0.5),
        "sd|g": hb.Prior("Weibull", alpha=2.0, beta=2.0),
        "sigma": hb.Prior("HalfCauchy", beta=2.0),
    },
    {
        "Intercept": hb.Prior("Flat"),
        "sd|g": hb.Prior("HalfStudentT", nu=4, lam=2.0),
        "sigma": hb.Prior("HalfNormal", tau=0.2),
    },
    {"sd|g": hb.Prior("Gamma", mu=1.0, sigma=0.5), "sigma": hb.Prior("Exponential", scale=3.0)},
]


def test_per_cut_point_priors_match_pymc(df):
    priors = {"cutpoints": hb.Prior("Normal", mu=[-1.0, 0.0, 1.0], sigma=[1.0, 2.0, 0.5])}
    model = hb.Model("o ~ x + (1 | g)", data=df, family="cumulative", priors=priors)
    compare_with_pymc(model, n_points=2)


@pytest.mark.parametrize("priors", PRIORS)
@pytest.mark.parametrize("parameterization", ["marginal", "noncentered"])
def test_every_supported_prior_matches_pymc(df, priors, parameterization):
    model = hb.Model(
        "y ~ x + (1 + x | g)", data=df, priors=priors, parameterization=parameterization
    )
    compare_with_pymc(model, n_points=2)


SCIPY = {
    "Normal": lambda p: stats.norm(p["mu"], p["sigma"]),
    "StudentT": lambda p: stats.t(p["nu"], p["mu"], p["sigma"]),
    "Cauchy": lambda p: stats.cauchy(p["alpha"], p["beta"]),
    "Laplace": lambda p: stats.laplace(p["mu"], p["b"]),
    "HalfNormal": lambda p: stats.halfnorm(scale=p["sigma"]),
    "HalfStudentT": lambda p: stats.t(p["nu"], scale=p["sigma"]),  # doubled below
    "HalfCauchy": lambda p: stats.halfcauchy(scale=p["beta"]),
    "Exponential": lambda p: stats.expon(scale=1 / p["lam"]),
    "Gamma": lambda p: stats.gamma(p["alpha"], scale=1 / p["beta"]),
    "InverseGamma": lambda p: stats.invgamma(p["alpha"], scale=p["beta"]),
    "LogNormal": lambda p: stats.lognorm(p["sigma"], scale=np.exp(p["mu"])),
    "Weibull": lambda p: stats.weibull_min(p["alpha"], scale=p["beta"]),
}


@pytest.mark.parametrize(
    ("dist", "params", "positive"),
    [
        ("Normal", {"mu": 0.3, "sigma": 2.0}, False),
        ("StudentT", {"nu": 4.0, "mu": -1.0, "sigma": 0.5}, False),
        ("Cauchy", {"alpha": 1.0, "beta": 2.0}, False),
        ("Laplace", {"mu": 0.5, "b": 1.5}, False),
        ("HalfNormal", {"sigma": 2.0}, True),
        ("HalfStudentT", {"nu": 3.0, "sigma": 1.5}, True),
        ("HalfCauchy", {"beta": 0.7}, True),
        ("Exponential", {"lam": 1.3}, True),
        ("Gamma", {"alpha": 2.5, "beta": 0.8}, True),
        ("InverseGamma", {"alpha": 3.0, "beta": 1.2}, True),
        ("LogNormal", {"mu": 0.2, "sigma": 0.6}, True),
        ("Weibull", {"alpha": 1.7, "beta": 2.2}, True),
    ],
)
def test_prior_log_densities_and_derivatives(dist, params, positive):
    """Against scipy exactly, and against PyMC (whose constants PyTensor sometimes rounds to
    single precision) to 1e-7, which checks that the parameters mean what they mean in PyMC."""
    row = prior_rows("p", hb.Prior(dist, **params), 1, positive=positive)[0]
    reference = getattr(pm, dist).dist(**params)
    for value in (0.3, 1.7, 4.0) if positive else (-2.1, 0.4, 3.3):
        lp, d = prior_logp(int(row[0]), row[1], row[2], row[3], value)
        exact = SCIPY[dist](params).logpdf(value) + (np.log(2) if dist == "HalfStudentT" else 0)
        assert lp == pytest.approx(exact, rel=1e-12)
        assert lp == pytest.approx(float(pm.logp(reference, value).eval()), rel=1e-7)
        h = 1e-6
        upper, _ = prior_logp(int(row[0]), row[1], row[2], row[3], value + h)
        lower, _ = prior_logp(int(row[0]), row[1], row[2], row[3], value - h)
        assert d == pytest.approx((upper - lower) / (2 * h), rel=1e-6, abs=1e-8)


def test_correlation_row_map_has_the_stated_log_jacobian():
    """Each row x_i -> x_i / sqrt(1 + |x_i|²) has log |J| = -(i + 2)/2 log(1 + |x_i|²)."""
    rng = np.random.default_rng(3)
    for i in (1, 2, 3):
        x = rng.normal(size=i)

        def row(v):
            return v / np.sqrt(1 + v @ v)

        h = 1e-6
        jac = np.column_stack([(row(x + h * e) - row(x - h * e)) / (2 * h) for e in np.eye(i)])
        assert np.log(abs(np.linalg.det(jac))) == pytest.approx(
            -(i + 2) / 2 * np.log1p(x @ x), rel=1e-7
        )


def test_an_impossible_point_has_minus_infinite_density(df):
    model = hb.Model("y ~ x + (1 | g)", data=df, parameterization="marginal")
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    x = layout.center.copy()
    x[layout.sigma] = -800.0  # σ² underflows to 0: the marginal covariance is singular
    x[layout.blocks[0].sd] = -800.0
    value, _ = layout.logp_grad(x)
    assert value == -np.inf


def test_two_coefficients_of_single_row_groups_are_exact_or_rejected():
    """One row per group makes each Z_j'Z_j singular; with SDs far above σ the closed form's
    quadratic forms cancel. The kernel must then agree with the direct density, V_j = σ² +
    z_j'Σz_j per row, or reject the point (-inf, a divergence), never return a wrong value."""
    rng = np.random.default_rng(3)
    n = 150
    data = pd.DataFrame({"g": [f"g{j}" for j in range(n)], "x": rng.normal(size=n)})
    data["y"] = 1 + data.x + rng.normal(size=n)
    model = hb.Model("y ~ x + (1 + x | g)", data=data, parameterization="marginal")
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    (bl,) = layout.blocks
    reference = remove_value_transforms(model.build())
    prior = reference.compile_logp(vars=reference.free_RVs, jacobian=False)
    Z = np.column_stack([np.ones(n), data.x])
    Xc = np.column_stack([np.ones(n), data.x - data.x.mean()])

    def direct(x: np.ndarray) -> float:
        sd, s2, r = np.exp(x[bl.sd]), np.exp(2 * x[layout.sigma]), x[bl.corr][0]
        chol = sd[:, None] * np.array([[1, 0], [r / np.hypot(r, 1), 1 / np.hypot(r, 1)]])
        V = s2 + ((Z @ chol) ** 2).sum(axis=1)
        res = data.y.to_numpy() - Xc @ x[layout.theta]
        return float(stats.norm.logpdf(res, scale=np.sqrt(V)).sum())

    for log_sd, log_sigma, exact in [(0, 0, True), (3, -4, True), (5, -10, False), (6, -16, False)]:
        x = layout.center.copy()
        x[bl.corr] = 0.3
        x[bl.sd], x[layout.sigma] = log_sd, log_sigma
        value, _ = layout.logp_grad(x)
        draws = named_draws(layout, x[None])
        point = {v.name: np.asarray(draws[v.name][0]) for v in reference.value_vars}
        loglik = value - log_jacobian(layout, x) - float(prior(point))
        if exact:
            assert loglik == pytest.approx(direct(x), rel=1e-8)
        else:
            assert value == -np.inf


def test_group_level_predictors_are_sampled_inside_centred_intercepts(df):
    """The models above exercise hierarchical centring: h (5 groups) holds the intercept and hl,
    g holds gl; with h non-centred, g holds the intercept too; the row loops skip those
    columns and the log-density is unchanged (tested above against PyMC)."""
    cases = [
        ("centered", {"h": ["Intercept", "hl"], "g": ["gl"]}),
        ({"g": "centered", "h": "noncentered"}, {"g": ["Intercept", "gl"], "h": []}),
    ]
    for parameterization, expected in cases:
        model = hb.Model(
            "k ~ x + gl + hl + (1 | g) + (1 | h)",
            data=df,
            family="poisson",
            parameterization=parameterization,
        )
        layout = make_layout(model.design, model.prior_values, model.parameterization)
        names = {
            bl.block.name: [model.design.fixed_columns[c] for c in bl.shift_columns]
            for bl in layout.blocks
        }
        assert names == expected
        for bl in layout.blocks:
            # each group's values of its columns, as in the data
            for a, c in enumerate(bl.shift_columns):
                column = model.design.fixed_columns[c]
                if column == "Intercept":
                    assert np.all(bl.shift_values[:, a] == 1.0)
                else:
                    means = df.groupby(bl.block.factor)[column].first()
                    levels = [str(v) for v in bl.block.levels]
                    centred = means.loc[levels].to_numpy() - df[column].mean()
                    np.testing.assert_allclose(bl.shift_values[:, a], centred, atol=1e-12)


DPAR_MODELS = [
    # (formula, family, parameterization, own parameter's formula, weights): σ by row
    ("y ~ x + (1 + x | g)", "gaussian", "noncentered", {"sigma": "~ w + (1 | h)"}, False),
    ("y ~ x + gl + (1 | g)", "gaussian", "centered", {"sigma": "~ x + (1 + w | g)"}, False),
    (
        "y ~ x + offset(w) + (1 | g) + (1 | h)",
        "student_t",
        "auto",
        {"sigma": "~ 1 + (1 | g)"},
        False,
    ),
    ("y ~ x + (1 | g)", "gaussian", "auto", {"sigma": "~ 0 + w + (x || h)"}, False),
    ("y ~ x + (1 | g)", "gaussian", "centered", {"sigma": "~ x"}, True),
    ("y ~ x + (1 + x | h)", "student_t", "noncentered", {"sigma": "~ w + (1 | g)"}, True),
    ("k ~ x + (1 | g)", "negativebinomial", "auto", {"shape": "~ w + (1 | h)"}, False),
    ("pos ~ x + (1 + x | g)", "gamma", "noncentered", {"shape": "~ x + (1 | g)"}, True),
    ("pos ~ x + (1 | g)", "lognormal", "centered", {"sigma": "~ w + (1 | h)"}, False),
    ("p ~ x + (1 | g) + (1 | h)", "beta", "auto", {"phi": "~ x + (1 | g)"}, False),
]


@pytest.mark.parametrize(("formula", "family", "parameterization", "dpar", "weighted"), DPAR_MODELS)
def test_a_linear_predictor_of_an_own_parameter_matches_the_pymc_model(
    df, formula, family, parameterization, dpar, weighted
):
    data = df.assign(wt=np.linspace(0.2, 3.0, len(df)))
    model = hb.Model(
        formula,
        data=data,
        family=family,
        parameterization=parameterization,
        weights="wt" if weighted else None,
        **dpar,
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert layout.dpar is not None and layout.dpar.name not in layout.family_params
    compare_with_pymc(model, n_points=2)
