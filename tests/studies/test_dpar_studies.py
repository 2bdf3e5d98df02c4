"""Simulation studies of a model whose residual SD has its own formula (``sigma="~ ..."``):
its coefficients and group-term SDs are population-level parameters, labelled and ranked."""

from __future__ import annotations

import numpy as np
import pytest
from study_models import TIGHT, tiny_data

import hierbayes as hb
from hierbayes.studies.parameters import population_draws, population_values

LABELS = [
    "b[Intercept]",
    "b[x]",
    "b_sigma[Intercept]",
    "b_sigma[x]",
    "sd|g[Intercept]",
    "sd|sigma_g[Intercept]",
]


@pytest.fixture(scope="module")
def dpar_model() -> hb.Model:
    priors = {
        "Intercept": TIGHT["Intercept"],
        "b|x": TIGHT["b|x"],
        "sd|g": TIGHT["sd"],
        "sigma_Intercept": hb.Prior("Normal", mu=0.0, sigma=0.5),
        "b|sigma_x": hb.Prior("Normal", mu=0.0, sigma=0.3),
        "sd|sigma_g": hb.Prior("HalfNormal", sigma=0.3),
    }
    return hb.Model("y ~ x + (1 | g)", tiny_data(), sigma="~ x + (1 | g)", priors=priors)


def test_labels_name_the_coefficients_of_log_sigma(dpar_model: hb.Model) -> None:
    values = {
        "b": np.array([1.0, 2.0]),
        "sd|g": np.array([3.0]),
        "b_sigma": np.array([-0.5, 0.25]),
        "sd|sigma_g": np.array([0.4]),
    }
    truth = population_values(dpar_model.design, values)
    assert truth == {
        "b[Intercept]": 1.0,
        "b[x]": 2.0,
        "sd|g[Intercept]": 3.0,
        "b_sigma[Intercept]": -0.5,
        "b_sigma[x]": 0.25,
        "sd|sigma_g[Intercept]": 0.4,
    }
    assert "sigma" not in truth  # not a scalar of this model


@pytest.mark.filterwarnings("ignore:.*SBC refits did not converge:RuntimeWarning")
def test_sbc_ranks_the_coefficients_of_log_sigma(dpar_model: hb.Model) -> None:
    # that it runs and ranks them, not a calibration claim (10 replicates)
    result = hb.sbc(
        dpar_model, n=10, random_seed=2, draws=100, tune=100, chains=2, progressbar=False
    )
    assert not result.failures, result.failures_table
    assert sorted(result.ranks["parameter"].unique()) == LABELS
    assert sorted(result.truths.columns) == LABELS
    assert len(result.truths) == 10
    assert (result.truths[["sd|g[Intercept]", "sd|sigma_g[Intercept]"]] > 0).all().all()
    ranked = result.ranks.pivot(index="replicate", columns="parameter", values="true")
    np.testing.assert_array_equal(ranked[LABELS].to_numpy(), result.truths[LABELS].to_numpy())
    assert ((result.ranks["rank"] >= 0) & (result.ranks["rank"] <= result.ranks["n_ranked"])).all()
    assert result.ranks.groupby("parameter").size().eq(10).all()


def test_refit_draws_are_read_by_label(dpar_model: hb.Model) -> None:
    prior = hb.predict.prior.prior_predictive(dpar_model, 3, random_seed=1)["prior"]
    draws = population_draws(dpar_model.design, prior.to_dataset())
    assert list(draws) == [
        "b[Intercept]",
        "b[x]",
        "b_sigma[Intercept]",
        "b_sigma[x]",
        "sd|g[Intercept]",
        "sd|sigma_g[Intercept]",
    ]
    np.testing.assert_array_equal(
        draws["b_sigma[x]"], prior["b_sigma"].sel(sigma_term="sigma_x").transpose("chain", "draw")
    )
