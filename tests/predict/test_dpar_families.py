"""A dispersion that varies by row (``shape=`` of the negative binomial) and a lognormal's
``sigma=`` through the fitted pipeline: predict(dpar=...), the mean, the pointwise
log-likelihood, simulated new groups, tables, equations and saved fits read each row's value."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit
from scipy import stats

import hierbayes as hb
from hierbayes.errors import ArgumentError, FileFormatError
from hierbayes.io import MODEL_FILE

DATA = Path(__file__).parent.parent / "data"


def _flat(da):
    return np.asarray(da.transpose("chain", "draw", ...).values).reshape(-1, *da.shape[2:])


@pytest.fixture(scope="module")
def nb_fit() -> hb.Fit:
    data = pd.read_csv(DATA / "salamanders.csv")
    model = hb.Model(
        "count ~ mined + (1 | site)", data, family="negativebinomial", shape="~ mined + (1 | spp)"
    )
    return quiet_fit(model, draws=100, tune=200, chains=2, random_seed=3)


@pytest.fixture(scope="module")
def ln_fit() -> hb.Fit:
    rng = np.random.default_rng(8)
    g = np.repeat(np.arange(8), 15)
    x = rng.normal(size=g.size)
    sigma = np.exp(-0.7 + 0.4 * x + rng.normal(0, 0.3, 8)[g])
    y = np.exp(1.0 + 0.5 * x + rng.normal(0, 0.4, 8)[g] + sigma * rng.normal(size=g.size))
    data = pd.DataFrame({"y": y, "x": x, "g": g})
    model = hb.Model("y ~ x + (1 | g)", data, family="lognormal", sigma="~ x + (1 | g)")
    return quiet_fit(model, draws=100, tune=200, chains=2, random_seed=4)


def _shape_by_hand(fit: hb.Fit) -> np.ndarray:
    post, dpar = fit.idata["posterior"], fit.design.dpar
    b = _flat(post["b_shape"].sel(shape_term=list(dpar.labels)))
    u = _flat(post["u|shape_spp"].sel(spp=list(dpar.blocks[0].levels)))[..., 0]
    return np.exp(b @ dpar.X.T + u[:, dpar.blocks[0].codes])


def test_dpar_shape_is_exp_of_its_linear_predictor(nb_fit: hb.Fit) -> None:
    got = nb_fit.predict(dpar="shape")
    np.testing.assert_allclose(_flat(got), _shape_by_hand(nb_fit), rtol=1e-12)
    assert got.name == "shape"
    with pytest.raises(ArgumentError, match=r"dpar='sigma'.*'shape' for negativebinomial"):
        nb_fit.predict(dpar="sigma")


def test_pointwise_log_likelihood_uses_each_rows_shape(nb_fit: hb.Fit) -> None:
    table = _flat(nb_fit.idata["log_likelihood"]["count"])
    mu, phi = _flat(nb_fit.predict(kind="mean")), _shape_by_hand(nb_fit)
    expected = stats.nbinom.logpmf(nb_fit.design.y, phi, phi / (phi + mu))
    np.testing.assert_allclose(table, expected, rtol=1e-9)
    assert np.isfinite(nb_fit.loo().elpd)


def test_predictive_draws_and_new_groups_read_the_shape(nb_fit: hb.Fit) -> None:
    pps = nb_fit.predict(kind="pps", random_seed=1)
    assert pps.shape == (2, 100, nb_fit.design.n_obs) and (pps.values >= 0).all()
    # the spread of the draws follows each row's shape: Var = E[μ + μ²/φ] + Var(μ) over draws
    # (measured: 1% off; with one shape for all rows, exp(shape_Intercept), 37% off)
    mu, phi = _flat(nb_fit.predict(kind="mean")), _shape_by_hand(nb_fit)
    expected = (mu + mu**2 / phi).mean() + mu.var(axis=0).mean()
    assert _flat(pps).var(axis=0).mean() == pytest.approx(expected, rel=0.1)
    ppc = nb_fit.posterior_predictive(random_seed=1)["posterior_predictive"]["count"]
    assert ppc.shape == pps.shape
    rows = pd.DataFrame({"mined": ["yes", "no"]})
    sim = nb_fit.simulate_new_groups(50, x=rows, observations=True, random_seed=2).data
    post = nb_fit.idata["posterior"]["b_shape"].values
    chain, draw = sim["chain"].to_numpy(), sim["draw"].to_numpy()
    mined = (sim["mined"] == "yes").to_numpy(dtype=float)
    # new sites: no effect of spp on the shape (its average species), mined's effect on it
    expected = np.exp(post[chain, draw, 0] + post[chain, draw, 1] * mined)
    np.testing.assert_allclose(sim["shape"], expected, rtol=1e-12)
    assert (sim["count"] >= 0).all()


def test_tables_equations_and_diagnostics_name_the_shape(nb_fit: hb.Fit) -> None:
    fixef = nb_fit.fixef()
    assert {"shape_Intercept", "shape_mined[T.yes]"} <= set(fixef.index)
    varcorr = nb_fit.varcorr()
    assert ((varcorr["factor"] == "spp") & (varcorr["term"] == "shape_Intercept")).any()
    text = str(nb_fit.model.equations())
    assert "NegBinomial(λ_ij, φ_i)" in text
    assert "log φ_i = shape_Intercept + shape_mined[T.yes]·mined[T.yes]_i + s_j^spp[i]" in text
    assert "Shape:" in text
    assert "shape_mined[T.yes] (log shape)" in set(nb_fit.diagnostics.table["meaning"])
    summary = str(nb_fit.summary())
    assert "shape_mined[T.yes]" in summary and not re.search(r"^\s*shape\s", summary, re.M)


def test_saved_fit_keeps_the_shape_formula(nb_fit: hb.Fit, tmp_path: Path) -> None:
    nb_fit.save(tmp_path / "fit")
    meta = json.loads((tmp_path / "fit" / MODEL_FILE).read_text())
    assert meta["shape"] == "~ mined + (1 | spp)" and "sigma" not in meta
    loaded = hb.load(tmp_path / "fit")
    assert loaded.model.sigma_spec.formula == "~ mined + (1 | spp)"
    np.testing.assert_array_equal(
        loaded.predict(dpar="shape").values, nb_fit.predict(dpar="shape").values
    )
    meta["shape"] = "~ __import__('os').system('true')"
    (tmp_path / "fit" / MODEL_FILE).write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match=r"bad 'shape'.*not an allowed function"):
        hb.load(tmp_path / "fit")


def test_lognormal_mean_reads_each_rows_sigma(ln_fit: hb.Fit) -> None:
    linear = _flat(ln_fit.predict(kind="linear"))
    sigma = _flat(ln_fit.predict(dpar="sigma"))
    mean = _flat(ln_fit.predict(kind="mean"))
    np.testing.assert_allclose(mean, np.exp(linear + sigma**2 / 2), rtol=1e-12)
    new = pd.DataFrame({"x": [0.0, 1.0], "g": [0, 0]})
    sim = ln_fit.simulate_new_groups(20, x=new[["x"]], observations=True, random_seed=5).data
    np.testing.assert_allclose(sim["mean"], np.exp(sim["linear"] + sim["sigma"] ** 2 / 2))
    with pytest.raises(ArgumentError, match=r"groups='marginal'.*sigma='~ x \+ \(1 \| g\)'"):
        ln_fit.predict(new, groups="marginal")


def test_pooling_weighs_each_row_with_its_own_shape(nb_fit: hb.Fit) -> None:
    from hierbayes.summaries.dpar import dpar_working_weights

    eta = np.linspace(-1.0, 1.0, nb_fit.design.n_obs)
    w = dpar_working_weights(nb_fit, eta, {})
    phi = _shape_by_hand(nb_fit).mean(axis=0)  # the posterior mean of each row's shape
    mu = np.exp(eta)
    np.testing.assert_allclose(w, mu / (1 + mu / phi), rtol=1e-10)
    assert len(nb_fit.pooling()) == 23


def _r2_by_hand(y: np.ndarray, mu: np.ndarray) -> float:
    var_fit = mu.var(axis=1, ddof=1)
    return float(np.mean(var_fit / (var_fit + (y - mu).var(axis=1, ddof=1))))


def test_effects_r2_and_lines_read_each_rows_sigma(ln_fit: hb.Fit) -> None:
    post, design = ln_fit.idata["posterior"], ln_fit.design
    b = _flat(post["b"].sel(term=["Intercept", "x"]))
    bs = _flat(post["b_sigma"].sel(sigma_term=["sigma_Intercept", "sigma_x"]))
    # the grid: group effects on the mean and on log sigma at zero (brms's re_formula = NA)
    effects = ln_fit.conditional_effects("x")
    x = effects["x"].to_numpy()
    sigma = np.exp(bs[:, :1] + bs[:, 1:] * x)
    mean = np.exp(b[:, :1] + b[:, 1:] * x + sigma**2 / 2)
    np.testing.assert_allclose(effects["mean"], mean.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(effects["sd"], mean.std(axis=0, ddof=1), rtol=1e-8)
    # R²: the training rows' means, with (conditional) and without (marginal) group effects
    y = design.y
    conditional = _flat(ln_fit.predict(kind="mean"))
    X = np.column_stack([np.ones(design.n_obs), design.data["x"]])
    marginal = np.exp(b @ X.T + np.exp(bs @ X.T) ** 2 / 2)
    r2 = ln_fit.r2()
    assert r2.loc["conditional", "mean"] == pytest.approx(_r2_by_hand(y, conditional), rel=1e-10)
    assert r2.loc["marginal", "mean"] == pytest.approx(_r2_by_hand(y, marginal), rel=1e-10)
    # each group's line reads its own sigma: exp(b0 + u_j + b1 x + (σ_j(x))² / 2)
    lines = ln_fit.group_lines("x", groups=[3])
    u = _flat(post["u|g"].sel(g="3"))[:, 0]
    us = _flat(post["u|sigma_g"].sel(g="3"))[:, 0]
    x = lines["x"].to_numpy()
    sigma = np.exp(bs[:, :1] + us[:, None] + bs[:, 1:] * x)
    line = np.exp(b[:, :1] + u[:, None] + b[:, 1:] * x + sigma**2 / 2)
    np.testing.assert_allclose(lines["mean"], line.mean(axis=0), rtol=1e-10)
    population = np.exp(b[:, :1] + b[:, 1:] * x + np.exp(bs[:, :1] + bs[:, 1:] * x) ** 2 / 2)
    np.testing.assert_allclose(lines["population"], population.mean(axis=0), rtol=1e-10)


def test_effects_and_r2_of_a_modelled_shape(nb_fit: hb.Fit) -> None:
    # the negative binomial's mean does not read its shape: exp(eta) on the grid and the rows
    post = nb_fit.idata["posterior"]
    effects = nb_fit.conditional_effects("mined")
    b = _flat(post["b"].sel(term=list(nb_fit.design.fixed_columns)))
    X = np.column_stack([np.ones(len(effects)), effects["mined"] == "yes"])
    np.testing.assert_allclose(effects["mean"], np.exp(b @ X.T).mean(axis=0), rtol=1e-10)
    mu = _flat(nb_fit.predict(kind="mean"))
    r2 = nb_fit.r2()
    assert r2.loc["conditional", "mean"] == pytest.approx(_r2_by_hand(nb_fit.design.y, mu))
