"""The quadrature's own check (:mod:`hierbayes.density.agq_check`): its log weights are the
difference of the log densities at ``2K + 1`` and ``K`` nodes, it passes where the quadrature is
accurate and fails, with the model run again with the effects sampled and a note that says why,
where the nodes are too few."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import small_binary_groups

import hierbayes as hb
from hierbayes.density import agq
from hierbayes.density.agq_check import (
    AGQ_DEV_MAX,
    AGQ_SD_MAX,
    agq_failure,
    agq_log_weights,
    check_agq,
)
from hierbayes.density.layout import make_layout


@pytest.fixture(scope="module")
def groups() -> pd.DataFrame:
    """Bernoulli, 150 groups of one or two rows, SD 3 (where Laplace is off by ~0.04 a group)."""
    return small_binary_groups(150, 3.0)


def test_the_log_weights_are_the_difference_of_two_quadratures(groups, monkeypatch):
    """``w = ℓ_{2K+1} - ℓ_K``: the log densities of the layouts at 7 and at 3 nodes differ by
    it (same priors), at draws with SDs from 0.5 to 4."""
    model = hb.Model("y ~ x + (1 | g)", groups, family="bernoulli")
    layouts = {}
    for k in (3, 7):
        monkeypatch.setattr(agq, "AGQ_NODES", k)
        layouts[k] = make_layout(model.design, model.prior_values, {"g": ("agq",)})
    rng = np.random.default_rng(2)
    X = layouts[3].center + rng.uniform(-0.5, 0.5, (4, layouts[3].n_dim))
    X[:, layouts[3].blocks[0].sd] = np.log([[0.5], [1.5], [3.0], [4.0]])
    w, k = agq_log_weights(layouts[3].table, X)
    assert k == 3
    expected = [layouts[7].logp_grad(x)[0] - layouts[3].logp_grad(x)[0] for x in X]
    np.testing.assert_allclose(w, expected, rtol=1e-9, atol=1e-9)
    assert abs(w[3]) > 0.05  # three nodes are visibly off at an SD of 4


def fit(groups: pd.DataFrame) -> hb.Fit:
    model = hb.Model("y ~ x + (1 | g)", groups, family="bernoulli", parameterization={"g": "agq"})
    return model.fit(draws=100, tune=100, chains=2, random_seed=1, progressbar=False)


def test_the_check_passes_where_the_quadrature_is_accurate(groups):
    """At 11 nodes the log marginal moves little against 23 (its error: 0.003 over the 150
    groups at SD 3, 0.1 at SD 5, where this posterior's tail reaches; SD across draws 0.04):
    the quadrature's fit is kept, its effects drawn, and the note says the check passed."""
    post = fit(groups).idata["posterior"].to_dataset()
    assert post["u|g"].shape == (2, 100, 150, 1)
    assert post.attrs["agq_check_nodes"] == 11 and post.attrs["agq_check_reference_nodes"] == 23
    assert post.attrs["agq_check_draws"] == 200
    assert 0.0 < post.attrs["agq_check_sd"] <= AGQ_SD_MAX
    assert post.attrs["agq_check_max_dev"] <= AGQ_DEV_MAX
    assert "laplace_pareto_k" not in post.attrs  # the proposals' check is not the quadrature's
    assert "quadrature at 11 nodes; its check" in post.attrs["sampling_notes"]
    assert "passed (kept)" in post.attrs["sampling_notes"]


def test_the_check_fails_with_too_few_nodes_and_the_effects_are_sampled(groups, monkeypatch):
    """At one node (the Laplace approximation) against three, the log marginal of 150 groups at
    SD 3 moves across draws by more than the check allows (SD 0.98, 2.8 at the farthest draw):
    the model is run again with the effects sampled, and the note names the quadrature (not
    "the Laplace approximation")."""
    monkeypatch.setattr(agq, "AGQ_NODES", 1)
    f = fit(groups)
    post = f.idata["posterior"].to_dataset()
    assert post.attrs["agq_check_nodes"] == 1
    assert post.attrs["agq_check_sd"] > AGQ_SD_MAX or post.attrs["agq_check_max_dev"] > AGQ_DEV_MAX
    note = post.attrs["sampling_notes"]
    assert "The adaptive Gauss-Hermite quadrature failed its check: its log marginal" in note
    assert "run again with those effects sampled (g:" in note
    assert "Laplace approximation" not in note
    assert f.model.parameterization["g"] != ("agq",)
    assert post["u|g"].attrs.get("draws") != "importance-resampled Laplace"


def test_the_check_says_which_draws_had_no_mode_and_which_no_finite_value(groups):
    """A draw where no mode is found (here a point of NaN) is counted as such, and the failure
    names it; a value that is not finite at the modes (the rows overflowing at every node of a
    group) is named as that, not as a mode not found."""
    model = hb.Model("y ~ x + (1 | g)", groups, family="bernoulli")
    layout = make_layout(model.design, model.prior_values, {"g": ("agq",)})
    X = np.tile(layout.center, (3, 1))
    X[1] = np.nan
    check = check_agq(layout.table, X[None])
    assert check["agq_check_no_mode"] == 1 and check["agq_check_not_finite"] == 0
    assert check["agq_check_sd"] == np.inf
    assert agq_failure(check) == "a group's mode was not found at 1 of 3 draws"
    overflow = check | {"agq_check_no_mode": 0, "agq_check_not_finite": 2}
    why = agq_failure(overflow)
    assert "not finite at 2 of 3 draws" in why and "mode" not in why
