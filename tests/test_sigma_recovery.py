"""Recovery of a residual SD that varies between groups and with a predictor (simulated schools
that differ in how spread out their pupils are): 90% central intervals cover the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb

pytestmark = pytest.mark.slow


def test_schools_that_differ_in_spread():
    rng = np.random.default_rng(13)
    n_schools, n_per = 40, 25
    truth = {"b0": 50.0, "b1": 4.0, "tau": 5.0, "s0": np.log(8.0), "s1": -0.4, "sd_s": 0.35}
    school = np.repeat(np.arange(n_schools), n_per)
    treatment = np.tile(np.repeat([0.0, 1.0], [12, 13]), n_schools)
    x = rng.normal(size=school.size)
    u = rng.normal(0, truth["tau"], n_schools)
    v = rng.normal(0, truth["sd_s"], n_schools)
    sigma = np.exp(truth["s0"] + truth["s1"] * treatment + v[school])
    y = truth["b0"] + truth["b1"] * x + u[school] + sigma * rng.normal(size=school.size)
    data = pd.DataFrame({"y": y, "x": x, "treatment": treatment, "school": school})
    model = hb.Model("y ~ x + (1 | school)", data=data, sigma="~ treatment + (1 | school)")
    fit = quiet_fit(model, draws=300, tune=400, chains=2, random_seed=2)
    post = fit.idata["posterior"]
    checks = {
        "Intercept": (post["b"].sel(term="Intercept"), truth["b0"]),
        "x": (post["b"].sel(term="x"), truth["b1"]),
        "sd|school": (post["sd|school"], truth["tau"]),
        "sigma_Intercept": (post["b_sigma"].sel(sigma_term="sigma_Intercept"), truth["s0"]),
        "sigma_treatment": (post["b_sigma"].sel(sigma_term="sigma_treatment"), truth["s1"]),
        "sd(sigma_Intercept)": (post["sd|sigma_school"], truth["sd_s"]),
    }
    missed = {}
    for name, (draws, value) in checks.items():
        lo, hi = np.quantile(np.asarray(draws.values).ravel(), [0.05, 0.95])
        if not lo <= value <= hi:
            missed[name] = (round(float(lo), 3), round(float(hi), 3), value)
    assert not missed, f"90% intervals missing the truth: {missed}"
    assert fit.diagnostics.divergences == 0
    # each school's σ (treatment 0) is recovered with the pooling of the model
    sd_hat = fit.predict(
        pd.DataFrame({"treatment": 0.0, "school": np.arange(n_schools)}),
        dpar="sigma",
        summary=True,
        prob=0.9,
    )
    true_sd = np.exp(truth["s0"] + v)
    inside = (sd_hat["hdi_5%"] <= true_sd) & (true_sd <= sd_hat["hdi_95%"])
    assert inside.mean() >= 0.75
