"""The marginal likelihood equals the dense normal density of y; parameterisation rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy.stats import multivariate_normal

from hierbayes.build import build_model, resolve_parameterization
from hierbayes.build.marginal import MARGINAL_POTENTIAL, add_marginal_likelihood, factor_design
from hierbayes.design import make_design
from hierbayes.errors import ModelSpecError
from hierbayes.priors import resolve_priors
from hierbayes.spec import parse_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 90
    g = rng.integers(0, 7, n)
    h = rng.integers(0, 4, n)
    x, w = rng.normal(2.0, 1.5, n), rng.normal(0.0, 1.0, n)
    y = 50 + 2 * x - w + rng.normal(0, 2, 7)[g] + rng.normal(0, 1, 4)[h] + rng.normal(0, 1, n)
    return pd.DataFrame({"y": y, "x": x, "w": w, "g": [f"g{j}" for j in g], "h": h})


def _random_chol(rng: np.random.Generator, q: int) -> np.ndarray:
    A = rng.normal(size=(q, q))
    return np.linalg.cholesky(A @ A.T / q + 0.3 * np.eye(q))


def _dense_z(block) -> np.ndarray:
    """n x (J q) indicator-times-Z matrix, group-major."""
    n, q = block.Z.shape
    J = len(block.levels)
    out = np.zeros((n, J * q))
    for i in range(n):
        out[i, block.codes[i] * q : (block.codes[i] + 1) * q] = block.Z[i]
    return out


@pytest.mark.parametrize(
    ("formula", "factor"),
    [
        ("y ~ x + (1 | g)", "g"),
        ("y ~ x + w + (1 + x | g)", "g"),
        ("y ~ x + (1 + x + w | g)", "g"),
        ("y ~ 0 + x + (1 + x | g)", "g"),
        ("y ~ 1 + (x || g)", "g"),
        ("y ~ x + (1 + x | g) + (1 | h)", "g"),
        ("y ~ x + (1 | g) + (1 + w | h)", "h"),
    ],
)
def test_marginal_loglik_equals_dense_density(data, formula, factor):
    rng = np.random.default_rng(11)
    design = make_design(parse_formula(formula), data)
    names = [b.name for b in design.blocks if b.factor == factor]
    fd = factor_design(design, names)
    chols = [_random_chol(rng, len(b.columns)) for b in fd.blocks]
    sigma = 1.3
    cols = list(design.fixed_columns)
    X = design.X
    has_int = "Intercept" in cols
    slopes = [j for j, c in enumerate(cols) if c != "Intercept"]
    Xc = X[:, slopes] - (X[:, slopes].mean(axis=0) if has_int else 0.0)
    W = np.column_stack(([np.ones(len(X))] if has_int else []) + [Xc])
    theta = rng.normal(size=W.shape[1]) + np.r_[48.0, np.zeros(W.shape[1] - 1)]
    others = [b for b in design.blocks if b.factor != factor]
    rest = np.zeros(len(X))
    for b in others:
        u = rng.normal(size=(len(b.levels), len(b.columns)))
        rest += (b.Z * u[b.codes]).sum(axis=1)
    with pm.Model():
        pot = add_marginal_likelihood(
            design,
            fd,
            [pt.as_tensor(c) for c in chols],
            pt.as_tensor(sigma),
            pt.as_tensor(theta),
            W,
            pt.as_tensor(rest) if others else None,
        )
        value = float(pot.eval())
    Zd = np.concatenate([_dense_z(b) for b in fd.blocks], axis=1)
    T = np.zeros((Zd.shape[1], Zd.shape[1]))
    k = 0
    for b, c in zip(fd.blocks, chols, strict=True):
        q, J = len(b.columns), len(b.levels)
        T[k : k + J * q, k : k + J * q] = np.kron(np.eye(J), c @ c.T)
        k += J * q
    V = sigma**2 * np.eye(len(X)) + Zd @ T @ Zd.T
    expected = multivariate_normal(W @ theta + rest, V).logpdf(design.y)
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-7)


def test_marginal_model_has_no_group_effects(data):
    design = make_design(parse_formula("y ~ x + (1 + x | g)"), data)
    priors, _ = resolve_priors(design, {})
    model = build_model(design, priors, "auto")
    names = {v.name for v in model.free_RVs}
    assert names == {"Intercept_c", "beta", "sd|g", "chol_cor|g", "sigma"}
    assert [p.name for p in model.potentials] == [MARGINAL_POTENTIAL]
    assert not model.observed_RVs
    assert {"cor|g", "b"} <= {v.name for v in model.deterministics}


def _design(data, formula, family="gaussian"):
    return make_design(parse_formula(formula), data, family=family)


def test_auto_integrates_out_a_single_gaussian_factor(data):
    design = _design(data, "y ~ x + (1 + x | g)")
    assert resolve_parameterization(design, "auto") == {"g": ("marginal", "marginal")}
    # a dict asks for centred or non-centred per coefficient
    assert "marginal" not in resolve_parameterization(design, {})["g"]


def test_auto_integrates_out_the_factor_with_fewest_groups(data):
    crossed = _design(data, "y ~ x + (1 | g) + (1 + x | h)")
    for value in ("auto", "marginal"):
        result = resolve_parameterization(crossed, value)
        assert result["h"] == ("marginal", "marginal")  # 4 groups of h, 7 of g
        assert result["g"][0] in ("centered", "noncentered")


def test_auto_keeps_non_gaussian_models_sampled(data):
    data = data.assign(yb=(data["y"] > data["y"].median()).astype(int))
    binary = _design(data, "yb ~ x + (1 | g) + (1 | h)", family="bernoulli")
    chosen = resolve_parameterization(binary, "auto")
    assert sorted(chosen) == ["g", "h"]
    assert all(c in ("centered", "noncentered") for choice in chosen.values() for c in choice)


def test_marginal_needs_group_terms(data):
    with pytest.raises(ModelSpecError, match=r"this model has no group terms"):
        resolve_parameterization(_design(data, "y ~ x"), "marginal")
    assert resolve_parameterization(_design(data, "y ~ x"), "auto") == {}


def test_marginal_covers_every_term_of_a_factor(data):
    design = _design(data, "y ~ x + (1 | g) + (0 + x | g)")
    assert resolve_parameterization(design, "marginal") == {
        "g": ("marginal",),
        "g.2": ("marginal",),
    }
    with pytest.raises(
        ModelSpecError, match=r"must cover all its group terms; also give it for \['g.2'\]"
    ):
        resolve_parameterization(design, {"g": "marginal"})


@pytest.mark.parametrize(
    ("formula", "family", "value", "match"),
    [
        (
            "yb ~ x + (1 | g)",
            "bernoulli",
            "marginal",
            r"'marginal' needs a gaussian family; this model is bernoulli",
        ),
        (  # crossed intercepts alone are integrated out jointly; with a slope they are not
            "y ~ x + (1 + x | g) + (1 | h)",
            "gaussian",
            {"g": "marginal", "h": "marginal"},
            r"one grouping factor's effects; \['g', 'h'\] were given",
        ),
        (
            "y ~ x + (1 + x | g)",
            "gaussian",
            {"g": ("marginal", "centered")},
            r"mixes 'marginal' with other choices",
        ),
    ],
)
def test_marginal_errors(data, formula, family, value, match):
    data = data.assign(yb=(data["y"] > data["y"].median()).astype(int))
    design = _design(data, formula, family)
    with pytest.raises(ModelSpecError, match=match):
        resolve_parameterization(design, value)


def test_factor_design_refuses_terms_on_different_groups(data):
    design = make_design(parse_formula("y ~ x + (1 | g) + (1 | h)"), data)
    with pytest.raises(ModelSpecError, match=r"'g' and 'h' do not share their groups"):
        factor_design(design, ["g", "h"])
