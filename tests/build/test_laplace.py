"""Resolving the "laplace" parameterisation: which factor, and typed errors for what the
compiled Laplace marginal cannot do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build.laplace import sampled_choices
from hierbayes.errors import ModelSpecError


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 90
    return pd.DataFrame(
        {
            "g": [f"g{j}" for j in rng.integers(0, 5, n)],
            "h": [f"h{j}" for j in rng.integers(0, 9, n)],
            "x": rng.normal(size=n),
            "y": rng.integers(0, 2, n),
            "c": rng.poisson(2.0, n),
        }
    )


def test_laplace_picks_the_factor_with_fewest_groups(df):
    m = hb.Model(
        "y ~ x + (1 + x | g) + (1 | h)", df, family="bernoulli", parameterization="laplace"
    )
    assert m.parameterization["g"] == ("laplace", "laplace")
    assert m.parameterization["h"][0] in ("centered", "noncentered")


def test_a_dict_names_the_factor(df):
    m = hb.Model(
        "c ~ x + (1 | g) + (1 | h)", df, family="poisson", parameterization={"h": "laplace"}
    )
    assert m.parameterization["h"] == ("laplace",)
    assert sampled_choices(m.parameterization)["h"] == ("noncentered",)


def test_a_dict_naming_several_factors_integrates_their_intercepts_jointly(df):
    m = hb.Model(
        "c ~ x + (1 | g) + (1 | h)",
        df,
        family="poisson",
        parameterization={"g": "laplace", "h": "laplace"},
    )
    assert m.parameterization == {"g": ("laplace",), "h": ("laplace",)}


def test_the_pymc_model_samples_laplace_effects(df):
    m = hb.Model("y ~ x + (1 | g)", df, family="bernoulli", parameterization="laplace")
    assert "z|g" in m.build().named_vars


@pytest.mark.parametrize(
    ("formula", "kwargs", "match"),
    [
        ("x ~ 1 + (1 | g)", {"family": "student_t", "parameterization": "laplace"}, "concave"),
        (
            "y ~ x + (1 + x | g) + (1 | h)",
            {"family": "bernoulli", "parameterization": {"g": "laplace", "h": "laplace"}},
            r"varying intercepts only; \['g'\] have varying slopes",
        ),
        (
            "y ~ x + (1 | g) + (0 + x | g) + (1 | h)",
            {
                "family": "bernoulli",
                "parameterization": dict.fromkeys(["g", "g.2", "h"], "laplace"),
            },
            r"one varying intercept per factor; \['g'\] have several terms",
        ),
        (
            "y ~ x + (1 | g) + (0 + x | g)",
            {"family": "bernoulli", "parameterization": {"g": "laplace"}},
            "must cover all its group terms",
        ),
        (
            "y ~ x + (1 + x | g)",
            {"family": "bernoulli", "parameterization": {"g": {"Intercept": "laplace"}}},
            "mixes 'laplace'",
        ),
        ("y ~ 1", {"family": "bernoulli", "parameterization": "laplace"}, "no group terms"),
    ],
)
def test_what_laplace_cannot_do_is_a_typed_error(df, formula, kwargs, match):
    with pytest.raises(ModelSpecError, match=match):
        hb.Model(formula, df, **kwargs)
