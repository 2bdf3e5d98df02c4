"""Helpers shared by the tests: quiet fitting and simulated data with known parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.errors import ConvergenceWarning

HSB_FORMULA = "mAch ~ cses * (meanses + sector) + (1 + cses | school)"
SLEEP_FORMULA = "Reaction ~ Days + (1 + Days | Subject)"


def quiet_fit(model: hb.Model, **kwargs) -> hb.Fit:
    """Fit, keeping convergence warnings out of the test log (tests check diagnostics directly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(**kwargs)


def simulate_correlated(
    seed: int, n_groups: int = 60, n_per_group: int = 20
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Simulate y = (b0 + u0) + (b1 + u1) x + e with (u0, u1) correlated across groups."""
    rng = np.random.default_rng(seed)
    truth = {"b0": 2.0, "b1": -1.0, "sd0": 1.0, "sd1": 0.5, "rho": 0.4, "sigma": 1.0}
    cov = np.array(
        [
            [truth["sd0"] ** 2, truth["rho"] * truth["sd0"] * truth["sd1"]],
            [truth["rho"] * truth["sd0"] * truth["sd1"], truth["sd1"] ** 2],
        ]
    )
    u = rng.multivariate_normal(np.zeros(2), cov, size=n_groups)
    g = np.repeat(np.arange(n_groups), n_per_group)
    x = rng.normal(size=g.size)
    y = truth["b0"] + u[g, 0] + (truth["b1"] + u[g, 1]) * x + rng.normal(0, truth["sigma"], g.size)
    data = pd.DataFrame({"y": y, "x": x, "g": [f"g{j:02d}" for j in g]})
    return data, truth
