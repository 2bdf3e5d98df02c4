"""Sampling the compiled log-density with nutpie."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
from helpers import SLEEP_FORMULA, quiet_fit

import hierbayes as hb
from hierbayes.density.layout import make_layout
from hierbayes.density.sampler import compile_density, sample_density


@pytest.fixture(scope="module")
def ri() -> hb.Model:
    rng = np.random.default_rng(8)
    g = np.repeat(np.arange(12), 15)
    y = 2.0 + rng.normal(0, 1.0, 12)[g] + rng.normal(0, 0.5, g.size)
    return hb.Model("y ~ 1 + (1 | g)", data=pd.DataFrame({"y": y, "g": g.astype(str)}))


def test_same_seed_same_draws(ri):
    compiled = compile_density(make_layout(ri.design, ri.prior_values, ri.parameterization))
    settings = {
        "draws": 30,
        "tune": 30,
        "chains": 2,
        "cores": 1,
        "target_accept": 0.8,
        "progressbar": False,
    }
    a, stats, elapsed = sample_density(compiled, random_seed=3, **settings)
    b, _, _ = sample_density(compiled, random_seed=3, **settings)
    c, _, _ = sample_density(compiled, random_seed=4, **settings)
    np.testing.assert_array_equal(a["sigma"].values, b["sigma"].values)
    assert not np.array_equal(a["sigma"].values, c["sigma"].values)
    assert (a.sizes["chain"], a.sizes["draw"]) == (2, 30)
    assert "diverging" in stats and elapsed > 0


@pytest.mark.slow
def test_posterior_agrees_with_pymcs_own_sampler(sleep):
    """sleepstudy: the compiled log-density under nutpie and the PyMC model under PyMC's NUTS
    give the same posterior means within Monte Carlo error."""
    model = hb.Model(SLEEP_FORMULA, data=sleep, parameterization="noncentered")
    ours = quiet_fit(model, draws=1000, tune=1000, chains=4, random_seed=2)
    theirs = quiet_fit(
        model, draws=1000, tune=1000, chains=2, cores=1, random_seed=2, sampler="pymc"
    )
    for name in ("b", "sd|Subject", "sigma"):
        a, c = ours.idata.posterior[name], theirs.idata.posterior[name]
        se = np.sqrt(az.mcse(a, method="mean") ** 2 + az.mcse(c, method="mean") ** 2)
        diff = np.abs(a.mean(("chain", "draw")) - c.mean(("chain", "draw")))
        assert np.all(np.asarray(diff) < 4.5 * np.asarray(se)), name
