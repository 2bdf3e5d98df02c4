"""Offsets through the whole pipeline, on real data against lme4 and glmmTMB.

Mmmec (mlmRev): melanoma deaths in 354 counties of 78 regions, with the expected deaths as the
exposure: ``deaths ~ uvb + offset(log(expected)) + (1 | region)``, poisson. The reference
numbers come from ``tests/reference_offset.R`` (lme4::glmer, Laplace; glmmTMB agrees to 1e-5),
which also writes ``tests/data/mmmec.csv``; R is not needed to run these tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.errors import MissingColumnError

DATA = Path(__file__).parent / "data" / "mmmec.csv"
FORMULA = "deaths ~ uvb + offset(np.log(expected)) + (1 | region)"

# lme4::glmer (tests/reference_offset.R)
LME4_FIXEF = {"Intercept": -0.138594, "uvb": -0.034430}
LME4_SE = {"Intercept": 0.049341, "uvb": 0.010023}
LME4_SD_REGION = 0.411922


@pytest.fixture(scope="module")
def mmmec() -> pd.DataFrame:
    return pd.read_csv(DATA, dtype={"region": str})


@pytest.fixture(scope="module")
def fit(mmmec) -> hb.Fit:
    model = hb.Model(FORMULA, mmmec, family="poisson")
    return quiet_fit(model, draws=400, tune=400, chains=2, random_seed=11)


@pytest.mark.slow
def test_agrees_with_lme4(fit):
    b = fit.idata["posterior"]["b"]
    for term, value in LME4_FIXEF.items():
        draws = b.sel(term=term).values.ravel()
        mean, sd = draws.mean(), draws.std()
        # posterior mean within 0.3 posterior SD of the ML estimate (Monte Carlo error of the
        # mean with 800 draws is about 0.05 SD), and the posterior SD within 20% of the SE
        assert abs(mean - value) < 0.3 * sd, (term, mean, value, sd)
        assert sd == pytest.approx(LME4_SE[term], rel=0.2)
    sd_region = fit.idata["posterior"]["sd|region"].values.ravel()
    lo, hi = np.quantile(sd_region, [0.05, 0.95])
    assert lo < LME4_SD_REGION < hi


@pytest.mark.slow
def test_an_offset_column_gives_the_same_model(mmmec, fit):
    data = mmmec.assign(logexp=np.log(mmmec.expected))
    other = hb.Model("deaths ~ uvb + (1 | region)", data, family="poisson", offset="logexp")
    np.testing.assert_allclose(other.design.offset, fit.design.offset, rtol=1e-14)
    from hierbayes.density.layout import make_layout

    a = make_layout(fit.design, fit.model.prior_values, fit.model.parameterization)
    b = make_layout(other.design, other.prior_values, other.parameterization)
    x = a.center + 0.1
    assert a.logp_grad(x)[0] == pytest.approx(b.logp_grad(x)[0], rel=1e-12)


@pytest.mark.slow
def test_predictions_take_the_offset_from_newdata(mmmec, fit):
    new = mmmec.iloc[:3].copy()
    linear = fit.predict(new, kind="linear", groups="population")
    b = fit.idata["posterior"]["b"].transpose("chain", "draw", "term").values
    expected = b[..., 0:1] + b[..., 1:2] * new.uvb.values + np.log(new.expected.values)
    np.testing.assert_allclose(np.asarray(linear), expected, rtol=1e-12)
    doubled = fit.predict(new.assign(expected=2 * new.expected), kind="mean", groups="population")
    mean = fit.predict(new, kind="mean", groups="population")
    np.testing.assert_allclose(np.asarray(doubled), 2 * np.asarray(mean), rtol=1e-12)
    with pytest.raises(MissingColumnError, match=r"Column 'expected' of the offset"):
        fit.predict(new.drop(columns="expected"), kind="mean")


@pytest.mark.slow
def test_new_groups_take_the_offset_from_the_given_rows(fit):
    rows = pd.DataFrame({"uvb": [0.0, 0.0], "expected": [10.0, 40.0]})
    sim = fit.simulate_new_groups(50, x=rows, observations=True, random_seed=2)
    table = sim.data
    mean = {r: table.loc[table.row == r, "mean"].to_numpy() for r in (0, 1)}
    ratio = mean[1] / mean[0]
    np.testing.assert_allclose(ratio, 4.0, rtol=1e-12)
    with pytest.raises(MissingColumnError, match=r"Column 'expected' of the offset"):
        fit.simulate_new_groups(5, x=rows.drop(columns="expected"), random_seed=2)


@pytest.mark.slow
def test_log_likelihood_equations_and_saving_keep_the_offset(fit, tmp_path):
    from scipy import stats

    from hierbayes.loglik import pointwise_log_likelihood

    table = pointwise_log_likelihood(fit.idata, fit.design)["log_likelihood"]["deaths"]
    post = fit.idata["posterior"]
    b = post["b"].isel(chain=0, draw=0).sel(term=["Intercept", "uvb"]).values
    u = post["u|region"].isel(chain=0, draw=0).values[:, 0]
    d = fit.design
    eta = d.X @ b + u[d.blocks[0].codes] + d.offset
    expected = stats.poisson.logpmf(d.y, np.exp(eta))
    np.testing.assert_allclose(table.isel(chain=0, draw=0).values, expected, rtol=1e-10)
    assert np.isfinite(fit.loo()["elpd"])
    text = str(fit.model.equations())
    assert "offset(np.log(expected))" in text
    path = fit.save(tmp_path / "mmmec")
    again = hb.load(path)
    np.testing.assert_array_equal(again.design.offset, fit.design.offset)
    np.testing.assert_allclose(
        np.asarray(again.predict(kind="mean")), np.asarray(fit.predict(kind="mean"))
    )
