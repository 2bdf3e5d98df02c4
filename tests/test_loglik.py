"""The pointwise log-likelihood computed from the draws equals PyMC's for every family."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytest
import xarray as xr
from helpers import crossed_data

from hierbayes.build import build_model
from hierbayes.design import make_design
from hierbayes.families import get_family
from hierbayes.loglik import observed_data, pointwise_log_likelihood
from hierbayes.priors import Prior, resolve_priors
from hierbayes.spec import parse_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    data = crossed_data()
    return data.assign(
        pos=np.exp(data.y / data.y.std()), p=1 / (1 + np.exp(-(data["y"] - 4) / 2))
    )  # positive, skewed; a proportion


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("y ~ x + (1 + x | g) + (1 | h)", "gaussian"),
        ("yb ~ x + (1 | g)", "bernoulli"),
        ("s | trials(trials) ~ x + (1 | g) + (0 + x | h)", "binomial"),
        ("k ~ x + (x || g)", "poisson"),
        ("k ~ x + offset(np.log(trials)) + (1 | g)", "poisson"),
        ("y ~ x + offset(2 * x) + (1 | g)", "gaussian"),
        ("k ~ x + (x || g)", "negativebinomial"),
        ("yb ~ x + (1 | g)", "bernoulli:probit"),
        ("s | trials(trials) ~ x + (1 | g)", "binomial:cloglog"),
        ("y ~ x + (1 | g) + (1 | h)", "student_t"),
        ("pos ~ x + (x || g)", "gamma"),
        ("pos ~ x + offset(0.1 * x) + (1 | g)", "lognormal"),
        ("p ~ x + (1 | g) + (1 | h)", "beta"),
        ("k ~ x + (1 | g)", "zero_inflated_poisson"),
        ("k ~ x + offset(np.log(trials)) + (1 | g)", "zero_inflated_negativebinomial"),
    ],
)
def test_pointwise_log_likelihood_matches_pymc(data, formula, family):
    family, _, link = family.partition(":")
    design = make_design(parse_formula(formula), data, family=family, link=link or None)
    # numpy's beta sampler all but stalls at the tiny shapes that the default Gamma(0.01, 0.01)
    # prior of the precision draws: a proper prior for the prior-predictive draws
    overrides = {"phi": Prior("Gamma", alpha=4.0, beta=0.4)} if family == "beta" else {}
    priors, _ = resolve_priors(design, overrides)
    model = build_model(design, priors, "noncentered", obs_index=data.index)
    prior = pm.sample_prior_predictive(draws=30, model=model, random_seed=2)
    idata = xr.DataTree.from_dict(
        {"posterior": prior["prior"].to_dataset(), "observed_data": prior["observed_data"]}
    )
    with model:
        expected = pm.compute_log_likelihood(idata.copy(), progressbar=False)
    name = next(iter(expected["log_likelihood"].data_vars))
    got = pointwise_log_likelihood(idata, design)
    np.testing.assert_allclose(
        got["log_likelihood"][name].values,
        expected["log_likelihood"][name].values,
        rtol=1e-10,
        atol=1e-12,
    )


def test_chunks_of_draws_give_the_same_table(data, monkeypatch):
    import hierbayes.loglik as loglik

    design = make_design(parse_formula("y ~ x + (1 + x | g) + (1 | h)"), data)
    priors, _ = resolve_priors(design, {})
    model = build_model(design, priors, "noncentered", obs_index=data.index)
    prior = pm.sample_prior_predictive(draws=7, model=model, random_seed=3)
    idata = xr.DataTree.from_dict(
        {"posterior": prior["prior"].to_dataset(), "observed_data": prior["observed_data"]}
    )
    whole = pointwise_log_likelihood(idata, design)["log_likelihood"]["y"].values
    monkeypatch.setattr(loglik, "_CHUNK_ELEMENTS", 3 * len(data))  # chunks of 3, 3 and 1 draws
    chunked = pointwise_log_likelihood(idata, design)["log_likelihood"]["y"].values
    # equal up to the matrix products' summation order, which depends on the chunk's shape
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    assert len(np.unique(whole[0, :, 0])) == 7  # the draws differ


@pytest.mark.parametrize(
    ("formula", "family"),
    [("y ~ x + (1 + x | g) + (1 | h)", "gaussian"), ("k ~ x + (x || g)", "negativebinomial")],
)
def test_chunks_in_threads_give_the_one_thread_table_bit_for_bit(
    data, monkeypatch, formula, family
):
    import hierbayes.loglik as loglik
    import hierbayes.threads as threads_module

    design = make_design(parse_formula(formula), data, family=family)
    priors, _ = resolve_priors(design, {})
    model = build_model(design, priors, "noncentered", obs_index=data.index)
    prior = pm.sample_prior_predictive(draws=11, model=model, random_seed=4)
    idata = xr.DataTree.from_dict(
        {"posterior": prior["prior"].to_dataset(), "observed_data": prior["observed_data"]}
    )
    name = "y" if family == "gaussian" else "k"
    monkeypatch.setattr(loglik, "_CHUNK_ELEMENTS", 2 * len(data))  # six chunks
    monkeypatch.setattr(threads_module, "_usable_cpus", lambda: 4)  # threads on any machine
    tables = {}
    for threads in (1, 3):
        monkeypatch.setattr(threads_module, "_THREADS", threads)
        tables[threads] = pointwise_log_likelihood(idata, design)["log_likelihood"][name].values
    np.testing.assert_array_equal(tables[3], tables[1])
    assert np.isfinite(tables[1]).all() and len(np.unique(tables[1][0, :, 0])) == 11


def test_observed_data_carries_the_row_labels(data):
    design = make_design(parse_formula("y ~ x + (1 | g)"), data)
    labels = pd.Index([f"r{i}" for i in range(len(data))])
    observed = observed_data(design, labels)
    assert list(observed["obs"].values[:2]) == ["r0", "r1"]
    np.testing.assert_array_equal(observed["y"].values, data["y"].values)


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_pointwise_log_likelihood_of_the_cumulative_family_matches_pymc(data, link):
    # the prior's cut-point draws are not ordered (forward sampling ignores the transform): sort
    # them, and the cut-points of the model as written follow from the centred ones
    family = get_family("cumulative", link)
    design = make_design(parse_formula("s ~ x + (1 | g)"), data, family=family)
    priors, _ = resolve_priors(design, {})
    model = build_model(design, priors, "noncentered", obs_index=data.index)
    prior = pm.sample_prior_predictive(draws=30, model=model, random_seed=2)
    posterior = prior["prior"].to_dataset()
    centred = np.sort(posterior["cutpoints_c"].values, axis=-1)
    shift = posterior["beta"].values @ design.X.mean(axis=0)
    posterior["cutpoints_c"] = posterior["cutpoints_c"].copy(data=centred)
    posterior["cutpoints"] = posterior["cutpoints"].copy(data=centred + shift[..., None])
    idata = xr.DataTree.from_dict({"posterior": posterior, "observed_data": prior["observed_data"]})
    with model:
        expected = pm.compute_log_likelihood(idata.copy(), progressbar=False)
    got = pointwise_log_likelihood(idata, design)["log_likelihood"]["s"].values
    assert np.isfinite(got).all()
    # (atol: PyMC's Categorical goes through p itself, which near 1 holds log p to ~1e-16 only)
    np.testing.assert_allclose(got, expected["log_likelihood"]["s"].values, rtol=1e-9, atol=1e-15)
