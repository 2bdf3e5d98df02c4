"""Predictions against the truth of simulated data and against the fitted draws (sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import hierbayes as hb

pytestmark = pytest.mark.slow


def _flat(da) -> np.ndarray:
    return da.transpose("chain", "draw", ...).values.reshape(-1, *da.shape[2:])


def _coverage(draws, y: np.ndarray, prob: float) -> float:
    values = _flat(draws)
    lo, hi = np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return float(np.mean((y >= lo) & (y <= hi)))


def test_new_group_effects_have_the_posterior_mean_covariance(heldout) -> None:
    fit = heldout.fit
    m = 200  # new groups per posterior draw
    labels = [f"n{j}" for j in range(m)]
    rows = pd.DataFrame({"x": np.tile([0.0, 1.0], m), "g": np.repeat(labels, 2)})
    pred = _flat(fit.predict(rows, groups="new", kind="linear", random_seed=1))
    b = _flat(fit.idata["posterior"]["b"])
    u0 = pred[:, 0::2] - b[:, [0]]  # (S, m) intercept effects
    u1 = pred[:, 1::2] - pred[:, 0::2] - b[:, [1]]  # slope effects
    sd = _flat(fit.idata["posterior"]["sd|g"])
    cor = _flat(fit.idata["posterior"]["cor|g"])[:, 0, 1]
    t00, t11, t01 = sd[:, 0] ** 2, sd[:, 1] ** 2, sd[:, 0] * sd[:, 1] * cor
    S = sd.shape[0]
    # Given draw s the m effects are iid N(0, T_s), so mean(u_k u_l) - mean_s(T_s,kl) has
    # variance sum_s Var(u_k u_l | T_s) / (S m)^2 with Var = T_kk T_ll + T_kl^2 (2 T_kk^2 for a
    # variance): the MC SE below. Tolerance 4 SE.
    checks = [
        (u0 * u1, t01, t00 * t11 + t01**2),
        (u0**2, t00, 2 * t00**2),
        (u1**2, t11, 2 * t11**2),
    ]
    for products, target, var in checks:
        se = np.sqrt(var.sum() / m) / S
        assert abs(products.mean() - target.mean()) < 4 * se
    # the correlation is kept: the simulated correlation matches the posterior-mean T's (and is
    # clearly not zero; the truth is 0.4)
    implied = t01.mean() / np.sqrt(t00.mean() * t11.mean())
    simulated = np.corrcoef(u0.ravel(), u1.ravel())[0, 1]
    assert simulated == pytest.approx(implied, abs=0.02)
    assert simulated > 0.15


def test_pps_intervals_cover_heldout_rows_of_fitted_groups(heldout) -> None:
    pps = heldout.fit.predict(heldout.test, kind="pps", random_seed=2)
    coverage = _coverage(pps, heldout.test["y"].to_numpy(), 0.9)
    # 960 rows: binomial SD of the coverage is sqrt(0.9 * 0.1 / 960) = 0.0097; rows share the
    # posterior, so we allow 5 SD
    assert abs(coverage - 0.9) < 0.05


def test_pps_intervals_cover_new_groups_only_with_their_effects(heldout) -> None:
    y = heldout.new["y"].to_numpy()
    new = heldout.fit.predict(heldout.new, groups="new", kind="pps", random_seed=3)
    coverage = _coverage(new, y, 0.9)
    # 300 independent new groups: binomial SD sqrt(0.9 * 0.1 / 300) = 0.017; 4 SD
    assert abs(coverage - 0.9) < 0.07
    # zero effects (lme4's choice for new levels) ignore the group SDs and under-cover: with
    # sd0 = 1, sd1 = 0.5, rho = 0.4 and sigma = 1 a 90% interval covers about 73%
    zero = heldout.fit.predict(heldout.new, groups="population", kind="pps", random_seed=3)
    assert _coverage(zero, y, 0.9) < 0.82


def test_existing_group_means_equal_coef_draw_by_draw(sleep_fit: hb.Fit) -> None:
    rows = pd.DataFrame({"Days": [0, 3, 9, 5], "Subject": [308, 308, 335, 372]})
    pred = sleep_fit.predict(rows, groups="existing", kind="mean")
    post = sleep_fit.idata["posterior"]
    b = post["b"]
    u = post["u|Subject"]
    for i, (days, subject) in enumerate(zip(rows["Days"], rows["Subject"], strict=True)):
        # each subject's coefficients (lme4's coef): population effect plus its deviation
        intercept = b.sel(term="Intercept") + u.sel(Subject=str(subject), Subject__term="Intercept")
        slope = b.sel(term="Days") + u.sel(Subject=str(subject), Subject__term="Days")
        expected = (intercept + slope * days).transpose("chain", "draw")
        np.testing.assert_allclose(
            pred.isel(obs=i).transpose("chain", "draw").values, expected.values, rtol=1e-12
        )


def test_training_predictions_reproduce_the_stored_log_likelihood(sleep_fit: hb.Fit) -> None:
    mean = sleep_fit.predict(kind="mean")
    sigma = sleep_fit.idata["posterior"]["sigma"]
    y = sleep_fit.idata["observed_data"]["Reaction"]
    logp = norm.logpdf(y.values, mean.values, sigma.values[:, :, None])
    stored = sleep_fit.idata["log_likelihood"]["Reaction"].transpose("chain", "draw", "obs")
    np.testing.assert_allclose(logp, stored.values, rtol=1e-9)
