"""hb.Model: construction, priors, fitting, reproducibility, several factors."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from helpers import SLEEP_FORMULA, quiet_fit

import hierbayes as hb
from hierbayes.build import resolve_parameterization
from hierbayes.errors import ConvergenceWarning, HierbayesError, PriorError


def test_priors_table_lists_every_prior(sleep):
    model = hb.Model(SLEEP_FORMULA, data=sleep)
    table = model.priors
    assert list(table.index) == ["Intercept", "b|Days", "sd|Subject", "cor|Subject", "sigma"]
    assert set(table["source"]) == {"default"}
    assert table.loc["cor|Subject", "prior"] == "LKJ(eta=2)"


def test_prior_override_by_name(sleep):
    model = hb.Model(
        SLEEP_FORMULA, data=sleep, priors={"sd|Subject": hb.Prior("HalfNormal", sigma=5)}
    )
    assert model.priors.loc["sd|Subject", "prior"] == "HalfNormal(sigma=5)"
    assert model.priors.loc["sd|Subject", "source"] == "user"
    with pytest.raises(PriorError, match=r"Unknown prior name\(s\) 'sd\|school'.*sd\|Subject"):
        hb.Model(SLEEP_FORMULA, data=sleep, priors={"sd|school": hb.Prior("HalfNormal", sigma=5)})


def test_fit_argument_errors(sleep):
    model = hb.Model(SLEEP_FORMULA, data=sleep)
    with pytest.raises(HierbayesError, match="Unknown sampler 'stan'"):
        model.fit(sampler="stan")
    with pytest.raises(HierbayesError, match="draws must be a positive integer"):
        model.fit(draws=0)
    with pytest.raises(HierbayesError, match="target_accept must be between 0 and 1"):
        model.fit(target_accept=1.5)


@pytest.mark.slow
def test_same_seed_same_draws_and_different_seed_different_draws(sleep):
    model = hb.Model(SLEEP_FORMULA, data=sleep, parameterization="noncentered")
    kwargs = {"draws": 50, "tune": 50, "chains": 2}
    first = quiet_fit(model, random_seed=42, **kwargs).idata["posterior"]
    second = quiet_fit(model, random_seed=42, **kwargs).idata["posterior"]
    third = quiet_fit(model, random_seed=43, **kwargs).idata["posterior"]
    for var in ["b", "sd|Subject", "u|Subject", "sigma"]:
        np.testing.assert_array_equal(first[var].values, second[var].values)
    assert not np.array_equal(first["b"].values, third["b"].values)


@pytest.mark.slow
def test_pymc_sampler_is_reproducible(sleep):
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep)
    kwargs = {"draws": 50, "tune": 50, "chains": 2, "cores": 1, "sampler": "pymc"}
    first = quiet_fit(model, random_seed=5, **kwargs)
    second = quiet_fit(model, random_seed=5, **kwargs)
    np.testing.assert_array_equal(first.idata["posterior"]["b"], second.idata["posterior"]["b"])
    assert first.sampler == "pymc"


@pytest.mark.slow
def test_noncentered_and_centred_posteriors_agree(sleep, sleep_noncentered_fit):
    """The same model in another parameterisation: fixed effects and SDs within MC error."""
    centred = quiet_fit(
        hb.Model(SLEEP_FORMULA, data=sleep, parameterization="centered"),
        draws=500,
        tune=500,
        chains=4,
        random_seed=12,
    )
    assert centred.model.parameterization == {"Subject": ("centered", "centered")}
    for table in ("fixef", "varcorr"):
        a, b = getattr(centred, table)(), getattr(sleep_noncentered_fit, table)()
        # Monte Carlo SE of each mean is sd / sqrt(ESS); allow 4 combined SEs.
        se = np.sqrt(a["sd"] ** 2 / a["ess_bulk"] + b["sd"] ** 2 / b["ess_bulk"])
        assert np.all(np.abs(a["mean"] - b["mean"]) < 4 * se), table


@pytest.mark.slow
def test_crossed_nested_and_repeated_factors_fit_and_label():
    rng = np.random.default_rng(3)
    n = 400
    data = pd.DataFrame(
        {
            "school": rng.choice([f"s{j}" for j in range(8)], n),
            "rater": rng.choice([f"r{j}" for j in range(6)], n),
            "x": rng.normal(size=n),
        }
    )
    data["class"] = rng.choice(["a", "b", "c"], n)
    data["y"] = 1 + 0.5 * data["x"] + rng.normal(size=n)
    model = hb.Model("y ~ x + (1 | school/class) + (1 | rater) + (0 + x | rater)", data=data)
    assert [b.name for b in model.design.blocks] == ["school", "school:class", "rater", "rater.2"]
    fit = quiet_fit(model, draws=100, tune=200, chains=2, random_seed=1)
    ranef = fit.ranef()
    assert set(ranef["factor"]) == {"school", "school:class", "rater"}
    rater = ranef[ranef["factor"] == "rater"]
    assert set(rater["term"]) == {"Intercept", "x"}
    assert len(rater) == 12
    nested = ranef[ranef["factor"] == "school:class"]
    assert nested["group"].str.fullmatch(r"s\d:[abc]").all()
    coef = fit.coef()
    row = coef[(coef["factor"] == "rater") & (coef["group"] == "r0") & (coef["term"] == "x")]
    post = fit.idata["posterior"]
    expected = post["b"].sel(term="x") + post["u|rater.2"].sel(rater="r0", **{"rater.2__term": "x"})
    assert row["mean"].iloc[0] == pytest.approx(float(expected.mean()))
    assert list(fit.varcorr()["factor"]) == [
        "school",
        "school:class",
        "rater",
        "rater.2",
        "Residual",
    ]


@pytest.mark.slow
def test_fit_warns_in_the_models_words_when_draws_are_too_few(sleep):
    model = hb.Model(SLEEP_FORMULA, data=sleep)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(draws=20, tune=20, chains=2, random_seed=1)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1  # one warning summarises every problem
    assert convergence[0].filename == __file__  # it points at the caller's line, not hierbayes
    message = str(convergence[0].message)
    assert re.search(r"(R-hat > 1.01|ESS < 200).*\n", message)
    rows = min(len(fit.diagnostics.problems), 12)
    assert message.count("\n") == rows + 2 + (len(fit.diagnostics.problems) > 12)
    assert any(
        re.search(r"(R-hat|Effective sample size).*across Subject", m)
        for m in fit.diagnostics.warnings
    )
    assert not fit.diagnostics.ok


@pytest.mark.slow
def test_model_repr_and_fit_repr(sleep_fit):
    assert "Reaction ~ Days" in repr(sleep_fit.model)
    assert "4 chains x 500 draws" in repr(sleep_fit)


def test_level2_list_declares_constant_columns(hsb_students):
    model = hb.Model(
        "mAch ~ cses * meanses + (1 | school)",
        data=hsb_students,
        level2={"school": ["meanses", "sector"]},
    )
    assert model.design.level2_columns == {"school": ("meanses", "sector")}
    students = hsb_students.copy()
    students.loc[0, "meanses"] = 5.0
    with pytest.raises(hb.Level2Error, match=r"'meanses' varies within 'school' = 1224"):
        hb.Model(
            "mAch ~ cses * meanses + (1 | school)", data=students, level2={"school": ["meanses"]}
        )


def test_refitting_a_model_reuses_its_packed_log_density(sleep):
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep)
    first = model.compiled_density()
    assert first is not None and model.compiled_density() is first
    model.parameterization = resolve_parameterization(model.design, "noncentered")
    second = model.compiled_density()
    assert second is not first
    assert any(bl.effects is not None for bl in second.layout.blocks)


@pytest.mark.slow
def test_a_prior_the_kernel_lacks_compiles_the_pymc_model_once(sleep, monkeypatch, caplog):
    import logging

    import hierbayes.model as model_module

    calls = []
    original = model_module.compile_nutpie

    def counting(pm_model):
        calls.append(pm_model)
        return original(pm_model)

    monkeypatch.setattr(model_module, "compile_nutpie", counting)
    priors = {"b|Days": hb.Prior("SkewNormal", mu=0.0, sigma=20.0, alpha=1.0)}
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep, priors=priors)
    caplog.set_level(logging.INFO, logger="hierbayes")
    first = quiet_fit(model, draws=50, tune=50, chains=2, random_seed=1)
    assert "lacks prior SkewNormal of 'b|Days'" in caplog.text
    second = quiet_fit(model, draws=60, tune=50, chains=2, random_seed=1)
    assert len(calls) == 1
    assert second.idata["posterior"].sizes["draw"] == 60
    # same seed, same compiled model: the first 50 draws of each chain agree
    np.testing.assert_array_equal(
        first.idata["posterior"]["sigma"].values,
        second.idata["posterior"]["sigma"].values[:, :50],
    )


@pytest.mark.parametrize("parameterization", ["auto", "noncentered"])
def test_a_model_without_fixed_effects_fits_and_scores(parameterization):
    rng = np.random.default_rng(1)
    g = rng.integers(0, 8, 120)
    df = pd.DataFrame(
        {"y": rng.normal(0, 1, 8)[g] + rng.normal(0, 0.5, 120), "g": [f"g{j}" for j in g]}
    )
    model = hb.Model("y ~ 0 + (1 | g)", data=df, parameterization=parameterization)
    fit = quiet_fit(model, draws=50, tune=50, chains=2, random_seed=1)
    post = fit.idata["posterior"]
    assert post.sizes["term"] == 0
    assert list(post["u|g"].coords["g"].values) == [f"g{j}" for j in range(8)]
    assert fit.idata["log_likelihood"]["y"].shape == (2, 50, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.LooWarning)  # 100 draws: Pareto k is high
        assert np.isfinite(fit.loo()["elpd"])


def test_the_pointwise_log_likelihood_is_stored_up_to_the_cap(sleep, monkeypatch):
    import hierbayes.model as model_module

    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep)
    monkeypatch.setattr(model_module, "LOG_LIKELIHOOD_MAX_SIZE", 180 * 2 * 20)
    assert "log_likelihood" in quiet_fit(model, draws=20, tune=20, chains=2).idata.children
    monkeypatch.setattr(model_module, "LOG_LIKELIHOOD_MAX_SIZE", 180 * 2 * 20 - 1)
    fit = quiet_fit(model, draws=20, tune=20, chains=2)
    assert "log_likelihood" not in fit.idata.children
    # asked for, it is stored whatever the size; loo computes it when it is missing
    assert (
        "log_likelihood"
        in quiet_fit(model, draws=20, tune=20, chains=2, log_likelihood=True).idata.children
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.LooWarning)
        assert np.isfinite(fit.loo()["elpd"])
