"""Chains stuck far below the others' log-density are found and run again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import hierbayes as hb
from hierbayes.density.layout import make_layout
from hierbayes.density.rescue import SAMPLING_NOTES, rescue, stuck_chains
from hierbayes.density.sampler import compile_density, sample_density


def test_chains_of_one_posterior_are_not_flagged():
    """Four chains of draws from one distribution (lp of a 50-dimensional normal) never flag."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        lp = -0.5 * rng.chisquare(50, size=(4, 300))
        assert stuck_chains(lp) == []


def test_a_minority_far_below_is_flagged_and_a_majority_is_the_reference():
    rng = np.random.default_rng(2)
    lp = -100 + 5 * rng.standard_normal((5, 100))
    lp[[1, 3]] -= 200
    assert stuck_chains(lp) == [1, 3]
    lp[2] -= 200  # three of five low: now the two high chains are the odd ones, not flagged
    assert stuck_chains(lp) == []
    assert stuck_chains(lp[:1]) == []


def test_rescue_restarts_from_the_most_typical_chain_and_says_so():
    lp = np.array([[-10.0, -11.0], [-13.0, -11.0], [-1e9, -1e9], [-10.5, -11.5], [-9.0, -9.0]])
    raw = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    starts = []

    def run_chain(start, chain):
        starts.append((chain, start.copy()))
        return np.full((2, 3), 7.0), {"logp": np.array([-11.0, -10.0])}

    new, stats, notes = rescue(raw, lp, run_chain)
    # chain 4 (median -11.0) is the median chain
    assert starts[0][0] == 2 and np.array_equal(starts[0][1], raw[3, -1])
    assert np.all(new[2] == 7.0) and np.array_equal(new[[0, 1, 3, 4]], raw[[0, 1, 3, 4]])
    assert list(stats) == [2] and len(notes) == 1 and "Chain 3 of 5" in notes[0]
    assert "chain 4" in notes[0]


def test_a_restart_that_fails_again_is_reported():
    lp = np.array([[-10.0, -11.0], [-12.0, -10.0], [-1e9, -1e9]])
    _, _, notes = rescue(
        np.zeros((3, 2, 1)), lp, lambda s, c: (np.zeros((2, 1)), {"logp": np.full(2, -1e9)})
    )
    assert len(notes) == 2 and "still sits far below" in notes[1]


@pytest.mark.slow
def test_a_chain_started_in_a_trap_is_moved():
    """One chain starts where the old scale-blind rule (prior centre + U(-1, 1)) put the chain of
    the grouse ticks model that stayed stuck for a whole run: height slope -0.62 per metre, a
    log-density about -1e19. It is detected, run again from another chain's state, and the
    posterior says so; afterwards the chains agree."""
    model = hb.Model(
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        data=hb.datasets.load("grouseticks"),
        family="poisson",
        # non-centred, the fixed effects act on every row (hierarchical centring would take them
        # into the broods' intercepts, away from the trap's astronomic rates)
        parameterization="noncentered",
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    compiled = compile_density(layout)
    good = compiled.nutpie_model.initial_point_func
    trap = layout.center + np.random.default_rng(0).uniform(-1, 1, layout.n_dim)
    trap[3] = -0.62
    assert layout.logp_grad(trap)[0] < -1e15
    calls = []

    def second_chain_trapped(seed):
        # nutpie asks once for a point before starting the chains: the second call is a chain's
        calls.append(seed)
        return trap.copy() if len(calls) == 2 else good(seed)

    trapped = dataclasses.replace(
        compiled,
        nutpie_model=dataclasses.replace(
            compiled.nutpie_model, initial_point_func=second_chain_trapped
        ),
    )
    posterior, stats, _ = sample_density(
        trapped,
        draws=100,
        tune=150,
        chains=3,
        cores=1,
        random_seed=5,
        target_accept=0.8,
        progressbar=False,
    )
    notes = posterior.attrs[SAMPLING_NOTES]
    assert "run again" in notes and "still" not in notes
    assert stuck_chains(stats["logp"].values) == []
    slope = posterior["b"].sel(term="HEIGHT").median("draw").values
    # glmmTMB: -0.0238 (SE 0.0034)
    assert np.all(np.abs(slope + 0.0238) < 4 * 0.0034)
