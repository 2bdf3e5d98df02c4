"""Centred or non-centred group effects for non-gaussian families: the population GLM fit and the
information rule (hierbayes.build.glm_choice)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import minimize
from scipy.special import gammaln, log_expit

import hierbayes as hb
from hierbayes.build.glm_choice import (
    choose_glm_parameterization,
    population_fit,
    population_glm,
)


def _simulated(family: str, sd: float, rows: int, groups: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), rows)
    x = rng.normal(size=g.size)
    eta = -0.3 + 0.5 * x + rng.normal(0.0, sd, groups)[g]
    y = rng.poisson(np.exp(eta)) if family == "poisson" else rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


@pytest.mark.parametrize("family", ["bernoulli", "poisson"])
def test_population_glm_is_the_maximum_likelihood_fit(family):
    """Against a generic optimiser on the family's log-likelihood, written out here."""
    d = _simulated(family, 0.5, 10)
    design = hb.Model("y ~ x + (1 | g)", d, family=family).design
    X, y = design.X, design.y

    def negloglik(beta):
        eta = X @ beta
        if family == "bernoulli":
            return -(y * log_expit(eta) + (1 - y) * log_expit(-eta)).sum()
        return -(y * eta - np.exp(eta) - gammaln(y + 1)).sum()

    reference = minimize(negloglik, np.zeros(X.shape[1]), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(population_glm(design), X @ reference.x, atol=1e-6)


def test_population_glm_with_trials_and_offset():
    """cbpp: binomial counts; an offset shifts η and is kept in it."""
    cbpp = hb.datasets.load("cbpp")
    design = hb.Model(
        "incidence | trials(size) ~ 1 + offset(0.5 * period) + (1 | herd)", cbpp, family="binomial"
    ).design
    eta = population_glm(design)
    # one free intercept: the fitted incidences add up to the observed ones
    p = 1 / (1 + np.exp(-eta))
    assert (p * cbpp["size"]).sum() == pytest.approx(cbpp["incidence"].sum(), rel=1e-9)
    np.testing.assert_allclose(np.diff(eta[:4]), 0.5, atol=1e-12)


def test_separation_gives_up_and_keeps_non_centred():
    """Complete separation has no maximum: no fit, and the safe choice."""
    d = pd.DataFrame({"x": np.arange(40.0), "g": [f"g{j % 8}" for j in range(40)]})
    d["y"] = (d["x"] > 19.5).astype(int)
    model = hb.Model("y ~ x + (1 | g)", d, family="bernoulli")
    assert population_glm(model.design) is None
    assert model.parameterization["g"] == ("noncentered",)


@pytest.mark.parametrize(
    ("family", "sd", "rows", "expected"),
    [
        # τ² I per group: 4 x 60 x 0.25 = 60, and 0.01 x 4 x 0.25 = 0.01
        ("bernoulli", 2.0, 60, "centered"),
        ("bernoulli", 0.1, 4, "noncentered"),
        # Poisson counts near e^-0.3: τ² I = 1 x 30 x 0.74 = 22, and 0.0025 x 3 x 0.74 = 0.006
        ("poisson", 1.0, 30, "centered"),
        ("poisson", 0.05, 3, "noncentered"),
    ],
)
def test_information_rule_on_simulated_data(family, sd, rows, expected):
    model = hb.Model("y ~ x + (1 | g)", _simulated(family, sd, rows), family=family)
    assert choose_glm_parameterization(model.design, model.design.blocks[0]) == (expected,)


def test_one_row_per_group_is_non_centred():
    """An observation-level effect: no group has more rows than coefficients."""
    d = _simulated("poisson", 1.0, 1, groups=200)
    model = hb.Model("y ~ x + (1 | g)", d, family="poisson")
    assert model.parameterization["g"] == ("noncentered",)


def test_crossed_and_nested_real_data():
    """VerbAgg: respondents (24 answers each) and items (316 each) crossed, both well informed.
    Grouse ticks: locations, most with one or two broods, counted by their broods' information:
    non-centred; broods (3.4 chicks each) would be centred on their own, but most are their
    location's only brood: not centred, and as most locations hold one brood, both factors'
    intercepts are integrated out jointly by Laplace (:mod:`hierbayes.build.auto_laplace`; sampled,
    they would be parameter-expanded, :mod:`hierbayes.build.expanded`); one chick per INDEX:
    non-centred."""
    verbagg = hb.Model(
        "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        hb.datasets.load("verbagg"),
        family="bernoulli",
    )
    assert verbagg.parameterization == {"id": ("centered",), "item": ("centered",)}
    ticks = hb.Model(
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        hb.datasets.load("grouseticks"),
        family="poisson",
    )
    assert ticks.parameterization == {
        "BROOD": ("laplace",),
        "INDEX": ("noncentered",),
        "LOCATION": ("laplace",),
    }


def _negative_binomial(sd: float, rows: int, shape: float = 2.0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(40), rows)
    x = rng.normal(size=g.size)
    mu = np.exp(0.5 + 0.5 * x + rng.normal(0.0, sd, 40)[g])
    y = rng.negative_binomial(shape, shape / (shape + mu))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


def test_a_family_with_its_own_parameters_is_fitted_with_them():
    """The population fit of a negative binomial recovers its shape with β (the likelihood in
    both is maximal there: a generic optimiser agrees), and the rule then centres well-informed
    groups and leaves weakly informed ones non-centred."""
    d = _negative_binomial(0.0, 100)  # no group effects: the GLM is the truth
    design = hb.Model("y ~ x + (1 | g)", d, family="negativebinomial").design
    eta, theta = population_fit(design)
    X, y = design.X, design.y.astype(float)

    def negloglik(v):
        mu, k = np.exp(X @ v[:-1]), np.exp(v[-1])
        return -stats.nbinom.logpmf(y, k, k / (k + mu)).sum()

    reference = minimize(negloglik, np.zeros(X.shape[1] + 1), method="BFGS")
    np.testing.assert_allclose(eta, X @ reference.x[:-1], atol=1e-4)
    assert theta[0] == pytest.approx(np.exp(reference.x[-1]), rel=1e-3)
    assert theta[0] == pytest.approx(2.0, rel=0.15)  # the simulated shape
    # τ² I: 0.5 x 30 rows x μ/(1 + μ/φ) ≈ 1.2 each: about 18 -> centred; 0.0025 x 3 -> not
    informed = hb.Model("y ~ x + (1 | g)", _negative_binomial(0.7, 30), family="negativebinomial")
    assert informed.parameterization["g"] == ("centered",)
    weak = hb.Model("y ~ x + (1 | g)", _negative_binomial(0.05, 3), family="negativebinomial")
    assert weak.parameterization["g"] == ("noncentered",)


@pytest.mark.parametrize(
    ("sd", "rows", "expected"), [(1.0, 30, "centered"), (0.05, 3, "noncentered")]
)
def test_an_ordinal_family_chooses_from_its_population_fit(sd, rows, expected):
    """The cut-points are fitted with ``β`` (:mod:`hierbayes.build.ordinal_fit`); the rule is
    the other families' (``τ² I`` about 30 x 0.4 and 0.0025 x 3 x 0.4)."""
    d = _simulated("poisson", sd, rows).assign(r=lambda t: np.minimum(t.y, 3) + 1)
    model = hb.Model("r ~ x + (1 | g)", d, family="cumulative")
    _eta, cut = population_fit(model.design)
    assert np.all(np.diff(cut) > 0)
    assert model.parameterization["g"] == (expected,)


def test_an_empty_category_keeps_the_safe_choice():
    d = _simulated("poisson", 1.0, 30).assign(r=lambda t: np.where(t.y > 0, 3, 1))
    with pytest.warns(UserWarning, match="has no observation"):
        model = hb.Model(
            "r ~ x + (1 | g)",
            d.astype({"r": pd.CategoricalDtype([1, 2, 3], ordered=True)}),
            family="cumulative",
        )
    assert population_fit(model.design) is None
    assert model.parameterization["g"] == ("noncentered",)


def test_the_population_fit_runs_once_per_design(monkeypatch):
    """guImmun's and VerbAgg's two factors share one population GLM fit (it was fitted once per
    group term); the choices are those of a fit per term."""
    from hierbayes.build import glm_choice

    data = hb.datasets.load("verbagg").iloc[::4]
    model = hb.Model("r2 ~ Anger + btype + (1 | id) + (1 | item)", data, family="bernoulli")
    calls: list[int] = []
    original = glm_choice.population_fit

    def counted(design):
        calls.append(id(design))
        return original(design)

    monkeypatch.setattr(glm_choice, "population_fit", counted)
    design = model.design
    assert design in glm_choice._WEIGHTS  # fitted while the model was built
    glm_choice._WEIGHTS.clear()
    shared = [choose_glm_parameterization(design, b) for b in design.blocks]
    assert calls == [id(design)]
    d1, w = glm_choice._population_weights(design)
    assert not d1.flags.writeable and not w.flags.writeable
    glm_choice._WEIGHTS.clear()  # a fit per group term, as before
    each = []
    for block in design.blocks:
        each.append(choose_glm_parameterization(design, block))
        glm_choice._WEIGHTS.clear()
    assert shared == each and len(calls) == 1 + len(design.blocks)
    assert shared == list(model.parameterization.values())


def _plain_group_estimates(block, d1, w, bound):
    """:func:`hierbayes.build.glm_choice._group_estimates` written out with a QR rank per group."""
    from hierbayes.linalg import numerical_rank

    q, J = len(block.columns), len(block.levels)
    estimates, sampling = np.full((J, q), np.nan), np.full((J, q), np.nan)
    rss, dof = 0.0, 0
    for j in range(J):
        rows = np.flatnonzero(block.codes == j)
        Zj, wj = block.Z[rows], w[rows]
        if len(rows) <= q or numerical_rank(Zj) < q or not np.all(wj > 0):
            continue
        if bound is not None and (bound[0, rows].all() or bound[1, rows].all()):
            continue
        cov = np.linalg.inv(Zj.T @ (wj[:, None] * Zj))
        coef = cov @ (Zj.T @ d1[rows])
        rss += float((wj * (d1[rows] / wj - Zj @ coef) ** 2).sum())
        dof += len(rows) - q
        estimates[j], sampling[j] = coef, np.diag(cov)
    return estimates, (max(rss / dof, 1.0) if dof else 1.0) * sampling


@pytest.mark.parametrize("formula", ["y ~ x + (1 | g)", "y ~ x + (0 + x | g)", "y ~ x + (x | g)"])
def test_group_estimates_are_the_plain_per_group_fits_bit_for_bit(formula):
    """One coefficient's ranks all at once (:func:`hierbayes.linalg.segment_ranks`) change no
    number: groups of one row, a group whose slope column is all zero, groups of many rows."""
    from hierbayes.build import glm_choice as gc

    d = _simulated("bernoulli", 1.0, 3, groups=30, seed=2).iloc[2:]  # g0 keeps one row
    d.loc[d["g"] == "g5", "x"] = 0.0
    design = hb.Model(formula, d, family="bernoulli").design
    d1, w = gc._population_weights(design)
    block = design.blocks[0]
    found = gc._group_estimates(block, d1, w, gc._at_bound(design))
    expected = _plain_group_estimates(block, d1, w, gc._at_bound(design))
    assert np.isnan(found[0]).any(axis=1).sum() >= 1
    for a, b in zip(found, expected, strict=True):
        np.testing.assert_array_equal(a, b)
