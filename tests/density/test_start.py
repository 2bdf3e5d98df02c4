"""Starting points: the population coefficients at their penalised mode, jittered on their own
scale; group effects at zero."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.layout import make_layout
from hierbayes.density.start import THETA_JITTER, starting_points


@pytest.fixture(scope="module")
def ticks() -> hb.Model:
    # the effects sampled (auto integrates both factors out here: see the Laplace test below)
    return hb.Model(
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX)",
        data=hb.datasets.load("grouseticks"),
        family="poisson",
        parameterization={"BROOD": "centered", "INDEX": "noncentered"},
    )


def test_integrated_effects_start_at_the_population_mode():
    """With every factor integrated out by Laplace, the first search's unit step from zero
    overflows (height in metres) and used to leave the coefficients at zero; the start is now
    the mode of the Laplace marginal: its gradient in the coefficients is ~0 and it is far above
    the log-density at zero."""
    model = hb.Model(
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX)",
        data=hb.datasets.load("grouseticks"),
        family="poisson",
    )
    assert model.parameterization == {"BROOD": ("laplace",), "INDEX": ("laplace",)}
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    start = starting_points(layout)
    at_zero, _ = layout.logp_grad(np.asarray(layout.center, dtype=float))
    value, grad = layout.logp_grad(start.centre)
    assert value > at_zero + 10
    assert np.max(np.abs(grad[layout.theta])) < 1e-2


def _group_effects(layout, x: np.ndarray, b) -> np.ndarray:
    """The effects ``u`` of block ``b`` at ``x``: hierarchically centred effects are sampled
    as ``u`` plus the fixed terms they hold."""
    free = np.array(x[b.effects], dtype=float)
    J = len(b.block.levels)
    for a, (c, k) in enumerate(zip(b.shift_columns, b.shift_coefficients, strict=True)):
        free[k * J : (k + 1) * J] -= b.shift_values[:, a] * x[c]
    return free


def _poisson_glm(X: np.ndarray, y: np.ndarray, prior_sd: np.ndarray) -> np.ndarray:
    """Penalised Poisson GLM by Newton's method (independent of the kernel)."""
    beta = np.zeros(X.shape[1])
    for _ in range(100):
        mu = np.exp(X @ beta)
        grad = X.T @ (y - mu) - beta / prior_sd**2
        hess = X.T @ (X * mu[:, None]) + np.diag(1.0 / prior_sd**2)
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta


def test_population_part_starts_at_the_penalised_glm_mode(ticks):
    """With the group effects at zero the model is a Poisson GLM penalised by the priors: the
    centre of the starting points is its mode (Newton's method on the centred design)."""
    layout = make_layout(ticks.design, ticks.prior_values, ticks.parameterization)
    start = starting_points(layout)
    X = ticks.design.X
    W = np.column_stack([np.ones(len(X)), X[:, 1:] - X[:, 1:].mean(axis=0)])
    names = ["Intercept", *[f"b|{c}" for c in ticks.design.fixed_columns[1:]]]
    prior_sd = np.array([ticks.prior_values[n].kwargs["sigma"] for n in names])
    expected = _poisson_glm(W, ticks.design.y, prior_sd)
    np.testing.assert_allclose(start.centre[layout.theta], expected, rtol=1e-4, atol=1e-6)
    for b in layout.blocks:
        np.testing.assert_allclose(_group_effects(layout, start.centre, b), 0.0, atol=1e-12)


