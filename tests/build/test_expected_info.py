"""The expected information of the zero-inflated count families and the choice it gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build.expected_info import expected_weights
from hierbayes.build.glm_choice import _derivs, _group_estimates, population_fit
from hierbayes.course import SHRINKAGE_BAND, shrinkage_ratios
from hierbayes.families.dispatch import eta_derivs

ETA = np.array([-1.0, 0.5, 1.5, 2.5])


def _draws(family: str, mu: float, theta: np.ndarray, size: int, rng) -> np.ndarray:
    zi = theta[-1]
    if family == "zero_inflated_poisson":
        counts = rng.poisson(mu, size)
    else:
        counts = rng.negative_binomial(theta[0], theta[0] / (theta[0] + mu), size)
    return np.where(rng.random(size) < zi, 0, counts).astype(float)


@pytest.mark.parametrize(
    ("family", "theta"),
    [
        ("zero_inflated_poisson", np.array([0.3])),
        ("zero_inflated_negativebinomial", np.array([2.0, 0.3])),
    ],
)
def test_expected_information_is_the_mean_observed_information(family, theta):
    """``E[-d²ℓ/dη²]`` against its Monte Carlo mean over draws of the family (within 5 MC SEs),
    and the information identity ``E[(dℓ/dη)²]``."""
    design = hb.Model("y ~ 1", pd.DataFrame({"y": [0.0, 1.0, 3.0, 7.0]}), family=family).design
    expected = expected_weights(design, ETA, theta, np.zeros(ETA.size))
    rng = np.random.default_rng(1)
    for i, eta in enumerate(ETA):
        y = _draws(family, float(np.exp(eta)), theta, 200_000, rng)
        d1, d2, d3 = np.empty(y.size), np.empty(y.size), np.empty(y.size)
        e = np.full(y.size, eta)
        eta_derivs(design.family.code, y, e, np.zeros(0), theta, d1, d2, d3)
        for sample in (-d2, d1**2):
            se = sample.std() / np.sqrt(y.size)
            assert abs(sample.mean() - expected[i]) < 5 * se, (eta, sample.mean(), expected[i])
        assert expected[i] > 0


def test_zero_inflated_poisson_closed_form():
    """``(1-zi) λ - (1-zi) e^{-λ} λ² zi / P(0)``, positive where a zero's observed information
    is negative."""
    design = hb.Model(
        "y ~ 1", pd.DataFrame({"y": [0.0] * 4}), family="zero_inflated_poisson"
    ).design
    zi, lam = 0.3, np.exp(ETA)
    observed = _derivs(design, ETA, np.array([zi]))[1]
    assert observed[-1] < 0  # a zero where λ = 12: the observed information is negative
    p0 = zi + (1 - zi) * np.exp(-lam)
    closed = (1 - zi) * lam - (1 - zi) * np.exp(-lam) * lam**2 * zi / p0
    got = expected_weights(design, ETA, np.array([zi]), observed)
    np.testing.assert_allclose(got, closed, rtol=1e-9)


def _zip_data(seed: int = 3, groups: int = 24, rows: int = 25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=g.size)
    eta = 1.2 + 0.3 * x + rng.normal(0, 0.7, groups)[g]
    y = np.where(rng.random(g.size) < 0.3, 0, rng.poisson(np.exp(eta)))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


def test_every_group_counts_and_auto_centres_informative_groups():
    """25 counts of mean ~4 a group, SD 0.7: each group is well informed (``τ² I`` ~ 0.5 x 25 x
    2.5), but a zero's observed information is negative and dropped most groups."""
    model = hb.Model("y ~ x + (1 | g)", _zip_data(), family="zero_inflated_poisson")
    design = model.design
    eta, theta = population_fit(design)
    d1, w = _derivs(design, eta, theta)
    est, _ = _group_estimates(design.blocks[0], d1, w)
    assert np.isnan(est[:, 0]).sum() > 0  # observed weights: groups lost
    est, _ = _group_estimates(design.blocks[0], d1, expected_weights(design, eta, theta, w))
    assert not np.isnan(est[:, 0]).any()
    assert model.parameterization["g"] == ("centered",)


@pytest.mark.slow
def test_the_posterior_confirms_the_centred_choice():
    """The posterior's variance ratio (what the automatic rerun would act on) says centred."""
    fit = hb.Model("y ~ x + (1 | g)", _zip_data(), family="zero_inflated_poisson").fit(
        draws=500, tune=300, chains=2, random_seed=1, progressbar=False
    )
    assert not any("first run failed" in n for n in fit.diagnostics.notes)
    assert shrinkage_ratios(fit.idata["posterior"], "g")[0] < SHRINKAGE_BAND[0]


@pytest.mark.parametrize("link", ["probit", "logit"])
def test_ordinal_information_is_the_numeric_second_derivative(link):
    """The cumulative family's compiled ``d²ℓ/dη²`` (the ordinal choice's weights) against a
    central difference of its log-likelihood, in every category and both tails."""
    y = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    d = pd.DataFrame({"r": pd.Categorical([1, 2, 3, 1, 2, 3], ordered=True)})
    family = hb.Model("r ~ 1", d, family="cumulative", link=link).design.family
    cut = np.array([-0.4, 0.9])
    eta = np.array([-3.0, 0.2, 2.5, 1.5, -1.0, 0.4])
    d1, d2, d3 = np.empty(6), np.empty(6), np.empty(6)
    eta_derivs(family.code, y, eta, np.zeros(0), cut, d1, d2, d3)

    def ll(e):
        return family.log_density(y, e, {"cutpoints": cut}, None)

    h = 1e-4
    numeric = (ll(eta + h) - 2 * ll(eta) + ll(eta - h)) / h**2
    np.testing.assert_allclose(d2, numeric, rtol=1e-5, atol=1e-6)
    assert np.all(d2 < 0)  # log-concave in η: a positive weight in every row
