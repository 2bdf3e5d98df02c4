"""The parameter-expanded SDs (hierbayes.density.expanded) sample the non-centred model's posterior.

The kernel's log-density and gradient are checked against the PyMC model in test_kernel.py;
here the two parameterisations are sampled on one small simulated model whose upper SD the data
do not keep from 0 (a nested factor whose groups mostly hold one lower group), and every
population parameter's posterior mean and 10% quantile agree within Monte Carlo error.
"""

from __future__ import annotations

import arviz_stats as azs
import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb


def _simulate(seed: int) -> pd.DataFrame:
    """Poisson counts, 40 sites of which 25 hold one plot; 3 rows per plot."""
    rng = np.random.default_rng(seed)
    plots_per_site = np.where(np.arange(40) < 25, 1, 3)
    site = np.repeat(np.arange(40), plots_per_site)
    plot = np.arange(site.size)
    row_plot = np.repeat(plot, 3)
    x = rng.normal(size=row_plot.size)
    eta = (
        0.5
        + 0.4 * x
        + rng.normal(0, 0.5, plot.size)[row_plot]
        + rng.normal(0, 0.2, 40)[site][row_plot]
    )
    return pd.DataFrame(
        {
            "y": rng.poisson(np.exp(eta)),
            "x": x,
            "site": [f"s{j}" for j in site[row_plot]],
            "plot": [f"p{j}" for j in row_plot],
        }
    )


@pytest.mark.slow
def test_expanded_and_non_centred_give_the_same_posterior():
    data = _simulate(5)
    fits = {}
    for how in ("expanded", "noncentered"):
        model = hb.Model(
            "y ~ x + (1 | site) + (1 | plot)", data=data, family="poisson", parameterization=how
        )
        assert set(model.parameterization.values()) == {(how,)}
        fits[how] = quiet_fit(model, draws=500, tune=500, random_seed=11)
    for name, select in {
        "Intercept": lambda p: p["b"].sel(term="Intercept"),
        "x": lambda p: p["b"].sel(term="x"),
        "sd|site": lambda p: p["sd|site"].isel({p["sd|site"].dims[-1]: 0}),
        "sd|plot": lambda p: p["sd|plot"].isel({p["sd|plot"].dims[-1]: 0}),
    }.items():
        draws = {h: select(f.idata["posterior"].to_dataset()) for h, f in fits.items()}
        for stat, kind in ((np.mean, "mean"), (lambda d: np.quantile(d, 0.1), "quantile")):
            values = {h: float(stat(d.values)) for h, d in draws.items()}
            if kind == "mean":
                errors = [float(azs.mcse(d.values, method="mean")) for d in draws.values()]
            else:
                errors = [
                    float(azs.mcse(d.values, method="quantile", prob=0.1)) for d in draws.values()
                ]
            gap = abs(values["expanded"] - values["noncentered"])
            assert gap < 4 * np.hypot(*errors), (name, kind, values, errors)
