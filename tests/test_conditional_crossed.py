"""Crossed factors integrated out jointly: exact conditional draws of the effects have the dense
gaussian posterior's mean and covariance; on a real data set (ScotsSec) the posterior from the
joint marginal agrees with the one from sampling the effects, within Monte Carlo error, and with
lme4's estimates (``tests/reference_crossed_scotssec.R``)."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build.crossed_marginal import crossed_costs, crossed_design, prefer_crossed
from hierbayes.conditional_crossed import crossed_effects
from hierbayes.design import make_design
from hierbayes.spec import parse_formula
from tests.helpers import quiet_fit

FORMULA = "attain ~ verbal + sex + (1 | primary) + (1 | second)"
# lme4 REML (tests/reference_crossed_scotssec.R), in hierbayes's coding: lme4's reference sex is
# M (Intercept 5.9192583271, sexF 0.1159663571), hierbayes's F
LME4_FIXED = {
    "Intercept": 5.9192583271 + 0.1159663571,
    "verbal": 0.1595926704,
    "sex[T.M]": -0.1159663571,
}


def test_draws_have_the_dense_conditional_mean_and_covariance():
    rng = np.random.default_rng(5)
    n = 50
    p = rng.integers(0, 12, n)
    df = pd.DataFrame({"x": rng.normal(size=n), "p": [f"p{i}" for i in p]})
    df["s"] = [f"s{i}" for i in (p // 3 + rng.integers(0, 2, n)) % 4]
    df["a"] = [f"a{i}" for i in rng.integers(0, 3, n)]
    df["y"] = 1 + df.x + rng.normal(size=n) * 2
    design = make_design(parse_formula("y ~ x + (1 | s) + (1 | p) + (1 | a)"), df)
    crossed = crossed_design(design)
    assert [b.name for b in crossed.blocks] == ["p", "s", "a"]
    sds = {"p": 1.1, "s": 0.8, "a": 0.5}
    b, sigma = np.array([0.8, 1.1]), 1.3
    S = 8000
    draws = crossed_effects(
        np.tile(b, (S, 1)),
        np.full(S, sigma),
        {k: np.full(S, v) for k, v in sds.items()},
        design,
        crossed,
        np.random.default_rng(0),
    )
    # dense posterior of all effects: precision T⁻¹ + Z'Z / σ²
    Zs, tau, sample = [], [], []
    for block in design.blocks:
        J = len(block.levels)
        Z = np.zeros((n, J))
        Z[np.arange(n), block.codes] = 1.0
        Zs.append(Z)
        tau.append(np.full(J, sds[block.name] ** 2))
        sample.append(draws[block.name][:, :, 0])
    Z = np.concatenate(Zs, axis=1)
    r = design.y - design.X @ b
    cov = np.linalg.inv(np.diag(1.0 / np.concatenate(tau)) + Z.T @ Z / sigma**2)
    mean = cov @ Z.T @ r / sigma**2
    sample = np.concatenate(sample, axis=1)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 4.5 * sd / np.sqrt(S))
    emp = np.cov(sample.T)
    mc_error = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / S)
    assert np.all(np.abs(emp - cov) < 4.5 * mc_error)
    # the factors are correlated a posteriori: the draws are joint, not factor by factor
    first_pupil, first_school = 4, 0  # columns: s (4), then p
    assert np.abs(cov[first_school, first_pupil]) > 10 * mc_error[first_school, first_pupil]


def _mcse(draws) -> np.ndarray:
    """Monte Carlo standard error of the mean of each entry."""
    return np.asarray(az.mcse(draws.to_dataset(name="v"))["v"])


@pytest.fixture(scope="module")
def scots() -> pd.DataFrame:
    data = pd.read_csv(Path(__file__).parent / "data" / "scotssec.csv")
    return data.astype({"primary": str, "second": str})


@pytest.fixture(scope="module")
def fits(scots) -> tuple[hb.Fit, hb.Fit]:
    settings = {"draws": 500, "tune": 500, "chains": 2, "random_seed": 3}
    joint = quiet_fit(hb.Model(FORMULA, data=scots), **settings)
    sampled = quiet_fit(hb.Model(FORMULA, data=scots, parameterization="noncentered"), **settings)
    return joint, sampled


def test_auto_integrates_out_both_factors_jointly(scots, fits):
    model = hb.Model(FORMULA, data=scots)
    assert model.parameterization == {"primary": ("marginal",), "second": ("marginal",)}
    costs = crossed_costs(model.design, crossed_design(model.design))
    assert costs["joint"] < costs["one"]
    header = str(fits[0].summary())
    assert "primary + second: integrated out jointly (crossed)" in header


def test_joint_marginal_and_sampled_effects_agree(fits):
    joint, sampled = (f.idata["posterior"].to_dataset() for f in fits)
    for name in ("b", "sd|primary", "sd|second", "sigma"):
        a, b = joint[name], sampled[name]
        se = np.sqrt(_mcse(a) ** 2 + _mcse(b) ** 2)
        diff = np.abs(np.asarray(a.mean(("chain", "draw")) - b.mean(("chain", "draw"))))
        assert np.all(diff < 4.5 * se), name
    # the effects drawn afterwards: every school's posterior mean, within Monte Carlo error
    for name in ("u|primary", "u|second"):
        a, b = joint[name], sampled[name]
        se = np.sqrt(_mcse(a) ** 2 + _mcse(b) ** 2)
        diff = np.abs(np.asarray(a.mean(("chain", "draw")) - b.mean(("chain", "draw"))))
        assert float((diff < 4.5 * se).mean()) > 0.99, name


def test_fixed_effects_agree_with_lme4(fits):
    b = fits[0].idata["posterior"]["b"]
    for term, estimate in LME4_FIXED.items():
        draws = b.sel(term=term)
        # weak priors, 3,435 rows: the posterior mean is lme4's estimate within a fifth of a
        # posterior SD, plus Monte Carlo error
        mcse = float(_mcse(draws))
        assert abs(float(draws.mean()) - estimate) < 0.2 * float(draws.std()) + 4 * mcse, term


def test_ranef_and_predict_work_on_the_joint_fit(fits, scots):
    ranef = fits[0].ranef()
    assert ranef.groupby("factor").size().to_dict() == {"primary": 148, "second": 19}
    # predictions for existing groups read the drawn effects: as from the sampled effects
    joint, sampled = (f.predict(scots.head(5)) for f in fits)
    se = np.sqrt(_mcse(joint) ** 2 + _mcse(sampled) ** 2)
    diff = np.abs(np.asarray(joint.mean(("chain", "draw")) - sampled.mean(("chain", "draw"))))
    assert np.all(diff < 4.5 * se)


def test_auto_keeps_one_factor_out_when_the_schur_complement_is_large():
    # 600 groups crossed with 400: a 400² dense factorisation per gradient against 1,200 rows
    rng = np.random.default_rng(0)
    n = 1200
    df = pd.DataFrame({"g": rng.integers(0, 600, n).astype(str)})
    df["h"] = rng.integers(0, 400, n).astype(str)
    df["y"] = rng.normal(size=n)
    model = hb.Model("y ~ 1 + (1 | g) + (1 | h)", data=df)
    assert not prefer_crossed(model.design)
    assert model.parameterization["h"] == ("marginal",)
    assert model.parameterization["g"] != ("marginal",)
