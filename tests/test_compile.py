"""compile_nutpie: the lean callbacks give nutpie the right log-density and gradient."""

from __future__ import annotations

import logging

import numpy as np
import nutpie
import pymc as pm
import pytest

from hierbayes.compile import compile_nutpie


def test_conjugate_normal_posterior_is_exact(caplog):
    y = np.array([1.2, 0.4, 2.2, 1.9, 0.3, 1.1, 1.7, 0.8])
    with pm.Model(coords={"obs": np.arange(len(y))}) as model:
        mu = pm.Normal("mu", 0.0, 2.0)
        sigma = pm.HalfNormal("sigma", 1.0)
        pm.Normal("y", mu, 0.5, observed=y, dims="obs")
        pm.Deterministic("twice", 2 * mu + 0 * sigma)
    caplog.set_level(logging.DEBUG, logger="hierbayes.compile")
    compiled = compile_nutpie(model)
    assert "falling back" not in caplog.text
    idata = nutpie.sample(compiled, draws=2000, tune=500, chains=2, seed=3, progress_bar=False)
    post = idata.posterior
    # conjugate: precision 1/4 + n/0.25, mean = (sum(y)/0.25) / precision
    precision = 1 / 4 + len(y) / 0.25
    mean, sd = (y.sum() / 0.25) / precision, precision**-0.5
    draws = post["mu"].values.ravel()
    assert abs(draws.mean() - mean) < 5 * sd / np.sqrt(1000)
    assert draws.std() == pytest.approx(sd, rel=0.1)
    np.testing.assert_allclose(post["twice"].values, 2 * post["mu"].values)
    # sigma has only its prior: HalfNormal(1) has mean sqrt(2/π)
    assert post["sigma"].values.mean() == pytest.approx(np.sqrt(2 / np.pi), abs=0.06)


def test_falls_back_to_nutpie_when_the_lean_callbacks_fail(monkeypatch, caplog):
    import hierbayes.compile as compile_module

    def broken(*args, **kwargs):
        raise RuntimeError("no such helper")

    monkeypatch.setattr(compile_module, "_logp_wrapper", broken)
    with pm.Model() as model:
        pm.Normal("mu", 1.5, 0.5)
    caplog.set_level(logging.DEBUG, logger="hierbayes.compile")
    compiled = compile_nutpie(model)
    assert "falling back to nutpie.compile_pymc_model: no such helper" in caplog.text
    monkeypatch.undo()
    idata = nutpie.sample(compiled, draws=1000, tune=300, chains=2, seed=1, progress_bar=False)
    draws = idata.posterior["mu"].values.ravel()
    assert abs(draws.mean() - 1.5) < 5 * 0.5 / np.sqrt(500)
