"""Per-group weights of partially centred terms (:mod:`hierbayes.build.partial`), their
validation, their name in the summary, and a fit that agrees with the non-centred one."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
import hierbayes.density.partial_layout as partial_layout
from hierbayes.build.partial import group_weights, information_ratios
from hierbayes.density.effects_partial import LEVELS
from hierbayes.density.partial_layout import block_weights, mode_variance
from hierbayes.errors import ModelSpecError
from hierbayes.summaries.parameterization import describe_parameterization


def test_weights_recover_the_gaussian_optimum_on_simulated_counts() -> None:
    """Poisson counts, rate e^1 in 300 groups of 2 to 40 rows, τ = 0.5: ``τ² I_j`` is about
    ``0.25 n_j e``; the method-of-moments ``τ̂²`` from 300 groups is within about 20%."""
    rng = np.random.default_rng(7)
    sizes = rng.integers(2, 41, 300)
    g = np.repeat(np.arange(300), sizes)
    u = rng.normal(0.0, 0.5, 300)
    y = rng.poisson(np.exp(1.0 + u[g]))
    m = hb.Model("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g}), family="poisson")
    block = m.design.blocks[0]
    n_j = np.bincount(block.codes)
    ratios = information_ratios(m.design, block)
    assert ratios is not None
    expected = 0.25 * n_j * np.exp(1.0 + 0.125)  # E e^u = e^(τ²/2): the pooled rate
    assert np.median(ratios / expected) == pytest.approx(1.0, abs=0.3)
    lam = group_weights(m.design, block)
    np.testing.assert_allclose(lam, ratios / (1.0 + ratios))
    assert np.all(np.diff(lam[np.argsort(n_j, kind="stable")]) > -0.05)  # more rows, more weight


def test_partial_needs_one_coefficient() -> None:
    sleep = hb.datasets.load("sleepstudy")
    with pytest.raises(ModelSpecError, match=r"'partial' for 'Subject'.*the term has 2"):
        hb.Model("Reaction ~ Days + (Days | Subject)", sleep, parameterization="partial")


def test_summary_names_partial_centring() -> None:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.integers(0, 2, 60), "g": np.arange(60) % 20})
    m = hb.Model("y ~ 1 + (1 | g)", df, family="bernoulli", parameterization={"g": "partial"})
    assert m.parameterization == {"g": ("partial",)}
    text = describe_parameterization(m.design, m.parameterization)
    assert text == "g: partially centred (a weight per group)"


def test_partial_fit_agrees_with_non_centred(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same posterior (an exact reparameterisation): means of the fixed effects and the SD
    within four Monte Carlo standard errors of the two fits together."""
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 4, 80)
    g = np.repeat(np.arange(80), sizes)
    x = rng.normal(size=g.size)
    eta = -0.3 + 0.8 * x + rng.normal(0.0, 1.5, 80)[g]
    df = pd.DataFrame(
        {"y": (rng.random(g.size) < 1 / (1 + np.exp(-eta))).astype(int), "g": g, "x": x}
    )
    lam = np.round(rng.random(80) * 64) / 64  # weights across [0, 1]
    monkeypatch.setattr(partial_layout, "group_weights", lambda design, block, tau2=None: lam)
    posts = []
    for how in ("partial", "noncentered"):
        m = hb.Model("y ~ x + (1 | g)", df, family="bernoulli", parameterization={"g": how})
        fit = m.fit(draws=500, tune=500, chains=2, random_seed=11, progressbar=False)
        posts.append(fit.idata["posterior"].to_dataset()[["b", "sd|g"]])
    means = [p.mean(("chain", "draw")) for p in posts]
    mcse = [az.mcse(p) for p in posts]
    for name in ("b", "sd|g"):
        diff = np.abs(means[0][name] - means[1][name]).values
        bound = 4.0 * np.sqrt(mcse[0][name].values ** 2 + mcse[1][name].values ** 2)
        assert np.all(diff < bound), (name, diff, bound)


