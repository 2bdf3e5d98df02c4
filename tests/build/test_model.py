"""build_model: variables, dims and coords; parameterisations; log-density checks (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from hierbayes.build import (
    FIXED_DIM,
    OBS_DIM,
    PARAMETERIZATIONS,
    build_model,
    group_dim,
    resolve_parameterization,
    response_name,
)
from hierbayes.build.model import auto_marginal_factor
from hierbayes.design import make_design
from hierbayes.errors import ModelSpecError
from hierbayes.priors import Prior, resolve_priors
from hierbayes.spec import parse_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n_groups, per = 6, 10
    n = n_groups * per
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(1.0, 2.0, n)
    z = rng.normal(-1.0, 0.5, n)
    u0, u1 = rng.normal(0, 1.0, n_groups), rng.normal(0, 0.3, n_groups)
    eta = 0.3 + u0[g] + (0.5 + u1[g]) * x / 4 - 0.2 * z
    trials = rng.integers(1, 8, n)
    return pd.DataFrame(
        {
            "y": 10 + 3 * eta + rng.normal(0, 1, n),
            "x": x,
            "z": z,
            "g": [f"s{j}" for j in g],
            "h": np.tile([1.0, 2.0, 3.0], n // 3),
            "a": np.tile(["p", "q"], n // 2),
            "yb": rng.binomial(1, 1 / (1 + np.exp(-eta))),
            "k": rng.binomial(trials, 1 / (1 + np.exp(-eta))),
            "n": trials,
            "cnt": rng.poisson(np.exp(eta / 2)),
        }
    )


def make(
    formula, data, *, family="gaussian", priors=None, parameterization="noncentered", obs_index=None
):
    design = make_design(parse_formula(formula), data, family=family)
    final, _ = resolve_priors(design, priors)
    model = build_model(design, final, parameterization=parameterization, obs_index=obs_index)
    return design, model


def names(model: pm.Model) -> set[str]:
    return set(model.named_vars)


def dims(model: pm.Model, name: str) -> tuple[str, ...]:
    return tuple(model.named_vars_to_dims.get(name, ()))


def random_point(model: pm.Model, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: 0.5 * rng.normal(size=np.shape(value))
        for name, value in model.initial_point().items()
    }


# Python-implemented ops: no C compilation, fast enough for these tiny models on a cold cache.
MODE = "FAST_COMPILE"


def evaluate(model: pm.Model, outputs: list, point: dict) -> list[np.ndarray]:
    """Evaluate model expressions (deterministics, logp) at a point of the value variables."""
    outs = model.replace_rvs_by_values(outputs)
    fn = model.compile_fn(outs, inputs=model.value_vars, on_unused_input="ignore", mode=MODE)
    return [np.asarray(v) for v in fn(point)]


# ---------------------------------------------------------------------------- variables, dims


def test_fixed_effects_variables(data):
    design, model = make("y ~ x + z + (1 | g)", data)
    assert dims(model, "b") == (FIXED_DIM,) == ("term",)
    assert list(model.coords["term"]) == list(design.fixed_columns) == ["Intercept", "x", "z"]
    assert list(model.coords["slope_term"]) == ["x", "z"]
    assert dims(model, "beta") == ("slope_term",)
    assert {"Intercept_c", "beta"} <= {v.name for v in model.free_RVs}
    assert "b" in {v.name for v in model.deterministics}


def test_categorical_fixed_effects_coords(data):
    design, model = make("y ~ a * x", data)
    assert list(model.coords["term"]) == list(design.fixed_columns)
    assert list(model.coords["term"]) == ["Intercept", "a[T.q]", "x", "a[T.q]:x"]


def test_no_intercept(data):
    _, model = make("y ~ 0 + x + (1 | g)", data)
    assert "Intercept_c" not in names(model)
    assert list(model.coords["term"]) == ["x"]


def test_intercept_only(data):
    _, model = make("y ~ (1 | g)", data)
    assert "beta" not in names(model)
    assert list(model.coords["term"]) == ["Intercept"]


def test_no_fixed_effects_at_all(data):
    _, model = make("y ~ 0 + (1 | g)", data)
    assert {"beta", "Intercept_c"}.isdisjoint(names(model))
    assert list(model.coords["term"]) == []
    assert dims(model, "b") == ("term",)


def test_distinct_slope_priors_get_one_variable_each(data):
    _, model = make("y ~ x + z", data, priors={"b|x": Prior("StudentT", nu=3, mu=0, sigma=1)})
    assert {"b|x", "b|z"} <= {v.name for v in model.free_RVs}
    assert "beta" in {v.name for v in model.deterministics}
    assert dims(model, "beta") == ("slope_term",)


def test_random_intercept_block(data):
    design, model = make("y ~ x + (1 | g)", data)
    assert dims(model, "sd|g") == ("g__term",)
    assert "sd|g" in {v.name for v in model.free_RVs}
    assert {"cor|g", "chol_cor|g"}.isdisjoint(names(model))
    assert dims(model, "u|g") == ("g", "g__term")
    assert list(model.coords["g"]) == list(design.blocks[0].levels) == [f"s{j}" for j in range(6)]
    assert list(model.coords["g__term"]) == ["Intercept"]


def test_correlated_block(data):
    _, model = make("y ~ x + (1 + x | g)", data)
    assert {"sd|g", "chol_cor|g"} <= {v.name for v in model.free_RVs}
    deterministics = {v.name for v in model.deterministics}
    assert {"cor|g", "u|g"} <= deterministics
    assert dims(model, "sd|g") == ("g__term",)
    assert dims(model, "cor|g") == ("g__term", "g__term_bis")
    assert dims(model, "u|g") == ("g", "g__term")
    assert list(model.coords["g__term"]) == ["Intercept", "x"]
    assert list(model.coords["g__term_bis"]) == ["Intercept", "x"]


@pytest.mark.parametrize("formula", ["y ~ x + (x || g)", "y ~ x + (0 + x | g)", "y ~ (1 | g)"])
def test_no_correlation_without_a_correlated_multi_term_block(data, formula):
    _, model = make(formula, data)
    assert {"cor|g", "chol_cor|g"}.isdisjoint(names(model))
    assert "sd|g" in {v.name for v in model.free_RVs}


def test_numeric_group_labels_as_coords(data):
    _, model = make("y ~ (1 | h)", data)
    assert list(model.coords["h"]) == ["1", "2", "3"]


def test_repeated_and_nested_blocks(data):
    _, model = make("y ~ (1 | g) + (0 + x | g) + (1 | h/a)", data)
    assert dims(model, "u|g") == ("g", "g__term")
    assert dims(model, "u|g.2") == ("g", "g.2__term")
    assert dims(model, "u|h") == ("h", "h__term")
    assert dims(model, "u|h:a") == ("h:a", "h:a__term")
    assert list(model.coords["h:a"]) == ["1:p", "1:q", "2:p", "2:q", "3:p", "3:q"]
    assert {"sd|g", "sd|g.2", "sd|h", "sd|h:a"} <= names(model)


def test_reserved_factor_names_get_a_group_dim(data):
    frame = data.assign(term=data.h, obs=data.a)
    design, model = make("y ~ x + (1 | term) + (1 | obs)", frame)
    assert [group_dim(b) for b in design.blocks] == ["term__group", "obs__group"]
    assert dims(model, "u|term") == ("term__group", "term__term")
    assert dims(model, "u|obs") == ("obs__group", "obs__term")
    assert list(model.coords["term"]) == ["Intercept", "x"]  # the fixed-effect dim is untouched
    assert len(model.coords["obs"]) == len(frame)


@pytest.mark.parametrize(
    ("parameterization", "z_dims", "u_free"),
    [
        ("noncentered", ("g", "g__term"), False),
        ("centered", None, True),
    ],
)
@pytest.mark.parametrize("formula", ["y ~ x + (1 | g)", "y ~ x + (1 + x | g)", "y ~ (x || g)"])
def test_z_only_for_noncentered(data, formula, parameterization, z_dims, u_free):
    _, model = make(formula, data, parameterization=parameterization)
    if z_dims is None:
        assert "z|g" not in names(model)
    else:
        assert dims(model, "z|g") == z_dims
    assert ("u|g" in {v.name for v in model.free_RVs}) is u_free
    assert dims(model, "u|g") == ("g", "g__term")


@pytest.mark.parametrize("formula", ["y ~ x + (1 + x | g)", "y ~ x + (x || g)"])
def test_mixed_parameterization_variables(data, formula):
    _, model = make(formula, data, parameterization={"g": ("noncentered", "centered")})
    free = {v.name for v in model.free_RVs}
    assert {"z|g", "u|g|x"} <= free
    assert "u|g" in {v.name for v in model.deterministics}
    assert dims(model, "z|g") == ("g", "g__term_z")
    assert list(model.coords["g__term_z"]) == ["Intercept"]
    assert dims(model, "u|g|x") == ("g",)
    assert dims(model, "u|g") == ("g", "g__term")


@pytest.mark.parametrize(
    ("formula", "family", "observed", "has_sigma"),
    [
        ("y ~ x + (1 | g)", "gaussian", "y", True),
        ("yb ~ x + (1 | g)", "bernoulli", "yb", False),
        ("k | trials(n) ~ x + (1 | g)", "binomial", "k", False),
        ("cnt ~ x + (1 | g)", "poisson", "cnt", False),
        ("np.log(n) ~ x + (1 | g)", "gaussian", "y", True),
    ],
)
def test_observed_and_sigma(data, formula, family, observed, has_sigma):
    design, model = make(formula, data, family=family)
    assert response_name(design) == observed
    assert [v.name for v in model.observed_RVs] == [observed]
    assert dims(model, observed) == (OBS_DIM,)
    assert ("sigma" in names(model)) is has_sigma


@pytest.mark.parametrize("column", ["b", "sigma", "Intercept", "beta", "Intercept_c"])
def test_response_named_like_a_parameter_is_renamed(data, column):
    design, model = make(f"{column} ~ x", data.assign(**{column: data.y}))
    assert response_name(design) == "y"
    assert [v.name for v in model.observed_RVs] == ["y"]


def test_observed_values(data):
    _, model = make("k | trials(n) ~ x + (1 | g)", data, family="binomial")
    observed = model.rvs_to_values[model["k"]]
    np.testing.assert_array_equal(np.asarray(observed.data), data["k"].to_numpy())


def test_obs_coords(data):
    _, model = make("y ~ x", data)
    np.testing.assert_array_equal(model.coords["obs"], np.arange(len(data)))
    labels = pd.Index([f"row{i}" for i in range(len(data))])
    _, model = make("y ~ x", data, obs_index=labels)
    assert list(model.coords["obs"]) == list(labels)


# ---------------------------------------------------------------------------- parameterization


def test_parameterizations_constant():
    assert PARAMETERIZATIONS == (
        "noncentered",
        "centered",
        "marginal",
        "laplace",
        "expanded",
        "agq",
        "partial",
    )


@pytest.fixture(scope="module")
def two_blocks(data):
    return make_design(parse_formula("y ~ x + (1 + x | g) + (1 | h)"), data)


@pytest.mark.parametrize("choice", ["noncentered", "centered"])
def test_resolve_parameterization_string(two_blocks, choice):
    assert resolve_parameterization(two_blocks, choice) == {"g": (choice, choice), "h": (choice,)}


def test_resolve_parameterization_auto(two_blocks):
    result = resolve_parameterization(two_blocks, {})
    assert list(result) == ["g", "h"]
    assert len(result["g"]) == 2 and len(result["h"]) == 1
    assert all(c in ("centered", "noncentered") for c in (*result["g"], *result["h"]))
    # Terms left out of a dict get "auto" (centred or non-centred per coefficient).
    assert resolve_parameterization(two_blocks, {"h": "auto"}) == result
    # The string "auto" also integrates out one factor of a gaussian model.
    whole = resolve_parameterization(two_blocks, "auto")
    assert [v[0] == "marginal" for v in whole.values()].count(True) == 1


def test_auto_is_noncentered_for_non_gaussian(data):
    design = make_design(parse_formula("yb ~ x + (1 + x | g)"), data, family="bernoulli")
    assert resolve_parameterization(design, "auto") == {"g": ("noncentered", "noncentered")}


def test_auto_on_hsb_centres_the_intercept():
    import hierbayes as hb

    formula = "mAch ~ cses * meanses + (1 + cses | school)"
    design = make_design(parse_formula(formula), hb.datasets.load("hsb"))
    assert resolve_parameterization(design, {}) == {"school": ("centered", "noncentered")}
    # the string "auto" integrates a gaussian model's single factor out
    assert resolve_parameterization(design, "auto") == {"school": ("marginal", "marginal")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"g": "centered"}, {"g": ("centered", "centered"), "h": ("noncentered",)}),
        (
            {"h": "centered", "g": "noncentered"},
            {"g": ("noncentered", "noncentered"), "h": ("centered",)},
        ),
        (
            {"g": {"Intercept": "centered", "x": "noncentered"}, "h": "noncentered"},
            {"g": ("centered", "noncentered"), "h": ("noncentered",)},
        ),
        (
            {"g": ("noncentered", "centered"), "h": "centered"},
            {"g": ("noncentered", "centered"), "h": ("centered",)},
        ),
        (
            {"g": ["centered", "centered"], "h": ["noncentered"]},
            {"g": ("centered", "centered"), "h": ("noncentered",)},
        ),
    ],
)
def test_resolve_parameterization_dict(two_blocks, value, expected):
    assert resolve_parameterization(two_blocks, value) == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (
            "non-centered",
            r"Unknown parameterization 'non-centered' for 'g'; choose 'auto', "
            r"'noncentered', 'centered'",
        ),
        ("", r"Unknown parameterization '' for 'g'"),
        ({"g": "centred"}, r"Unknown parameterization 'centred' for 'g'"),
        ({"h": ("fancy",)}, r"Unknown parameterization 'fancy' for 'h'"),
        (
            {"school": "centered"},
            r"parameterization names unknown group term\(s\) \['school'\]; this model has "
            r"\['g', 'h'\]",
        ),
        (
            {"g": {"slope": "centered"}},
            r"parameterization for 'g' names unknown coefficient\(s\) \['slope'\]; "
            r"its coefficients are \['Intercept', 'x'\]",
        ),
        ({"g": ("centered",)}, r"parameterization for 'g' has 1 entries; its coefficients are"),
        (3, r"parameterization must be a string or a dict by group term, got int"),
        (["centered"], r"parameterization must be a string or a dict by group term, got list"),
    ],
)
def test_resolve_parameterization_errors(two_blocks, value, match):
    with pytest.raises(ModelSpecError, match=match):
        resolve_parameterization(two_blocks, value)


def test_build_model_rejects_bad_parameterization(data):
    with pytest.raises(ModelSpecError, match=r"unknown group term\(s\) \['nope'\]"):
        make("y ~ x + (1 | g)", data, parameterization={"nope": "centered"})


# ---------------------------------------------------------------------------- numerics


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("y ~ x + z + (1 + x | g) + (1 | h)", "gaussian"),
        ("yb ~ x + z + (1 + x | g)", "bernoulli"),
        ("k | trials(n) ~ x + (x || g)", "binomial"),
        ("cnt ~ x + z + (1 | g) + (1 | h)", "poisson"),
    ],
)
def test_initial_logp_is_finite(data, formula, family):
    _, model = make(formula, data, family=family)
    logp = model.compile_logp(mode=MODE)(model.initial_point())
    assert np.isfinite(logp)


@pytest.mark.parametrize("priors", [None, {"b|z": Prior("StudentT", nu=4, mu=0, sigma=3)}])
def test_b_is_on_the_original_scale(data, priors):
    design, model = make("y ~ x + z + (1 | g)", data, priors=priors)
    point = random_point(model, seed=3)
    b, intercept_c, beta = evaluate(model, [model["b"], model["Intercept_c"], model["beta"]], point)
    X_slopes = design.X[:, 1:]
    sampled = [point["b|x"], point["b|z"]] if priors else point["beta"]
    np.testing.assert_allclose(beta, sampled)
    np.testing.assert_allclose(intercept_c, point["Intercept_c"])
    np.testing.assert_allclose(b[0], intercept_c - X_slopes.mean(axis=0) @ beta, rtol=1e-10)
    np.testing.assert_allclose(b[1:], beta, rtol=1e-10)


def test_parameterizations_define_the_same_density(data):
    """log p(z, θ) = log p(u, θ) + Σ_groups Σ_k∈noncentred log L_kk (the Jacobian of u(z))."""
    formula = "y ~ x + (1 + x | g)"
    _, centered = make(formula, data, parameterization="centered")
    centered_logp = centered.compile_logp(mode=MODE)
    j = 6  # groups
    for choice, noncentered_idx in [
        (("centered", "noncentered"), [1]),
        (("noncentered", "noncentered"), [0, 1]),
    ]:
        _, model = make(formula, data, parameterization={"g": choice})
        point = random_point(model, seed=11)
        logp, u, sd, cor, z = evaluate(
            model,
            [model.logp(), model["u|g"], model["sd|g"], model["cor|g"], model["z|g"]],
            point,
        )
        cov = np.diag(sd) @ cor @ np.diag(sd)
        chol = np.linalg.cholesky(cov)
        if choice[0] == "centered":
            np.testing.assert_allclose(u[:, 0], point["u|g|Intercept"])
            expected_slope = chol[1, 0] * u[:, 0] / chol[0, 0] + chol[1, 1] * z[:, 0]
        else:
            np.testing.assert_allclose(u, z @ chol.T, rtol=1e-10)
            expected_slope = (z @ chol.T)[:, 1]
        np.testing.assert_allclose(u[:, 1], expected_slope, rtol=1e-10)

        shared = {k: v for k, v in point.items() if k in centered.initial_point()}
        logp_centered = centered_logp({**shared, "u|g": u})
        jacobian = j * sum(np.log(chol[k, k]) for k in noncentered_idx)
        np.testing.assert_allclose(logp - logp_centered, jacobian, rtol=1e-8)


# ---------------------------------------------------------------------------- auto_marginal_factor


def _groupings(n_schools=4, classes_per=3, per_class=5, seed=3) -> pd.DataFrame:
    """Classes nested in schools, and students crossed with both."""
    rng = np.random.default_rng(seed)
    n = n_schools * classes_per * per_class
    cls = np.repeat(np.arange(n_schools * classes_per), per_class)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "school": [f"s{c // classes_per}" for c in cls],
            "cls": [f"c{c}" for c in cls],
            "twin": [f"t{c}" for c in cls],  # the same grouping as cls, another name
            "rater": [f"r{j}" for j in rng.integers(0, 8, n)],
            "obs": [f"o{i}" for i in range(n)],
        }
    )


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("y ~ x + (1 + x | school)", "school"),  # the only factor
        ("y ~ x + (1 | school) + (1 | cls)", "cls"),  # nested: the children
        ("y ~ x + (1 | cls) + (1 | school) + (1 | rater)", "cls"),  # nested beats fewest groups
        ("y ~ x + (1 | school) + (1 | rater)", "school"),  # crossed: the fewest groups
        ("y ~ x + (1 | rater) + (1 | school)", "school"),
        ("y ~ x + (1 | cls) + (1 | twin)", "cls"),  # same grouping: no nesting, first on a tie
        ("y ~ x + (1 | school) + (1 | obs)", "school"),  # one row per group never counts
        ("y ~ x + (1 | school/cls)", "school:cls"),
    ],
)
def test_auto_marginal_factor(formula, expected):
    design = make_design(parse_formula(formula), _groupings())
    assert auto_marginal_factor(design) == expected


def test_auto_marginal_factor_is_none_for_other_families(data):
    design = make_design(parse_formula("yb ~ x + (1 | g)"), data, family="bernoulli")
    assert auto_marginal_factor(design) is None
