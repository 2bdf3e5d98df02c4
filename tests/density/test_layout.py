"""Packing a model for the kernel: sizes, unsupported priors, invalid prior parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.layout import Unsupported, centred_fixed_design, make_layout
from hierbayes.errors import PriorError


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 120
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": [f"g{j}" for j in rng.integers(0, 6, n)],
            "h": [f"h{j}" for j in rng.integers(0, 4, n)],
        }
    )


@pytest.mark.parametrize(
    ("formula", "parameterization"),
    [
        ("y ~ x + (1 + x | g)", "auto"),
        ("y ~ x + (1 + x | g)", "noncentered"),
        ("y ~ x + (1 + x | g) + (1 | h)", {"g": ("centered", "noncentered"), "h": "marginal"}),
        ("y ~ 0 + x + (x || g)", "centered"),
    ],
)
def test_unconstrained_size_equals_the_pymc_models(df, formula, parameterization):
    model = hb.Model(formula, data=df, parameterization=parameterization)
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    reference = model.build()
    size = sum(int(np.prod(reference.initial_point()[v.name].shape)) for v in reference.value_vars)
    assert layout.n_dim == size == len(layout.center)


def test_sampled_slices_tile_the_unconstrained_vector(df):
    model = hb.Model("y ~ x + (1 + x | g) + (1 | h)", data=df, parameterization="noncentered")
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    covered = np.zeros(layout.n_dim, dtype=int)
    covered[layout.theta] += 1
    for bl in layout.blocks:
        for part in (bl.sd, bl.corr, bl.effects):
            if part is not None:
                covered[part] += 1
    covered[layout.sigma] += 1
    assert np.all(covered == 1)


def test_fixed_design_is_centred_with_an_intercept(df):
    model = hb.Model("y ~ x + (1 | g)", data=df)
    W, means, has_intercept = centred_fixed_design(model.design)
    assert has_intercept and W.shape == (len(df), 2)
    np.testing.assert_allclose(W[:, 1], df["x"] - df["x"].mean())
    assert means[0] == pytest.approx(df["x"].mean())


@pytest.mark.parametrize(
    ("priors", "match"),
    [
        ({"b|x": hb.Prior("SkewNormal", mu=0.0, sigma=1.0, alpha=2.0)}, "SkewNormal of 'b|x'"),
        ({"sd|g": hb.Prior("InverseGamma", mu=1.0, sigma=0.5)}, "InverseGamma prior of 'sd|g'"),
    ],
)
def test_priors_the_kernel_lacks_are_unsupported(df, priors, match):
    model = hb.Model("y ~ x + (1 | g)", data=df, priors=priors)
    with pytest.raises(Unsupported, match=match):
        make_layout(model.design, model.prior_values, model.parameterization)


def _unchecked(dist: str, **params: float) -> hb.Prior:
    """A prior past :class:`hierbayes.Prior`'s own checks, for the layout's second line."""
    prior = object.__new__(hb.Prior)
    object.__setattr__(prior, "dist", dist)
    object.__setattr__(prior, "params", tuple(sorted(params.items())))
    return prior


@pytest.mark.parametrize(
    ("priors", "match"),
    [
        (
            {"sigma": _unchecked("HalfNormal", sigma=-1.0)},
            "sigma of the HalfNormal prior of 'sigma'",
        ),
        ({"b|x": _unchecked("Normal", mu=np.inf, sigma=1.0)}, "mu of the Normal prior of 'b|x'"),
        ({"sd|g": _unchecked("Gamma", alpha=0.0, beta=1.0)}, "alpha of the Gamma prior of 'sd|g'"),
        (
            {"b|x": _unchecked("Normal", mu=0.0, sigma=1.0, tau=100.0)},
            "Normal prior of 'b|x' has both sigma and tau",
        ),
        (
            {"sd|g": _unchecked("Exponential", lam=1.0, scale=10.0)},
            "Exponential prior of 'sd|g' has both lam and scale",
        ),
        (
            {"sd|g": _unchecked("HalfStudentT", nu=3.0, sigma=1.0, lam=100.0)},
            "HalfStudentT prior of 'sd|g' has both sigma and lam",
        ),
    ],
)
def test_invalid_prior_parameters_are_named(df, priors, match):
    model = hb.Model("y ~ x + (1 | g)", data=df, priors=priors)
    with pytest.raises(PriorError, match=match):
        make_layout(model.design, model.prior_values, model.parameterization)


def test_kernel_reads_rows_in_a_fixed_shuffled_order(df):
    """Row order does not change the log-density (the kernel permutes rows internally)."""
    model = hb.Model("y ~ x + (1 + x | g) + (1 | h)", data=df, parameterization="noncentered")
    shuffled = hb.Model(
        "y ~ x + (1 + x | g) + (1 | h)",
        data=df.iloc[::-1].reset_index(drop=True),
        parameterization="noncentered",
    )
    a = make_layout(model.design, model.prior_values, model.parameterization)
    b = make_layout(shuffled.design, shuffled.prior_values, shuffled.parameterization)
    x = a.center + np.random.default_rng(1).normal(0, 0.3, a.n_dim)
    assert a.logp_grad(x)[0] == pytest.approx(b.logp_grad(x)[0], rel=1e-12)
