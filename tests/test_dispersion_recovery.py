"""Recovery of a dispersion that varies between groups and with a predictor (``shape=`` of the
gamma, ``phi=`` of the beta) from simulated data: 90% central intervals cover the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb

pytestmark = pytest.mark.slow

TRUTH = {"b0": 0.5, "b1": 0.4, "tau": 0.3, "d0": np.log(6.0), "d1": -0.8, "sd_d": 0.4}


def _simulate(family: str, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_groups, n_per = 30, 24
    g = np.repeat(np.arange(n_groups), n_per)
    treatment = np.tile(np.repeat([0.0, 1.0], n_per // 2), n_groups)
    x = rng.normal(size=g.size)
    u = rng.normal(0, TRUTH["tau"], n_groups)
    v = rng.normal(0, TRUTH["sd_d"], n_groups)
    eta = TRUTH["b0"] + TRUTH["b1"] * x + u[g]
    value = np.exp(TRUTH["d0"] + TRUTH["d1"] * treatment + v[g])
    if family == "gamma":
        y = rng.gamma(value, np.exp(eta) / value)
    else:
        mu = 1.0 / (1.0 + np.exp(-eta))
        y = rng.beta(mu * value, (1.0 - mu) * value)
    return pd.DataFrame({"y": y, "x": x, "treatment": treatment, "g": g}), v


@pytest.mark.parametrize(("family", "name"), [("gamma", "shape"), ("beta", "phi")])
def test_groups_that_differ_in_dispersion(family: str, name: str) -> None:
    data, v = _simulate(family, 21)
    model = hb.Model("y ~ x + (1 | g)", data, family=family, **{name: "~ treatment + (1 | g)"})
    fit = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=3)
    post = fit.idata["posterior"]
    b_dpar = post[f"b_{name}"]
    checks = {
        "Intercept": (post["b"].sel(term="Intercept"), TRUTH["b0"]),
        "x": (post["b"].sel(term="x"), TRUTH["b1"]),
        "sd|g": (post["sd|g"], TRUTH["tau"]),
        f"{name}_Intercept": (b_dpar.sel({f"{name}_term": f"{name}_Intercept"}), TRUTH["d0"]),
        f"{name}_treatment": (b_dpar.sel({f"{name}_term": f"{name}_treatment"}), TRUTH["d1"]),
        f"sd({name}_Intercept)": (post[f"sd|{name}_g"], TRUTH["sd_d"]),
    }
    missed = {}
    for label, (draws, value) in checks.items():
        lo, hi = np.quantile(np.asarray(draws.values).ravel(), [0.05, 0.95])
        if not lo <= value <= hi:
            missed[label] = (round(float(lo), 3), round(float(hi), 3), value)
    assert not missed, f"90% intervals missing the truth: {missed}"
    assert fit.diagnostics.divergences == 0
    # each group's dispersion (treatment 0): most 90% intervals cover it
    new = pd.DataFrame({"treatment": 0.0, "g": np.arange(len(v))})
    table = fit.predict(new, dpar=name, summary=True, prob=0.9)
    truth = np.exp(TRUTH["d0"] + v)
    assert ((table["hdi_5%"] <= truth) & (truth <= table["hdi_95%"])).mean() >= 0.75
