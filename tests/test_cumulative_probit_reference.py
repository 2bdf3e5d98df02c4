"""The cumulative family with the probit link on real data: ordinal's ``wine`` (Randall 1989),
``rating ~ temp + contact + (1 | judge)``.

Reference numbers from ``tests/reference_cumulative_probit.R``: ``ordinal::clm`` (no judges;
exact ML log-likelihood) and ``ordinal::clmm`` (Laplace, ML), both ``link = "probit"``. R is not
needed to run these tests.
"""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit
from scipy.special import ndtr

import hierbayes as hb
from hierbayes.families import get_family

DATA = Path(__file__).parent / "data" / "wine.csv"
LEVELS = ("1", "2", "3", "4", "5")
CUTS = ["1|2", "2|3", "3|4", "4|5"]
TERMS = ["temp[T.warm]", "contact[T.yes]"]
FORMULA = "rating ~ temp + contact + (1 | judge)"

# ordinal::clm(rating ~ temp + contact, link = "probit")
CLM_BETA = [1.49937458, 0.86774354]
CLM_CUT = [-0.77326273, 0.73602149, 2.04468046, 2.94134498]
CLM_LOGLIK = -85.76114836
# ordinal::clmm(rating ~ temp + contact + (1 | judge), link = "probit")
CLMM_BETA = [1.800014, 1.048205]
CLMM_CUT = [-0.926480, 0.889438, 2.467593, 3.536662]
CLMM_SD_JUDGE = 0.663153

BRMS_PRIORS = {
    "b|temp[T.warm]": hb.Prior("Flat"),
    "b|contact[T.yes]": hb.Prior("Flat"),
    "sd|judge": hb.Prior("HalfStudentT", nu=3, sigma=2.5),
}


def wine() -> pd.DataFrame:
    data = pd.read_csv(DATA, dtype={"judge": str, "bottle": str})
    data["rating"] = pd.Categorical(data["rating"].astype(str), categories=LEVELS, ordered=True)
    return data


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    model = hb.Model(FORMULA, wine(), family="cumulative", link="probit", priors=BRMS_PRIORS)
    return quiet_fit(model, draws=1000, tune=500, chains=2, random_seed=1)


def test_log_likelihood_at_the_ml_estimates_equals_ordinal_clm():
    model = hb.Model("rating ~ temp + contact", wine(), family="cumulative", link="probit")
    family = model.design.family
    assert (family.name, family.link, family.code) == ("cumulative", "probit", 16)
    eta = model.design.X @ np.array(CLM_BETA)
    params = {"cutpoints": np.array(CLM_CUT)}
    total = family.log_density(model.design.y, eta, params, None).sum()
    assert total == pytest.approx(CLM_LOGLIK, abs=1e-6)  # clm's estimates carry 8 decimals


@pytest.mark.slow
def test_agrees_with_ordinal_clmm(fit):
    # Posterior means against the Laplace ML estimates, within 0.3 posterior SD plus 4 Monte
    # Carlo SEs, as the logit model (tests/test_cumulative_reference.py): weak priors leave the
    # two apart by the posterior's skewness only. The judge SD: ML (a mode, biased low) lies in
    # the posterior's central half.
    post = fit.idata["posterior"]
    pairs = [(post["b"].sel(term=t), v) for t, v in zip(TERMS, CLMM_BETA, strict=True)]
    pairs += [(post["cutpoints"].sel(cutpoint=c), v) for c, v in zip(CUTS, CLMM_CUT, strict=True)]
    for draws, value in pairs:
        chains = draws.transpose("chain", "draw").values
        sd = chains.std()
        mcse = sd / np.sqrt(float(az.ess(chains)))
        assert abs(chains.mean() - value) < 0.3 * sd + 4 * mcse, (chains.mean(), value, sd)
    judge = post["sd|judge"].values
    lo, hi = np.quantile(judge, [0.25, 0.75])
    assert lo < CLMM_SD_JUDGE < hi, (lo, hi)


@pytest.mark.slow
def test_probabilities_icc_equations_and_saving(fit, tmp_path):
    post = fit.idata["posterior"]
    linear = fit.predict(kind="linear").values
    # P(y = k) = Φ(c_k - η) - Φ(c_{k-1} - η)
    cum = ndtr(post["cutpoints"].values[:, :, None, :] - linear[..., None])
    by_hand = np.diff(np.concatenate([0 * cum[..., :1], cum, 1 + 0 * cum[..., :1]], -1), axis=-1)
    prob = fit.predict(kind="prob")
    np.testing.assert_allclose(prob.values, by_hand, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        fit.predict(kind="mean").values, by_hand @ np.arange(1.0, 6.0), rtol=1e-12
    )
    # ICC on the latent scale: τ² / (τ² + 1)
    tau2 = post["sd|judge"].values[..., 0] ** 2
    assert float(fit.icc()["mean"].iloc[0]) == pytest.approx((tau2 / (tau2 + 1.0)).mean())
    text = str(fit.model.equations())
    assert "Φ⁻¹(P(rating_ij ≤ k)) = c_k − η_ij" in text
    sim = fit.simulate_new_groups(
        20,
        x=pd.DataFrame({"temp": ["cold"], "contact": ["no"]}),
        observations=True,
        random_seed=3,
    )
    assert set(sim.data["rating"]) <= set(LEVELS)
    again = hb.load(fit.save(tmp_path / "wine_probit"))
    assert again.design.family is get_family("cumulative", "probit")
    np.testing.assert_array_equal(again.predict(kind="prob").values, prob.values)


@pytest.mark.slow
def test_recovers_known_parameters():
    # latent y* = η + N(0, 1), y = 1 + #{k: y* > c_k}: 95% intervals cover the truth (c1's truth
    # lies at its posterior's 95th percentile, centred or not, in 2 x 1000 draws: a 90% interval
    # missed or not by Monte Carlo error alone)
    rng = np.random.default_rng(6)
    J, n = 30, 15
    cut = np.array([-0.8, 0.2, 1.1])
    g = np.repeat(np.arange(J), n)
    x = rng.normal(0.5, 1.0, J * n)
    eta = 0.6 * x + rng.normal(0, 0.5, J)[g]
    y = 1 + (rng.normal(size=J * n)[:, None] > cut[None, :] - eta[:, None]).sum(axis=1)
    data = pd.DataFrame({"y": y, "x": x, "g": g.astype(str)})
    model = hb.Model("y ~ x + (1 | g)", data, family="cumulative", link="probit")
    post = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=2).idata["posterior"]
    draws = {
        "x": post["b"].sel(term="x").values,
        "sd": post["sd|g"].values,
        **{f"c{k}": post["cutpoints"].values[..., k] for k in range(3)},
    }
    truth = {"x": 0.6, "sd": 0.5, **{f"c{k}": c for k, c in enumerate(cut)}}
    for name, value in truth.items():
        lo, hi = np.quantile(draws[name], [0.025, 0.975])
        assert lo < value < hi, (name, lo, hi, value)