def test_chains_start_near_the_mode_on_its_own_scale(ticks):
    """Each chain's coefficients lie within 2 Laplace SDs (whitened) of the mode; log SDs within
    ±1 of their prior centre; effects at zero; chains differ; the log-density is finite and
    far above what the old scale-blind ±1 jitter gave."""
    layout = make_layout(ticks.design, ticks.prior_values, ticks.parameterization)
    start = starting_points(layout)
    points = np.stack([start.draw(seed) for seed in range(8)])
    white = np.linalg.solve(
        start.theta_chol, (points[:, layout.theta] - start.centre[layout.theta]).T
    )
    assert np.all(np.abs(white) <= THETA_JITTER)
    for b in layout.blocks:
        assert np.all(np.abs(points[:, b.sd] - layout.center[b.sd]) <= 1.0)
        for point in points:
            np.testing.assert_allclose(_group_effects(layout, point, b), 0.0, atol=1e-12)
    assert len({tuple(p[layout.theta]) for p in points}) == len(points)
    new = np.array([layout.logp_grad(p)[0] for p in points])
    rng = np.random.default_rng(0)
    # the old rule, on the non-centred model (no hierarchical centring: the fixed effects act on
    # every row directly)
    nc = hb.Model(
        ticks.spec.formula,
        hb.datasets.load("grouseticks"),
        family="poisson",
        parameterization="noncentered",
    )
    nc_layout = make_layout(nc.design, nc.prior_values, nc.parameterization)
    old = np.array(
        [
            nc_layout.logp_grad(nc_layout.center + rng.uniform(-1, 1, nc_layout.n_dim))[0]
            for _ in range(8)
        ]
    )
    assert np.all(np.isfinite(new))
    # the old rule put the height slope up to 14 prior SDs out: Poisson rates of e^30 and more
    assert new.min() > -1e4 and np.median(old) < -1e6


