"""A fit with one factor integrated out by Laplace: the same posterior as sampling the effects,
the effects drawn afterwards with their labels, the check reported, and a failed check runs the
model again with the effects sampled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hierbayes as hb
import hierbayes.laplace_fit
from hierbayes.density.laplace_check import LAPLACE_DRAWS, LAPLACE_K


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n, J = 600, 10  # 60 rows a group: the approximation is close
    g = rng.integers(0, J, n)
    x = rng.normal(size=n)
    eta = -0.4 + 0.8 * x + rng.normal(0, 0.9, J)[g]
    return pd.DataFrame(
        {"g": [f"g{j}" for j in g], "x": x, "y": (rng.random(n) < 1 / (1 + np.exp(-eta)))}
    ).astype({"y": int})


SETTINGS = {"draws": 300, "tune": 300, "chains": 2, "random_seed": 3, "progressbar": False}


@pytest.fixture(scope="module")
def fits(data):
    laplace = hb.Model("y ~ x + (1 | g)", data, family="bernoulli", parameterization="laplace")
    sampled = hb.Model("y ~ x + (1 | g)", data, family="bernoulli", parameterization="noncentered")
    return laplace.fit(**SETTINGS), sampled.fit(**SETTINGS)


def test_laplace_posterior_agrees_with_sampled_effects(fits):
    lap, ref = (f.idata["posterior"].to_dataset() for f in fits)
    for name in ("b", "sd|g", "u|g"):
        a, b = lap[name], ref[name]
        # within 5 Monte Carlo errors of the difference (ESS of a few hundred each)
        se = np.sqrt(a.var(("chain", "draw")) / 150 + b.var(("chain", "draw")) / 150)
        diff = np.abs(a.mean(("chain", "draw")) - b.mean(("chain", "draw")))
        assert bool((diff < 5 * se).all()), name


def test_effects_are_drawn_with_labels_and_the_check_is_reported(fits):
    fit = fits[0]
    post = fit.idata["posterior"]
    u = post["u|g"]
    assert u.attrs["draws"] == LAPLACE_DRAWS
    assert list(u.coords[u.dims[2]].values) == [f"g{j}" for j in range(10)]
    assert 0.0 <= post.attrs[LAPLACE_K] <= 0.7
    assert "Laplace approximation" in post.attrs["sampling_notes"]
    assert "Pareto k" in str(fit.summary())
    assert list(fit.ranef()["group"]) == [f"g{j}" for j in range(10)]


def test_a_failed_check_runs_the_model_with_the_effects_sampled(data, monkeypatch):
    monkeypatch.setattr(hierbayes.laplace_fit, "PARETO_K_MAX", -1.0)
    m = hb.Model("y ~ x + (1 | g)", data.iloc[:200], family="bernoulli", parameterization="laplace")
    fit = m.fit(draws=100, tune=100, chains=1, random_seed=1, progressbar=False)
    post = fit.idata["posterior"]
    assert "run again with those effects sampled" in post.attrs["sampling_notes"]
    assert "u|g" in post and post["u|g"].attrs.get("draws") != LAPLACE_DRAWS
    # the fit's model says what was sampled: the summary does not claim a Laplace integration
    assert "laplace" not in {c for how in fit.model.parameterization.values() for c in how}
    assert "Laplace" not in next(
        line for line in str(fit.summary()).splitlines() if line.startswith("Effects")
    )


def test_a_model_the_kernel_cannot_evaluate_samples_the_effects_and_says_so(data):
    """A prior the compiled density lacks builds the PyMC model, which samples the effects."""
    uniform = {"b|x": hb.Prior("Uniform", lower=-5, upper=5)}
    m = hb.Model(
        "y ~ x + (1 | g)",
        data.iloc[:200],
        family="bernoulli",
        parameterization="laplace",
        priors=uniform,
    )
    assert m.compiled_density() is None
    fit = m.fit(draws=100, tune=100, chains=1, random_seed=1, progressbar=False)
    assert fit.model.parameterization == {"g": ("noncentered",)}
    assert m.parameterization == {"g": ("laplace",)}  # the model itself is unchanged
    assert "Laplace" not in str(fit.summary())


@pytest.fixture(scope="module")
def crossed() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 480  # 8 x 6 cells of 10 rows
    a = np.repeat(np.arange(8), 60)
    b = np.tile(np.repeat(np.arange(6), 10), 8)
    x = rng.normal(size=n)
    eta = -0.2 + 0.7 * x + rng.normal(0, 0.8, 8)[a] + rng.normal(0, 0.6, 6)[b]
    return pd.DataFrame(
        {
            "a": [f"a{j}" for j in a],
            "b": [f"b{j}" for j in b],
            "x": x,
            "y": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
        }
    )


@pytest.fixture(scope="module")
def joint_fits(crossed):
    formula = "y ~ x + (1 | a) + (1 | b)"
    joint = hb.Model(
        formula, crossed, family="bernoulli", parameterization=dict.fromkeys("ab", "laplace")
    )
    sampled = hb.Model(formula, crossed, family="bernoulli", parameterization="noncentered")
    return joint.fit(**SETTINGS), sampled.fit(**SETTINGS)


def test_joint_laplace_posterior_agrees_with_sampled_effects(joint_fits):
    lap, ref = (f.idata["posterior"].to_dataset() for f in joint_fits)
    for name in ("b", "sd|a", "sd|b", "u|a", "u|b"):
        a, b = lap[name], ref[name]
        se = np.sqrt(a.var(("chain", "draw")) / 150 + b.var(("chain", "draw")) / 150)
        diff = np.abs(a.mean(("chain", "draw")) - b.mean(("chain", "draw")))
        assert bool((diff < 5 * se).all()), name


def test_joint_laplace_effects_are_labelled_checked_and_predict(joint_fits, crossed):
    fit = joint_fits[0]
    post = fit.idata["posterior"]
    for factor, J in (("a", 8), ("b", 6)):
        u = post[f"u|{factor}"]
        assert u.attrs["draws"] == LAPLACE_DRAWS
        assert list(u.coords[u.dims[2]].values) == [f"{factor}{j}" for j in range(J)]
    assert np.isfinite(post.attrs[LAPLACE_K]) and post.attrs[LAPLACE_K] <= 0.7  # kept
    assert "integrated out by a Laplace approximation (jointly)" in post.attrs["sampling_notes"]
    assert set(fit.ranef()["group"]) == {f"a{j}" for j in range(8)} | {f"b{j}" for j in range(6)}
    # the predicted mean of existing groups is each draw's inverse logit of b and both effects
    rows = crossed.iloc[:5]
    mu = fit.predict(rows).mean(("chain", "draw")).values
    b = post["b"]
    coef = b.dims[2]
    eta = b.sel({coef: "Intercept"}) + b.sel({coef: "x"}) * xr.DataArray(rows.x.values, dims="i")
    for factor in ("a", "b"):
        u = post[f"u|{factor}"].isel({post[f"u|{factor}"].dims[3]: 0})
        eta = eta + u.sel({u.dims[2]: xr.DataArray(rows[factor].values, dims="i")}).drop_vars(
            u.dims[2]
        )
    expected = (1 / (1 + np.exp(-eta))).mean(("chain", "draw")).values
    np.testing.assert_allclose(np.ravel(mu), expected, rtol=1e-10)


def test_a_failed_joint_check_runs_the_model_with_every_factor_sampled(crossed, monkeypatch):
    monkeypatch.setattr(hierbayes.laplace_fit, "PARETO_K_MAX", -1.0)
    m = hb.Model(
        "y ~ x + (1 | a) + (1 | b)",
        crossed.iloc[:240],
        family="bernoulli",
        parameterization=dict.fromkeys("ab", "laplace"),
    )
    fit = m.fit(draws=100, tune=100, chains=1, random_seed=1, progressbar=False)
    post = fit.idata["posterior"]
    assert "run again with those effects sampled (a: " in post.attrs["sampling_notes"]
    for factor in ("a", "b"):
        assert post[f"u|{factor}"].attrs.get("draws") != LAPLACE_DRAWS
        assert fit.model.parameterization[factor][0] in ("centered", "noncentered")


def test_a_failed_check_of_autos_joint_laplace_samples_expanded(monkeypatch):
    """auto integrates out nested factors whose upper groups mostly hold one lower group
    (hierbayes.build.auto_laplace); when the check fails they are sampled as auto samples them
    otherwise: expanded (hierbayes.build.expanded), and the note and the summary say so."""
    monkeypatch.setattr(hierbayes.laplace_fit, "PARETO_K_MAX", -1.0)
    rng = np.random.default_rng(4)
    site = np.repeat(np.arange(12), [1] * 8 + [3] * 4)  # 8 of 12 sites hold one plot
    plot = np.repeat(np.arange(site.size), 4)
    eta = 0.5 + rng.normal(0, 0.5, 12)[site[plot]] + rng.normal(0, 0.5, site.size)[plot]
    data = pd.DataFrame({"y": rng.poisson(np.exp(eta)), "site": site[plot], "plot": plot})
    m = hb.Model("y ~ 1 + (1 | site) + (1 | plot)", data, family="poisson")
    assert m.parameterization == {"site": ("laplace",), "plot": ("laplace",)}
    fit = m.fit(draws=100, tune=100, chains=1, random_seed=1, progressbar=False)
    assert fit.model.parameterization == {"site": ("expanded",), "plot": ("expanded",)}
    notes = fit.idata["posterior"].attrs["sampling_notes"]
    assert "sampled (site: expanded, plot: expanded)" in notes
    effects = next(line for line in str(fit.summary()).splitlines() if line.startswith("Effects"))
    assert "expanded" in effects and "Laplace" not in effects


def test_a_check_after_few_draws_still_has_a_pareto_tail(crossed):
    """20 draws give the check 200 weights each (density.laplace_check.CHECK_WEIGHTS): a finite
    Pareto k, where one weight a draw held too few for a tail and could not be checked."""
    m = hb.Model(
        "y ~ x + (1 | a) + (1 | b)",
        crossed.iloc[:240],
        family="bernoulli",
        parameterization=dict.fromkeys("ab", "laplace"),
    )
    fit = m.fit(draws=20, tune=100, chains=1, random_seed=1, progressbar=False)
    post = fit.idata["posterior"]
    assert np.isfinite(post.attrs[LAPLACE_K])
    assert "could not be checked" not in post.attrs["sampling_notes"]


def test_the_run_after_a_failed_check_keeps_the_mass_matrix_adaptation():
    """200 mothers of 2 bernoulli rows (hierbayes.density.adaptation): the run with the effects
    sampled adapts from the draws' variances, as the default fit of that design does."""
    rng = np.random.default_rng(0)
    mom = np.repeat(np.arange(200), 2)
    u = rng.normal(0, 6, 200)[mom]
    y = (rng.random(400) < 1 / (1 + np.exp(-u))).astype(int)
    data = pd.DataFrame({"y": y, "mom": mom.astype(str)})
    model = hb.Model("y ~ 1 + (1 | mom)", data, family="bernoulli", parameterization="laplace")
    post = xr.Dataset({"b": (("chain", "draw"), np.zeros((2, 10)))}, attrs={LAPLACE_K: 0.9})
    seen = []

    def run(density):
        seen.append(density.adaptation)
        return xr.DataTree.from_dict({"posterior": xr.Dataset(), "sample_stats": xr.Dataset()})

    _, fitted = hierbayes.laplace_fit.checked_laplace(
        model, xr.DataTree.from_dict({"posterior": post}), run
    )
    assert seen == ["draw_diag"]
    assert fitted.parameterization["mom"] != model.parameterization["mom"]
