"""fit.sensitivity(): power-scaling flags a tight wrong prior and passes the default priors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.errors import SummaryError
from hierbayes.predict.prior import log_prior
from hierbayes.summaries.sensitivity import CONFLICT, WEAK_LIKELIHOOD, log_prior_tree


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(12), 10)
    x = rng.normal(size=g.size)
    y = 2 + 1.0 * x + rng.normal(0, 0.7, 12)[g] + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{j}" for j in g]})


def _fit(data: pd.DataFrame, priors=None, draws: int = 300) -> hb.Fit:
    model = hb.Model("y ~ x + (1 | g)", data=data, priors=priors)
    return quiet_fit(model, draws=draws, tune=300, chains=2, random_seed=1)


def test_default_priors_raise_no_flag(data: pd.DataFrame) -> None:
    table = _fit(data).sensitivity()
    assert list(table.index) == ["Intercept", "x", "sd|g[Intercept]", "sigma"]
    assert (table["diagnosis"] == "-").all()
    assert (table["prior"] < 0.05).all()
    assert table.loc["x", "likelihood"] >= 0.05


def test_tight_wrong_prior_is_a_prior_data_conflict(data: pd.DataFrame) -> None:
    # the data say b[x] is about 1; a Normal(-1, 0.1) prior pulls it to about -0.4
    fit = _fit(data, {"b|x": hb.Prior("Normal", mu=-1.0, sigma=0.1)})
    table = fit.sensitivity()
    assert table.loc["x", "diagnosis"] == CONFLICT
    assert table.loc["x", "prior"] >= 0.05 and table.loc["x", "likelihood"] >= 0.05


def test_tight_right_prior_is_a_strong_prior(data: pd.DataFrame) -> None:
    # the prior (SD 0.01) is 60 times as precise as the data (posterior SD of b[x] under the
    # default prior 0.079), so the likelihood sensitivity is small, but its importance-sampling
    # estimate is noisy: over seeds 1-8 it was 0.017-0.061 (mean 0.03) with 2 x 300 draws, one
    # of them above the threshold 0.05, and 0.014-0.036 (mean 0.024, SD 0.007) with 2 x 1000
    # draws, where 0.05 is more than 3 SDs away; the prior sensitivity was 0.08-0.11
    fit = _fit(data, {"b|x": hb.Prior("Normal", mu=1.0, sigma=0.01)}, draws=1000)
    table = fit.sensitivity()
    assert table.loc["x", "diagnosis"] == WEAK_LIKELIHOOD


def test_log_prior_group(ri_sim_fit) -> None:
    idata = log_prior_tree(ri_sim_fit)
    expected = log_prior(
        ri_sim_fit.design, ri_sim_fit.model.prior_values, ri_sim_fit.idata["posterior"].to_dataset()
    )
    assert set(idata["log_prior"].data_vars) == {"Intercept", "b|x", "sd|g", "sigma"}
    assert np.allclose(idata["log_prior"]["sigma"].values, expected["sigma"].values)
    assert "log_prior" not in ri_sim_fit.idata.children  # the fit itself is left as it was


def test_bad_arguments_are_errors(ri_sim_fit) -> None:
    with pytest.raises(SummaryError, match="threshold must be positive"):
        ri_sim_fit.sensitivity(threshold=0)
    with pytest.raises(SummaryError, match="alphas must bracket 1"):
        ri_sim_fit.sensitivity(alphas=(1.01, 1.02))