def test_the_mode_search_runs_on_one_blas_thread(ticks, monkeypatch: pytest.MonkeyPatch):
    """OpenBLAS's thread pool costs more than it gains on L-BFGS-B's small matrices; the search
    limits it to one thread and gives the pool back afterwards."""
    from threadpoolctl import threadpool_info

    from hierbayes.density import start as start_module

    seen: list[int] = []
    original = start_module.minimize

    def recording(*args, **kwargs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return original(*args, **kwargs)

    monkeypatch.setattr(start_module, "minimize", recording)
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    layout = make_layout(ticks.design, ticks.prior_values, ticks.parameterization)
    starting_points(layout)
    assert seen and set(seen) == {1}
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_effects_without_data_start_off_zero_so_nutpie_accepts_the_start():
    """A varying slope of a 0/1 column in a group where it is all zero (Contraception's urban
    slope in the 15 of 60 districts with no urban women) has no data: at 0 its gradient is
    exactly 0, and nutpie rejects any start with a zero in the gradient. Those effects, and
    only those, are jittered; every other coordinate starts as it did."""
    from pathlib import Path

    import pandas as pd

    from hierbayes.density.start import EMPTY_JITTER

    data = pd.read_csv(Path(__file__).parents[1] / "data" / "contraception.csv")
    model = hb.Model("use ~ urban + (1 + urban | district)", data, family="bernoulli")
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    start = starting_points(layout)
    urban = data.assign(u=data["urban"] == "Y").groupby("district")["u"].sum()
    assert start.empty_jitter is not None
    assert int(start.empty_jitter.sum()) == int((urban == 0).sum()) == 15
    for seed in range(4):
        x = start.draw(seed)
        value, grad = layout.logp_grad(x)
        assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(grad != 0)
        moved = x - start.centre
        assert np.all(np.abs(moved[start.empty_jitter]) <= EMPTY_JITTER)
        assert np.all(moved[start.empty_jitter] != 0)
        # drawn last, so the other coordinates are those of the rule without it
        plain = dataclasses.replace(start, empty_jitter=None).draw(seed)
        np.testing.assert_array_equal(x[~start.empty_jitter], plain[~start.empty_jitter])


def test_expanded_sds_start_within_a_factor_e_whatever_the_units():
    """An expanded SD's coordinate is the signed scale itself: chains start at its centre
    times e^U(-1, 1), as a log SD starts within ±1, so the start is the same in y's units."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(8), 6)
    x = rng.normal(size=g.size)
    y = 0.5 * x + rng.normal(0, 0.7, 8)[g] + rng.normal(size=g.size)
    starts = []
    for unit in (1e-3, 1e3):
        d = pd.DataFrame({"y": y * unit, "x": x, "g": g})
        m = hb.Model("y ~ x + (1 | g)", data=d, parameterization="expanded")
        layout = make_layout(m.design, m.prior_values, m.parameterization)
        start = starting_points(layout)
        at = layout.blocks[0].sd.start
        ratios = np.array([start.draw(seed)[at] / start.centre[at] for seed in range(8)])
        assert np.all((ratios > np.exp(-1)) & (ratios < np.e))
        assert ratios.std() > 0.1  # the chains start apart
        starts.append(ratios)
    np.testing.assert_allclose(starts[0], starts[1], rtol=1e-12)


def _partial_model(formula: str) -> hb.Model:
    rng = np.random.default_rng(2)
    mom = np.repeat(np.arange(300), rng.integers(1, 3, 300))
    u = rng.normal(0.0, 2.0, 300)[mom]
    y = (rng.random(len(mom)) < 1.0 / (1.0 + np.exp(-u))).astype(int)
    data = pd.DataFrame({"y": y, "x": rng.normal(size=len(mom)), "mom": mom.astype(str)})
    return hb.Model(formula, data, family="bernoulli", parameterization={"mom": "partial"})


@pytest.mark.parametrize("formula", ["y ~ x + (1 | mom)", "y ~ 0 + (1 | mom)"])
def test_partially_centred_sds_start_above_their_centre_with_their_groups_at_one_sd(formula):
    """Away from the neck at sd = 0: each chain's log SD at or above the centre, within the
    usual jitter, and each group's free value at ±sd^λ_j for that chain's own SD."""
    model = _partial_model(formula)
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    (block,) = layout.blocks
    start = starting_points(layout)
    at, centre = block.sd.start, start.centre[block.sd.start]
    starts = np.array([start.draw(seed) for seed in range(40)])
    log_sd = starts[:, at]
    assert np.all(log_sd >= centre) and np.all(log_sd <= centre + 1.0)
    assert np.ptp(log_sd) > 0.5  # still jittered
    v = starts[:, block.effects]
    expected = np.exp(block.weights[None, :] * log_sd[:, None])
    np.testing.assert_allclose(np.abs(v), expected, rtol=1e-12)
    assert np.all(v[:, 0::2] > 0) and np.all(v[:, 1::2] < 0)
    assert 0.0 < block.weights.min() and block.weights.max() < 1.0


def test_starts_without_partially_centred_terms_are_unchanged_by_the_folding():
    model = _partial_model("y ~ x + (1 | mom)")
    plain = {"mom": ("noncentered",)}
    layout = make_layout(model.design, model.prior_values, plain)
    start = starting_points(layout)
    assert start.partial == ()
    x = start.draw(3)
    rng = np.random.default_rng(3)
    p = layout.theta.stop - layout.theta.start
    expected = start.centre.copy()
    expected += start.theta_map @ (start.theta_chol @ rng.uniform(-THETA_JITTER, THETA_JITTER, p))
    expected += np.where(start.scale_jitter, rng.uniform(-1.0, 1.0, x.size), 0.0)
    np.testing.assert_array_equal(x, expected)


def test_two_partially_centred_factors_each_start_above_their_centre():
    rng = np.random.default_rng(5)
    mom = np.repeat(np.arange(300), rng.integers(1, 3, 300))
    data = pd.DataFrame(
        {
            "y": (rng.random(len(mom)) < 0.5).astype(int),
            "mom": mom.astype(str),
            "nurse": rng.integers(0, 200, len(mom)).astype(str),
        }
    )
    parameterization = {"mom": "partial", "nurse": "partial"}
    model = hb.Model(
        "y ~ 1 + (1 | mom) + (1 | nurse)",
        data,
        family="bernoulli",
        parameterization=parameterization,
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    start = starting_points(layout)
    assert len(start.partial) == 2
    for seed in range(10):
        x = start.draw(seed)
        for block in start.partial:
            log_sd = x[block.sd.start]
            assert log_sd >= start.centre[block.sd.start]
            expected = np.exp(block.weights * log_sd)
            np.testing.assert_allclose(np.abs(x[block.effects]), expected, rtol=1e-12)
