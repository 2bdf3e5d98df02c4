"""The Laplace check holds a fixed number of importance weights whatever the number of draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.draws import posterior_dataset
from hierbayes.density.laplace_check import (
    CHECK_WEIGHTS,
    LAPLACE_K,
    check_weights_per_draw,
    complete_laplace,
    pareto_k,
)
from hierbayes.density.laplace_draws import laplace_effects
from hierbayes.density.laplace_joint_draws import joint_effects
from hierbayes.density.layout import make_layout


def _bernoulli(J: int, rows: int, sd: float, seed: int, crossed: bool = False) -> hb.Model:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(J), rows)
    h = rng.integers(0, 8, g.size)
    eta = rng.normal(0, sd, J)[g] + (rng.normal(0, 0.5, 8)[h] if crossed else 0.0)
    data = pd.DataFrame({"g": [f"g{j}" for j in g], "h": [f"h{j}" for j in h]})
    data["y"] = (rng.random(g.size) < 1 / (1 + np.exp(-eta))).astype(int)
    if crossed:
        return hb.Model(
            "y ~ 1 + (1 | g) + (1 | h)",
            data,
            family="bernoulli",
            parameterization={"g": "laplace", "h": "laplace"},
        )
    return hb.Model("y ~ 1 + (1 | g)", data, family="bernoulli", parameterization="laplace")


@pytest.fixture(scope="module")
def single():
    """60 groups of 4 binary rows at an SD of 1.5: a moderate tail (k about 0.3-0.5)."""
    m = _bernoulli(60, 4, 1.5, seed=2)
    layout = make_layout(m.design, m.prior_values, m.parameterization)
    x = layout.center.copy()
    x[layout.blocks[0].sd] = np.log(1.5)
    return layout, x


def _check(layout, x, chains: int, draws: int) -> tuple[float, str]:
    raw = np.tile(x, (chains, draws, 1))
    post = complete_laplace(layout, raw, posterior_dataset(layout, raw), seed=1)
    return post.attrs[LAPLACE_K], post.attrs["sampling_notes"]


@pytest.mark.parametrize(
    ("chains", "draws", "said"),
    [
        (1, 20, "4000 weights (200 a draw)"),
        (4, 250, "4000 weights (4 a draw)"),
        (3, 1500, "4500 weights gives"),
    ],
)
def test_the_check_holds_at_least_4000_weights_whatever_the_draws(single, chains, draws, said):
    _, notes = _check(*single, chains, draws)
    assert f"check over {said}" in notes


def test_the_joint_check_holds_4000_weights_after_few_draws():
    m = _bernoulli(30, 4, 1.0, seed=3, crossed=True)
    layout = make_layout(m.design, m.prior_values, m.parameterization)
    k, notes = _check(layout, layout.center, 1, 40)
    assert "check over 4000 weights (100 a draw)" in notes
    assert np.isfinite(k)


def test_weights_per_draw_are_independent_draws_of_the_effects(single):
    """Each of a draw's weights is its own draw of all the effects: at one point the weights of
    one draw spread as much as those of different draws."""
    layout, x = single
    _, logw = laplace_effects(layout.table, np.tile(x, (200, 1)), 1, 60, seed=4, weights=20)
    assert logw.shape == (200, 20)
    within = logw.std(axis=1).mean()
    across = logw.std(axis=0).mean()
    assert abs(within / across - 1) < 0.15  # 4,000 iid weights: about 0.05 apart


def test_a_simulated_k_is_stable_across_the_number_of_draws(single):
    """The same approximation (a fixed point) checked after 20, 100 and 1,000 draws: the Pareto
    k is finite and kept each time, within its estimator's noise (an SD of about 0.1 at 4,000
    weights); with one weight a draw, 20 draws held too few for a tail."""
    layout, x = single
    ks = [_check(layout, x, 1, draws)[0] for draws in (20, 100, 1000)]
    assert np.all(np.isfinite(ks)) and max(ks) < 0.6
    assert max(ks) - min(ks) < 0.3
    _, one = laplace_effects(layout.table, np.tile(x, (20, 1)), 1, 60, seed=1)
    assert pareto_k(one) == float("inf")
    assert check_weights_per_draw(20) * 20 == CHECK_WEIGHTS


def test_joint_effects_resampled_across_a_draws_weights_keep_their_distribution():
    """Effects resampled from 4 x 32 proposals a draw follow the same conditional as from 32:
    each effect's mean and SD agree within Monte Carlo error (a pick that mixed up the blocks'
    proposals, or left a draw unset, would not)."""
    m = _bernoulli(30, 4, 1.5, seed=5, crossed=True)
    layout = make_layout(m.design, m.prior_values, m.parameterization)
    x = layout.center.copy()
    X = np.tile(x, (1500, 1))
    k = 38
    one, _ = joint_effects(layout.table, X, k, seed=6, weights=1)
    four, logw = joint_effects(layout.table, X, k, seed=7, weights=4)
    assert logw.shape == (1500, 4) and np.ptp(logw) > 0.1  # uneven weights
    se = np.sqrt(one.var(0) / 1500 + four.var(0) / 1500)
    assert np.all(np.abs(one.mean(0) - four.mean(0)) < 4.5 * se)
    assert np.all(np.abs(four.std(0) / one.std(0) - 1) < 4.5 / np.sqrt(1500))
