"""A study's lean refit samples what ``Model.fit`` samples and reports the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.studies.parameters import population_draws
from hierbayes.studies.refit import _refit, study_refit


def test_refit_draws_and_convergence_numbers_are_those_of_fit(gaussian_tiny: hb.Model):
    settings = {"draws": 100, "tune": 100, "chains": 2, "cores": 1, "target_accept": 0.8}
    refit = study_refit(gaussian_tiny, random_seed=3, **settings)
    fit = quiet_fit(gaussian_tiny, random_seed=3, **settings)
    expected = population_draws(gaussian_tiny.design, fit.idata["posterior"].to_dataset())
    assert list(refit.draws) == list(expected)
    for label, values in expected.items():
        np.testing.assert_array_equal(refit.draws[label], values)
    # the same rank-normalised R-hat and bulk ESS as fit()'s table, computed in one call
    assert refit.max_rhat == pytest.approx(fit.diagnostics.max_rhat, rel=1e-12)
    assert refit.min_ess_bulk == pytest.approx(fit.diagnostics.min_ess_bulk, rel=1e-12)
    assert refit.divergences == fit.diagnostics.divergences


def test_refit_names_its_convergence_problems():
    rng = np.random.default_rng(0)
    stuck = {"b[x]": np.stack([rng.normal(size=200), rng.normal(3.0, 1.0, size=200)])}
    refit = _refit(stuck, divergences=2)
    assert refit.max_rhat > 1.5 and refit.divergences == 2
    assert refit.warning.startswith("2 divergent transitions; R-hat > 1.01: b[x] ")
    assert "bulk ESS < 200: b[x]" in refit.warning
    fine = _refit({"b[x]": rng.normal(size=(2, 400))}, divergences=0)
    assert fine.warning == ""


def test_refit_changes_course_as_fit_does(monkeypatch: pytest.MonkeyPatch):
    """A default run that diverges is run again (hierbayes.course) by the refit too: forty groups
    of two rows forced centred diverge, and both switch to non-centred with the same draws."""
    import hierbayes.model as model_module

    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(40), 2)
    y = 1 + rng.normal(0, 0.05, 40)[g] + rng.normal(0, 1, g.size)
    data = pd.DataFrame({"y": y, "g": [f"g{j:02d}" for j in g]})
    monkeypatch.setattr(
        model_module, "resolve_parameterization", lambda design, how: {"g": ("centered",)}
    )
    model = hb.Model("y ~ 1 + (1 | g)", data=data)
    settings = {"draws": 300, "tune": 300, "chains": 2}
    fit = quiet_fit(model, random_seed=3, **settings)
    assert fit.model.parameterization == {"g": ("noncentered",)}  # the course changed
    refit = study_refit(model, random_seed=3, **settings)
    expected = population_draws(model.design, fit.idata["posterior"].to_dataset())
    for label, values in expected.items():
        np.testing.assert_array_equal(refit.draws[label], values)
    assert refit.divergences == fit.diagnostics.divergences


def test_refit_judges_the_ess_by_the_chains_asked_for():
    """Six chains of which two were asked for (hierbayes.course_extend): the bar is 200, not 600;
    a posterior without the attribute keeps the chains sampled."""
    import xarray as xr

    rng = np.random.default_rng(1)
    x = np.zeros((6, 1000))
    x[:, 0] = rng.normal(size=6)
    for t in range(1, 1000):  # stationary AR(1), rho 0.85: a bulk ESS of about 490
        x[:, t] = 0.85 * x[:, t - 1] + np.sqrt(1 - 0.85**2) * rng.normal(size=6)
    draws = {"b[x]": x}
    asked = xr.Dataset(coords={"chain": np.arange(6)}, attrs={"requested_chains": 2})
    assert 200 <= _refit(draws, 0, asked).min_ess_bulk < 600
    assert "bulk ESS" not in _refit(draws, 0, asked).warning
    unknown = xr.Dataset(coords={"chain": np.arange(6)})
    assert "bulk ESS < 600: b[x] " in _refit(draws, 0, unknown).warning
