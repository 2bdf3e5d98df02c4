"""Nested designs: which level's coefficients are centred, and a tiny nested fit against lme4."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build import resolve_parameterization
from hierbayes.build.nested import nested_child
from hierbayes.design import make_design
from hierbayes.spec import parse_formula

HERE = Path(__file__).parent


def _pupils(sd_authority: float, seed: int = 1) -> pd.DataFrame:
    """31,000 pupils in 2,400 schools in 130 authorities; school SD 0.35, residual SD 1."""
    rng = np.random.default_rng(seed)
    authority_of_school = np.sort(rng.integers(0, 130, 2_400))
    authority_of_school[:130] = np.arange(130)
    size = rng.gamma(2.0, 1.0, 2_400)
    school = rng.choice(2_400, 31_000, p=size / size.sum())
    school[:2_400] = np.arange(2_400)
    authority = authority_of_school[school]
    x = rng.normal(size=31_000)
    effects = rng.normal(0, sd_authority, 130)[authority] + rng.normal(0, 0.35, 2_400)[school]
    return pd.DataFrame(
        {
            "score": 0.2 + 0.5 * x + effects + rng.normal(size=31_000),
            "x": x,
            "authority": [f"a{i}" for i in authority],
            "school": [f"s{i}" for i in school],
        }
    )


@pytest.mark.parametrize(
    ("sd_authority", "expected"),
    # information per authority about its effect, τ²_A Σ_schools 1 / (τ²_S + σ²/n): about 0.2
    # for an SD of 0.05 (a seventh of the school SD), about 40 for 0.7
    [(0.05, "noncentered"), (0.7, "centered")],
)
def test_weak_upper_level_is_noncentered(sd_authority, expected):
    data = _pupils(sd_authority)
    design = make_design(parse_formula("score ~ x + (1 | authority) + (1 | school)"), data)
    authority = next(b for b in design.blocks if b.factor == "authority")
    assert nested_child(design, authority, 0).factor == "school"
    # (plain "auto" integrates out both factors: tests/build/test_nested_marginal.py)
    chosen = resolve_parameterization(design, {"school": "marginal"})
    assert chosen == {"authority": (expected,), "school": ("marginal",)}


def test_no_nested_rule_with_a_crossed_factor():
    # c nests in a, b is crossed with both: the row-based rule is kept (see nested_child)
    rng = np.random.default_rng(0)
    a = np.tile(np.arange(10), 20)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=200),
            "a": [f"a{i}" for i in a],
            "c": [f"c{i}_{j}" for i, j in zip(a, np.arange(200) % 3, strict=True)],
            "b": np.repeat([f"b{i}" for i in range(20)], 10),
        }
    )
    design = make_design(parse_formula("y ~ 1 + (1 | a) + (1 | c) + (1 | b)"), data)
    assert all(nested_child(design, block, 0) is None for block in design.blocks)
    nested_only = make_design(parse_formula("y ~ 1 + (1 | a) + (1 | c)"), data)
    assert nested_child(nested_only, nested_only.blocks[0], 0).factor == "c"


# lme4 REML fit of strength ~ 1 + (1 | batch/cask) to Pastes (tests/build/pastes_lme4.R)
PASTES_REML_SD = {"sd|batch:cask": 2.904077467, "sd|batch": 1.287365881, "sigma": 0.8234075234}
PASTES_REML_INTERCEPT = 60.05333333


@pytest.fixture(scope="module")
def pastes_fit():
    data = pd.read_csv(HERE / "pastes.csv")
    return hb.Model("strength ~ 1 + (1 | batch/cask)", data=data).fit(random_seed=1)


@pytest.mark.slow
def test_pastes_converges_with_defaults(pastes_fit):
    assert pastes_fit.diagnostics.divergences == 0
    assert pastes_fit.diagnostics.max_rhat <= 1.01
    # both levels integrated out together, and the summary says so
    effects = dict(pastes_fit.summary().header)["Effects"]
    assert (
        effects == "batch > batch:cask: integrated out jointly (nested), drawn exactly afterwards"
    )


@pytest.mark.slow
def test_pastes_agrees_with_lme4(pastes_fit):
    post = pastes_fit.idata["posterior"]
    # Balanced design: for any variances the intercept's conditional posterior mean is the grand
    # mean (GLS = OLS), which is REML's estimate, and the default prior is centred there (to 4
    # decimals; its precision is 1/150 of the data's); so the posterior mean differs from lme4's
    # only by Monte Carlo error.
    intercept = post["b"].sel(term="Intercept")
    mcse = float(az.mcse(intercept, method="mean"))
    assert abs(float(intercept.mean()) - PASTES_REML_INTERCEPT) < 4 * mcse
    # REML estimates of the SDs are the posterior mode under flat priors: the posterior median
    # sits within half a posterior SD of it for these moderately skewed posteriors (measured:
    # 0.16, 0.04 and 0.2 SDs for casks, batches and residual).
    for name, reml in PASTES_REML_SD.items():
        draws = post[name]
        assert abs(float(draws.median()) - reml) < 0.5 * float(draws.std()), name
