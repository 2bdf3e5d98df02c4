"""Tiny models for the simulation-study tests: fits take a fraction of a second."""

from __future__ import annotations

import numpy as np
import pandas as pd

import hierbayes as hb

TIGHT = {
    "Intercept": hb.Prior("Normal", mu=0.0, sigma=1.0),
    "b|x": hb.Prior("Normal", mu=0.0, sigma=1.0),
    "sigma": hb.Prior("HalfNormal", sigma=1.0),
}


def tiny_data(seed: int = 3, n_groups: int = 8, n_per_group: int = 6) -> pd.DataFrame:
    """Predictors, groups and placeholder responses of every family (responses get simulated)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), n_per_group)
    n = g.size
    return pd.DataFrame(
        {
            "g": [f"g{j}" for j in g],
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "yes": rng.integers(0, 2, n),
            "k": rng.integers(0, 6, n),
            "trials": np.full(n, 5),
            "count": rng.poisson(2.0, n),
        }
    )


def tiny_model(
    family: str, formula_rhs: str, parameterization: str, n_per_group: int = 6
) -> hb.Model:
    response = {
        "gaussian": "y",
        "bernoulli": "yes",
        "binomial": "k | trials(trials)",
        "poisson": "count",
    }[family]
    data = tiny_data(n_per_group=n_per_group)
    model = hb.Model(f"{response} ~ {formula_rhs}", data=data, family=family)
    priors = {k: v for k, v in TIGHT.items() if k in model.priors.index}
    for name in model.priors.index:
        if name.startswith("sd|"):
            priors[name] = hb.Prior("HalfNormal", sigma=1.0)
    return hb.Model(
        f"{response} ~ {formula_rhs}",
        data=data,
        family=family,
        priors=priors,
        parameterization=parameterization,
    )
