"""Default priors (scaled to the data), the prior table, overrides and prior errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build import build_model
from hierbayes.design import make_design
from hierbayes.errors import PriorError
from hierbayes.priors import POSITIVE_DISTRIBUTIONS, Prior, default_priors, resolve_priors
from hierbayes.spec import parse_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 48
    return pd.DataFrame(
        {
            "y": rng.normal(50.0, 8.0, n),
            "x": rng.normal(0.0, 3.0, n),
            "z": rng.normal(2.0, 0.25, n),
            "a": np.tile(["p", "q", "r"], n // 3),
            "g": np.repeat([f"g{j}" for j in range(6)], n // 6),
            "h": np.tile([1, 2, 3, 4], n // 4),
            "yb": rng.integers(0, 2, n),
            "k": rng.integers(0, 5, n),
            "n": np.full(n, 5),
        }
    )


def design(formula, data, **kwargs):
    return make_design(parse_formula(formula), data, **kwargs)


def sd(values) -> float:
    return float(np.std(values, ddof=1))


def params(prior: Prior) -> dict:
    return {k: np.asarray(v, dtype=float) for k, v in prior.kwargs.items()}


# ---------------------------------------------------------------------------- defaults


def test_gaussian_defaults(data):
    d = design("y ~ x + z + (1 + x | g) + (z || h)", data)
    priors = {name: prior for name, (prior, _) in default_priors(d).items()}
    assert list(priors) == ["Intercept", "b|x", "b|z", "sd|g", "cor|g", "sd|h", "sigma"]
    s_y = sd(data.y)

    assert priors["Intercept"].dist == "Normal"
    np.testing.assert_allclose(params(priors["Intercept"])["mu"], data.y.mean(), atol=1e-4)
    np.testing.assert_allclose(params(priors["Intercept"])["sigma"], 2.5 * s_y, atol=1e-4)

    for column in ("x", "z"):
        prior = priors[f"b|{column}"]
        assert prior.dist == "Normal"
        assert params(prior)["mu"] == 0.0
        np.testing.assert_allclose(params(prior)["sigma"], 2.5 * s_y / sd(data[column]), atol=1e-4)

    # One HalfNormal scale per varying coefficient: s_y for the intercept, s_y / sd(z) otherwise.
    assert priors["sd|g"].dist == "HalfNormal"
    np.testing.assert_allclose(params(priors["sd|g"])["sigma"], [s_y, s_y / sd(data.x)], atol=1e-4)
    np.testing.assert_allclose(params(priors["sd|h"])["sigma"], [s_y, s_y / sd(data.z)], atol=1e-4)

    assert priors["cor|g"] == Prior("LKJ", eta=2.0)
    assert priors["sigma"].dist == "HalfStudentT"
    np.testing.assert_allclose(params(priors["sigma"])["nu"], 3.0)
    np.testing.assert_allclose(params(priors["sigma"])["sigma"], s_y, atol=1e-4)


def test_single_coefficient_sd_is_a_scalar(data):
    d = design("y ~ x + (1 | g) + (0 + x | h)", data)
    priors = {name: prior for name, (prior, _) in default_priors(d).items()}
    assert priors["sd|g"].kwargs["sigma"] == pytest.approx(sd(data.y), abs=1e-4)
    assert np.ndim(priors["sd|h"].kwargs["sigma"]) == 0
    assert priors["sd|h"].kwargs["sigma"] == pytest.approx(sd(data.y) / sd(data.x), abs=1e-4)


def test_no_correlation_prior_for_single_or_uncorrelated_terms(data):
    d = design("y ~ x + (1 | g) + (x || h) + (0 + x | a)", data)
    names = list(default_priors(d))
    assert names == ["Intercept", "b|x", "sd|g", "sd|h", "sd|a", "sigma"]


def test_repeated_factor_blocks_get_their_own_priors(data):
    d = design("y ~ x + (1 | g) + (0 + x | g)", data)
    assert [n for n in default_priors(d) if n.startswith("sd|")] == ["sd|g", "sd|g.2"]


def test_categorical_slope_scales(data):
    d = design("y ~ a", data)
    priors = {name: prior for name, (prior, _) in default_priors(d).items()}
    assert list(priors) == ["Intercept", "b|a[T.q]", "b|a[T.r]", "sigma"]
    dummy = (data.a == "q").astype(float)
    expected = 2.5 * sd(data.y) / sd(dummy)
    assert priors["b|a[T.q]"].kwargs["sigma"] == pytest.approx(expected, abs=1e-4)


def test_no_intercept_has_no_intercept_prior(data):
    d = design("y ~ 0 + x + (1 | g)", data)
    assert "Intercept" not in default_priors(d)


def test_constant_column_uses_unit_scale(data):
    # Without an intercept a constant column is allowed; its sd (0) is replaced by 1.
    d = design("y ~ 0 + c", data.assign(c=3.0))
    prior = default_priors(d)["b|c"][0]
    assert prior.kwargs["sigma"] == pytest.approx(2.5 * sd(data.y), abs=1e-4)


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("yb ~ x + z + (1 + x | g)", "bernoulli"),
        ("k | trials(n) ~ x + z + (1 + x | g)", "binomial"),
        ("k ~ x + z + (1 + x | g)", "poisson"),
    ],
)
def test_glm_defaults(data, formula, family):
    d = design(formula, data, family=family)
    priors = {name: prior for name, (prior, _) in default_priors(d).items()}
    assert list(priors) == ["Intercept", "b|x", "b|z", "sd|g", "cor|g"]  # no sigma
    assert params(priors["Intercept"]) == {"mu": 0.0, "sigma": 2.5}
    for column in ("x", "z"):  # s_y = 1 on the link scale
        expected = 2.5 / sd(data[column])
        assert priors[f"b|{column}"].kwargs["sigma"] == pytest.approx(expected, abs=1e-4)
    # Group SDs: 2.5 for the intercept, 2.5 / sd(x) for the slope.
    np.testing.assert_allclose(params(priors["sd|g"])["sigma"], [2.5, 2.5 / sd(data.x)], atol=1e-4)


def test_defaults_have_descriptions(data):
    d = design("y ~ x + (1 + x | g)", data)
    descriptions = {name: text for name, (_, text) in default_priors(d).items()}
    assert descriptions["Intercept"] == "population intercept (at the means of the predictors)"
    assert descriptions["b|x"] == "population effect of x"
    assert descriptions["sd|g"] == "SD of Intercept, x across g"
    assert descriptions["cor|g"] == "correlations of Intercept, x across g"
    assert descriptions["sigma"] == "residual SD"


# ---------------------------------------------------------------------------- table, overrides


def test_prior_table_defaults(data):
    d = design("y ~ x + (1 + x | g)", data)
    final, table = resolve_priors(d, None)
    assert list(table.index) == ["Intercept", "b|x", "sd|g", "cor|g", "sigma"]
    assert table.index.name == "name"
    assert list(table.columns) == ["prior", "source", "applies to"]
    assert set(table["source"]) == {"default"}
    assert table.loc["cor|g", "prior"] == "LKJ(eta=2)"
    assert list(final) == list(table.index)
    assert all(isinstance(p, Prior) for p in final.values())
    assert table.loc["b|x", "prior"] == repr(final["b|x"])


def test_overrides(data):
    d = design("y ~ x + (1 + x | g)", data)
    overrides = {
        "sd|g": Prior("Exponential", lam=1.0),
        "b|x": Prior("StudentT", nu=3, mu=0, sigma=2),
        "cor|g": Prior("LKJ", eta=4),
        "sigma": Prior("HalfNormal", sigma=5),
    }
    final, table = resolve_priors(d, overrides)
    for name, prior in overrides.items():
        assert final[name] is prior
        assert table.loc[name, "source"] == "user"
        assert table.loc[name, "prior"] == repr(prior)
    assert table.loc["Intercept", "source"] == "default"
    assert final["Intercept"] == default_priors(d)["Intercept"][0]


def test_overrides_are_not_mutated(data):
    d = design("y ~ x + (1 | g)", data)
    overrides = {"b|x": Prior("Normal", mu=0, sigma=1)}
    resolve_priors(d, overrides)
    assert overrides == {"b|x": Prior("Normal", mu=0, sigma=1)}


@pytest.mark.parametrize("dist", sorted(POSITIVE_DISTRIBUTIONS))
def test_every_positive_distribution_is_accepted_for_sd(data, dist):
    d = design("y ~ x + (1 | g)", data)
    params = {
        "Exponential": {"lam": 1.0},
        "Gamma": {"alpha": 2.0, "beta": 1.0},
        "InverseGamma": {"alpha": 2.0, "beta": 1.0},
        "Weibull": {"alpha": 2.0, "beta": 1.0},
        "HalfCauchy": {"beta": 1.0},
        "HalfStudentT": {"nu": 3.0, "sigma": 1.0},
    }.get(dist, {"sigma": 1.0})
    final, _ = resolve_priors(d, {"sd|g": Prior(dist, **params)})
    assert final["sd|g"].dist == dist


# ---------------------------------------------------------------------------- override errors


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            {"b|w": Prior("Normal", mu=0, sigma=1)},
            r"Unknown prior name\(s\) 'b\|w'\. This model's priors are: Intercept, b\|x, sd\|g, "
            r"cor\|g, sigma\.",
        ),
        (
            {"sd|h": Prior("HalfNormal", sigma=1), "x": Prior("Normal")},
            r"Unknown prior name\(s\) 'sd\|h', 'x'",
        ),
        ({"cor|g.2": Prior("LKJ", eta=2)}, r"Unknown prior name\(s\) 'cor\|g\.2'"),
        ({"b|x": 3.0}, r"The prior for 'b\|x' must be a hierbayes\.Prior, got float"),
        ({"Intercept": ("Normal", 0, 1)}, r"The prior for 'Intercept' must be .* got tuple"),
        (
            {"sd|g": Prior("Normal", mu=0, sigma=1)},
            r"'sd\|g' is a standard deviation: its prior must be positive, one of Exponential, "
            r"Gamma, .*; got Normal\.",
        ),
        ({"sd|g": Prior("StudentT", nu=3, sigma=1)}, r"'sd\|g' is a standard deviation"),
        ({"sigma": Prior("Cauchy", alpha=0, beta=1)}, r"'sigma' is a standard deviation.*Cauchy"),
        ({"sd|g": Prior("LKJ", eta=2)}, r"'sd\|g' is a standard deviation.* got LKJ"),
        (
            {"b|x": Prior("LKJ", eta=2)},
            r"Prior\('LKJ'\) only applies to correlation matrices \(cor\|\.\.\.\), not 'b\|x'",
        ),
        ({"Intercept": Prior("LKJ", eta=2)}, r"only applies to correlation matrices"),
        (
            {"cor|g": Prior("Normal", mu=0, sigma=1)},
            r"'cor\|g' is a correlation matrix: its prior must be Prior\('LKJ', eta=\.\.\.\)",
        ),
        ({"cor|g": Prior("HalfNormal", sigma=1)}, r"'cor\|g' is a correlation matrix"),
    ],
)
def test_override_errors(data, overrides, match):
    d = design("y ~ x + (1 + x | g)", data)
    with pytest.raises(PriorError, match=match):
        resolve_priors(d, overrides)


def test_unknown_name_for_model_without_sigma(data):
    d = design("yb ~ x + (1 | g)", data, family="bernoulli")
    with pytest.raises(PriorError, match=r"Unknown prior name\(s\) 'sigma'.* b\|x, sd\|g\.$"):
        resolve_priors(d, {"sigma": Prior("HalfNormal", sigma=1)})


# ---------------------------------------------------------------------------- at build time


@pytest.mark.parametrize(
    ("formula", "overrides", "match"),
    [
        (
            "y ~ x + (1 | g)",
            {"b|x": Prior("Normall", mu=0, sigma=1)},
            r"The prior for 'b' names 'Normall', which is not a PyMC distribution",
        ),
        (
            "y ~ x + z",
            {"b|x": Prior("Normall", mu=0, sigma=1)},
            r"The prior for 'b\|x' names 'Normall', which is not a PyMC distribution",
        ),
        (
            "y ~ x",
            {"Intercept": Prior("Gaussian", mu=0, sigma=1)},
            r"The prior for 'Intercept' names 'Gaussian'",
        ),
        (
            "y ~ x + (1 | g)",
            {"Intercept": Prior("Model")},
            r"names 'Model', which is not a PyMC distribution",
        ),
        (
            "y ~ x",
            {"Intercept": Prior("Logistic", mu=0, sgima=1)},
            r"The prior for 'Intercept' gives Logistic the unknown parameter\(s\) sgima; "
            r"Logistic takes mu, s\.",
        ),
    ],
)
def test_build_time_prior_errors(data, formula, overrides, match):
    d = design(formula, data)
    final, _ = resolve_priors(d, overrides)
    with pytest.raises(PriorError, match=match):
        build_model(d, final, parameterization="noncentered")


# ---------------------------------------------------------------------------- the Prior type


def test_prior_parameters_are_numbers_when_the_prior_is_made():
    # once a build-time error; tests/test_bad_input.py has the other non-numbers
    with pytest.raises(PriorError, match=r"Parameter mu of Prior\('Normal'\).*got 'a'"):
        Prior("Normal", mu="a", sigma=1)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: Prior("Normal", sigma=-1),
            r"sigma of Prior\('Normal'\) must be a finite number > 0",
        ),
        (
            lambda: Prior("HalfNormal", sigma=0),
            r"sigma of Prior\('HalfNormal'\) must be .* > 0.*got 0",
        ),
        (lambda: Prior("HalfNormal", sigma=[1.0, -2.0]), r"sigma of .*got \[1\.0, -2\.0\]"),
        (lambda: Prior("LKJ", eta=0), r"eta of Prior\('LKJ'\) must be a finite number > 0"),
        (lambda: Prior("LKJ", eta=np.inf), r"eta of Prior\('LKJ'\) must be a finite number > 0"),
        (lambda: Prior("Normal", mu=np.inf), r"mu of Prior\('Normal'\) must be a finite number,"),
        (lambda: Prior("Normal", mu=-np.inf), r"mu of Prior\('Normal'\) must be a finite number"),
        (lambda: Prior("StudentT", nu=-3, sigma=1), r"nu of Prior\('StudentT'\) must be .* > 0"),
        (lambda: Prior("HalfStudentT", nu=0, sigma=1), r"nu of Prior\('HalfStudentT'\) must"),
        (lambda: Prior("Gamma", alpha=2, beta=-1), r"beta of Prior\('Gamma'\) must be .* > 0"),
        (lambda: Prior("Exponential", lam=np.inf), r"lam of Prior\('Exponential'\) must be"),
        (lambda: Prior("Cauchy", alpha=0, beta=0), r"beta of Prior\('Cauchy'\) must be"),
        (lambda: Prior("Laplace", mu=0, b=-1), r"b of Prior\('Laplace'\) must be"),
        (lambda: Prior("Weibull", alpha=1, beta=0), r"beta of Prior\('Weibull'\) must be"),
        (
            lambda: Prior("Beta", mu=1.0, sigma=0.1),
            r"mu of Prior\('Beta'\) must be .* between 0 and 1",
        ),
        (lambda: Prior("TruncatedNormal", lower=np.nan), r"lower of Prior\('TruncatedNormal'\)"),
        (lambda: Prior("Uniform", lower=np.inf, upper=1), r"lower of Prior\('Uniform'\) must be"),
        (lambda: Prior("Uniform", lower=5, upper=1), r"Prior\('Uniform'\) needs lower < upper"),
        (
            lambda: Prior("Beta", mu=0.5, sigma=0.5),
            r"Prior\('Beta'\) with mu=0.5 needs sigma < sqrt\(mu \(1 - mu\)\).*got sigma=0.5",
        ),
        # wrong names, two forms of one parameter, a parameter the distribution needs
        (
            lambda: Prior("Normal", mu=0, sgima=1),
            r"Prior\('Normal'\) has no parameter sgima: Normal takes mu, sigma, tau",
        ),
        (
            lambda: Prior("HalfNormal", scale=1),
            r"has no parameter scale: HalfNormal takes sigma, tau",
        ),
        (lambda: Prior("Exponential", rate=1), r"no parameter rate: Exponential takes lam, scale"),
        (
            lambda: Prior("Flat", mu=0),
            r"Prior\('Flat'\) has no parameter mu: Flat takes no parameters",
        ),
        (lambda: Prior("LKJ", eta=1, n=2), r"Prior\('LKJ'\) has no parameter n: LKJ takes eta"),
        (lambda: Prior("Normal", sigma=1, tau=1), r"has both sigma and tau, two forms of one"),
        (lambda: Prior("Exponential", lam=1, scale=1), r"has both lam and scale"),
        (lambda: Prior("LKJ"), r"Prior\('LKJ'\) needs eta; got none"),
        (lambda: Prior("StudentT", mu=0, sigma=1), r"Prior\('StudentT'\) needs nu; got mu, sigma"),
        (lambda: Prior("HalfStudentT", sigma=2.0), r"Prior\('HalfStudentT'\) needs nu"),
        (lambda: Prior("Gamma", alpha=2), r"Prior\('Gamma'\) needs alpha, beta or mu, sigma"),
        (lambda: Prior("Beta", mu=0.5), r"needs alpha, beta or mu, sigma or mu, nu"),
        (
            lambda: Prior("Normal", sigma=False),
            r"Parameter sigma of Prior\('Normal'\) must be a number",
        ),
    ],
)
def test_prior_parameters_are_checked_when_the_prior_is_made(make, match):
    with pytest.raises(PriorError, match=match):
        make()


def test_prior_parameters_in_range_and_unlisted_distributions_pass():
    assert Prior("TruncatedNormal", mu=0, sigma=1, lower=0, upper=np.inf).kwargs["upper"] == np.inf
    assert Prior("Gamma", mu=2.0, sigma=1.0).kwargs == {"mu": 2.0, "sigma": 1.0}
    assert Prior("InverseGamma", alpha=3).kwargs == {"alpha": 3}
    assert Prior("Beta", mu=0.2, nu=10).dist == "Beta"
    assert Prior("Normal").kwargs == {}
    # PyMC's own signature checks an unlisted distribution when the model is built
    assert Prior("Logistic", mu=0, s=-1).kwargs == {"mu": 0, "s": -1}


def test_listed_prior_parameters_are_pymcs():
    import inspect

    import pymc as pm

    from hierbayes.prior_params import PRIOR_PARAMETERS

    for dist, (ranges, _) in PRIOR_PARAMETERS.items():
        if dist == "LKJ":  # hierbayes's name for an LKJ correlation prior (pm.LKJCorr)
            assert set(inspect.signature(pm.LKJCorr.dist).parameters) >= set(ranges)
            continue
        signature = inspect.signature(getattr(pm, dist).dist).parameters.values()
        named = {p.name for p in signature if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        assert set(ranges) == named, dist


def test_non_prior_values_are_refused_by_name():
    sleep = hb.datasets.load("sleepstudy")
    for value, kind in (({"dist": "HalfNormal", "sigma": 5}, "dict"), ("HalfNormal(5)", "str")):
        with pytest.raises(
            PriorError, match=rf"prior for 'sd\|Subject' must be a hierbayes\.Prior, got {kind}"
        ):
            hb.Model("Reaction ~ Days + (1 | Subject)", sleep, priors={"sd|Subject": value})


def test_prior_equality_and_hash():
    assert Prior("Normal", mu=0, sigma=1) == Prior("Normal", sigma=1, mu=0)
    assert Prior("Normal", mu=0, sigma=1) == Prior("Normal", mu=0.0, sigma=1.0)
    assert Prior("Normal", mu=0, sigma=1) != Prior("Normal", mu=0, sigma=2)
    assert Prior("Normal", mu=0, sigma=1) != Prior("StudentT", nu=3, mu=0, sigma=1)
    assert Prior("HalfNormal", sigma=[1, 2]) == Prior("HalfNormal", sigma=np.array([1.0, 2.0]))
    assert hash(Prior("HalfNormal", sigma=[1, 2])) == hash(Prior("HalfNormal", sigma=(1, 2)))
    assert len({Prior("LKJ", eta=2), Prior("LKJ", eta=2.0)}) == 1


@pytest.mark.parametrize(
    ("prior", "text"),
    [
        (Prior("HalfNormal", sigma=5), "HalfNormal(sigma=5)"),
        (Prior("Normal", sigma=1, mu=0), "Normal(mu=0, sigma=1)"),
        (Prior("Normal", mu=0.123456, sigma=2.5), "Normal(mu=0.1235, sigma=2.5)"),
        (Prior("HalfNormal", sigma=[1, 2.5, 1 / 3]), "HalfNormal(sigma=[1, 2.5, 0.333])"),
        (Prior("StudentT", nu=3, mu=0, sigma=12345.678), "StudentT(mu=0, nu=3, sigma=1.235e+04)"),
        (Prior("LKJ", eta=2.0), "LKJ(eta=2)"),
        (Prior("Flat"), "Flat()"),
    ],
)
def test_prior_repr(prior, text):
    assert repr(prior) == text


def test_prior_kwargs():
    prior = Prior("HalfNormal", sigma=[1.0, 2.0])
    assert isinstance(prior.kwargs["sigma"], np.ndarray)
    np.testing.assert_array_equal(prior.kwargs["sigma"], [1.0, 2.0])
    assert Prior("Normal", mu=0, sigma=1).kwargs == {"mu": 0, "sigma": 1}
    assert prior.dist == "HalfNormal"
    assert prior.params == (("sigma", (1.0, 2.0)),)


@pytest.mark.parametrize("dist", ["", None, 3])
def test_prior_needs_a_distribution_name(dist):
    with pytest.raises(PriorError, match=r"A prior's distribution must be a name such as 'Normal'"):
        Prior(dist, sigma=1)


def test_prior_is_frozen():
    prior = Prior("Normal", mu=0, sigma=1)
    with pytest.raises(AttributeError, match=r"cannot assign to field 'dist'"):
        prior.dist = "StudentT"


@pytest.mark.parametrize(
    ("name", "prior", "message"),
    [
        ("sd|Subject", Prior("HalfNormal", sigma=[1.0, 2.0, 3.0]), r"has 3 values; .* or 2 values"),
        ("b|Days", Prior("Normal", mu=0.0, sigma=[1.0, 2.0]), r"has 2 values; it takes a single"),
    ],
)
def test_array_parameters_of_the_wrong_length_are_rejected(name, prior, message):
    sleep = hb.datasets.load("sleepstudy")
    with pytest.raises(PriorError, match=message):
        hb.Model("Reaction ~ Days + (Days | Subject)", sleep, priors={name: prior})


def test_array_sd_prior_of_the_right_length_is_used():
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model(
        "Reaction ~ Days + (Days | Subject)",
        sleep,
        priors={"sd|Subject": Prior("HalfNormal", sigma=[10.0, 3.0])},
    )
    assert model.priors.loc["sd|Subject", "prior"] == "HalfNormal(sigma=[10, 3])"


def test_default_priors_keep_their_scale_for_tiny_responses():
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "y": 1e-9 * rng.normal(size=40),
            "x": rng.normal(size=40),
            "g": np.repeat(list("abcd"), 10),
        }
    )
    m = hb.Model("y ~ x + (1 | g)", df)
    sd_y = float(np.std(df["y"], ddof=1))
    assert m.prior_values["sigma"].kwargs["sigma"] == pytest.approx(sd_y, rel=1e-3)
    assert m.prior_values["sd|g"].kwargs["sigma"] == pytest.approx(sd_y, rel=1e-3)