def test_pymc_build_samples_a_partial_term_non_centred() -> None:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"y": rng.integers(0, 2, 40), "g": np.arange(40) % 10})
    m = hb.Model("y ~ 1 + (1 | g)", df, family="bernoulli", parameterization={"g": "partial"})
    names = {v.name for v in m.build().free_RVs}
    assert "z|g" in names and "u|g" not in names
    assert "partially centred" in repr(m)


def test_guimmun_mothers_get_weights_from_the_posterior_mode() -> None:
    """The method-of-moments τ² of guImmun's mothers is 0 (no estimate from a mother with one
    child or with all-equal answers); the weights use the joint Laplace mode's instead, which
    is lme4's Laplace estimate (glmer of ``tests/reference_guimmun.R``'s model with bobyqa:
    SD 1.135) up to the priors' pull (this gives 1.157)."""
    data = pd.read_csv(
        Path(__file__).parents[1] / "data" / "guimmun.csv",
        dtype={"ord": str, "mom": str, "comm": str},
    )
    formula = (
        "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
        " + (1 | mom) + (1 | comm)"
    )
    m = hb.Model(formula, data, family="bernoulli", parameterization={"mom": "partial"})
    mom = m.design.blocks[0]
    assert mom.name == "mom"
    assert np.all(group_weights(m.design, mom) == 0.0)  # moments: τ² = 0
    tau2 = mode_variance(m.design, m.prior_values, mom)
    assert tau2 is not None
    assert np.sqrt(tau2) == pytest.approx(1.135, abs=0.03)
    lam = block_weights(m.design, mom, ("partial",), m.prior_values)
    assert np.all(lam * LEVELS == np.round(lam * LEVELS))
    # one or two bernoulli rows, I_j <= 1/4 each: weights well inside (0, 1)
    assert 0.05 < np.quantile(lam, 0.1) and np.quantile(lam, 0.9) < 0.5


def _plain_ratios(design, block, tau2):
    """:func:`information_ratios` written out from a fresh population fit (nothing cached)."""
    from hierbayes.build import glm_choice as gc
    from hierbayes.build.expected_info import expected_weights

    fit = gc.population_fit(design)
    d1, w = gc._derivs(design, *fit)
    w = expected_weights(design, *fit, w)
    estimates, sampling = gc._group_estimates(block, d1, w, gc._at_bound(design))
    usable = ~np.isnan(estimates[:, 0])
    info = np.bincount(block.codes, weights=w * block.Z[:, 0] ** 2, minlength=len(block.levels))
    phi = float(np.median(sampling[usable, 0] * info[usable]))
    if tau2 is None:
        tau2 = gc._within_variance(estimates[usable, 0], sampling[usable, 0], None)
    return tau2 * info / max(phi, 1.0)


@pytest.mark.parametrize("tau2", [None, 1.34])
def test_ratios_from_the_shared_estimates_are_those_of_a_fresh_fit(monkeypatch, tau2) -> None:
    """The ratios take the population fit and group estimates that the choice computed (once per
    design and term): the numbers of a fresh fit, bit for bit."""
    from hierbayes.build import glm_choice as gc

    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(120), rng.integers(1, 4, 120))
    y = (rng.random(g.size) < 1 / (1 + np.exp(-rng.normal(0.0, 2.0, 120)[g]))).astype(int)
    x = rng.normal(size=g.size)
    m = hb.Model("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}), family="bernoulli")
    design, block = m.design, m.design.blocks[0]
    calls: list[int] = []
    original = gc._group_estimates
    monkeypatch.setattr(gc, "_group_estimates", lambda *a: calls.append(1) or original(*a))
    gc._ESTIMATES.clear()
    first = information_ratios(design, block, tau2)
    again = information_ratios(design, block, tau2)
    gc.choose_glm_parameterization(design, block)
    assert len(calls) == 1
    assert np.array_equal(first, again)
    assert np.array_equal(first, _plain_ratios(design, block, tau2))
