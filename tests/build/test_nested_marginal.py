"""Nested factors integrated out jointly: which models ``auto`` gives it, the PyMC model's
likelihood against the compiled kernel's, and the posterior against sampling the effects."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
from pymc.model.transform.conditioning import remove_value_transforms

import hierbayes as hb
from hierbayes.build import resolve_parameterization
from hierbayes.build.nested_marginal import nested_chain
from hierbayes.density.draws import named_draws
from hierbayes.density.layout import make_layout
from hierbayes.design import make_design
from hierbayes.errors import ModelSpecError
from hierbayes.spec import parse_formula
from tests.density.test_kernel import log_jacobian

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def pastes() -> pd.DataFrame:
    return pd.read_csv(HERE / "pastes.csv")


@pytest.fixture(scope="module")
def crossed() -> pd.DataFrame:
    """c nests in a; b is crossed with both."""
    rng = np.random.default_rng(0)
    a = np.tile(np.arange(10), 20)
    return pd.DataFrame(
        {
            "y": rng.normal(size=200),
            "x": rng.normal(size=200),
            "a": [f"a{i}" for i in a],
            "c": [f"c{i}_{j}" for i, j in zip(a, np.arange(200) % 3, strict=True)],
            "b": np.repeat([f"b{i}" for i in range(20)], 10),
        }
    )


def test_auto_integrates_out_every_factor_when_all_nest(pastes, crossed):
    design = make_design(parse_formula("strength ~ 1 + (1 | batch/cask)"), pastes)
    assert resolve_parameterization(design, "auto") == {
        "batch": ("marginal",),
        "batch:cask": ("marginal",),
    }
    chain = nested_chain(design)
    assert [f.n_groups for f in chain.levels] == [10, 30]
    assert chain.parents[0].tolist() == np.repeat(np.arange(10), 3).tolist()
    slopes = make_design(parse_formula("y ~ x + (1 + x | a) + (1 + x | c)"), crossed)
    assert set(resolve_parameterization(slopes, "marginal").values()) == {("marginal",) * 2}
    # with a crossed factor only the nested factor is integrated out, as before
    with_crossed = make_design(parse_formula("y ~ 1 + (1 | a) + (1 | c) + (1 | b)"), crossed)
    assert nested_chain(with_crossed) is None
    chosen = resolve_parameterization(with_crossed, "auto")
    assert [name for name, how in chosen.items() if how[0] == "marginal"] == ["c"]


def test_nested_factors_integrated_out_with_a_sampled_one_is_an_error(crossed):
    design = make_design(parse_formula("y ~ 1 + (1 | a) + (1 | c) + (1 | b)"), crossed)
    with pytest.raises(ModelSpecError, match="every group term is 'marginal' and they all nest"):
        resolve_parameterization(design, {"a": "marginal", "c": "marginal", "b": "centered"})


@pytest.mark.slow
def test_pymc_likelihood_matches_the_compiled_kernel(crossed):
    """The PyMC model's potential (batched per level) against the kernel (whose gradient
    tests/density/test_nested_marginal.py checks); compiled without C for speed."""
    model = hb.Model("y ~ x + (1 + x | a) + (1 | c)", data=crossed.iloc[:60])
    assert set(model.parameterization.values()) == {("marginal",), ("marginal", "marginal")}
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    reference = remove_value_transforms(model.build())
    logp = reference.compile_logp(jacobian=False, mode="FAST_COMPILE")
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = layout.center + rng.normal(0.0, 0.5, layout.n_dim)
        draws = named_draws(layout, x[None])
        point = {v.name: np.asarray(draws[v.name][0]) for v in reference.value_vars}
        expected = float(logp(point))
        value = layout.logp_grad(x)[0] - log_jacobian(layout, x)
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-6)


@pytest.mark.slow
def test_pastes_posterior_equals_that_of_sampled_effects(pastes):
    """Joint marginal + exact conditional draws against NUTS on all effects (non-centred),
    within Monte Carlo error: population parameters and a few group effects."""
    formula = "strength ~ 1 + (1 | batch/cask)"
    fits = [
        hb.Model(formula, data=pastes, parameterization=p).fit(draws=1000, chains=4, random_seed=3)
        for p in ("auto", "noncentered")
    ]
    post = [f.idata["posterior"] for f in fits]
    assert fits[0].model.parameterization["batch"] == ("marginal",)
    assert fits[0].diagnostics.divergences == 0
    checks = [
        ("b", {"term": "Intercept"}),
        ("sigma", {}),
        ("sd|batch", {}),
        ("sd|batch:cask", {}),
        ("u|batch", {"batch": "A"}),
        ("u|batch:cask", {"batch:cask": "A:a"}),
    ]
    for name, sel in checks:
        draws = [p[name].sel(**sel).squeeze() for p in post]
        means = [float(d.mean()) for d in draws]
        mcse = [float(az.mcse(d, method="mean")) for d in draws]
        gap = abs(means[0] - means[1]) / np.hypot(*mcse)
        assert gap < 4.0, f"{name} {sel}: {means} ({gap:.1f} Monte Carlo SEs apart)"
