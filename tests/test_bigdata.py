"""Gaussian models fitted from a Dask DataFrame or parquet path (hierbayes.bigdata) against the
in-memory path: the same statistics give the same draws, bit for bit."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from helpers import SLEEP_FORMULA, quiet_fit

import hierbayes as hb
from hierbayes.bigdata import StatisticsModel
from hierbayes.density import codes as K
from hierbayes.density.layout import make_layout
from hierbayes.errors import (
    ArgumentError,
    DataError,
    FamilyError,
    MissingValueError,
    ModelSpecError,
    RowsNotKeptError,
)

STATS = (K.A_SS_WTW, K.A_SS_WTY, K.A_SS_YTY, K.A_SS_ZTZ, K.A_SS_ZTW, K.A_SS_ZTY)
SETTINGS = {"draws": 150, "tune": 150, "chains": 2, "random_seed": 5, "progressbar": False}
PARAMS = ("b", "sigma", "sd|Subject", "cor|Subject", "u|Subject")


def _layout(model: hb.Model):
    if isinstance(model, StatisticsModel):
        return model._layout
    return make_layout(model.design, model.prior_values, model.parameterization)


def _simulated() -> pd.DataFrame:
    """40 groups, a three-level arm whose last level occurs only in the last rows, an offset."""
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(40), rng.integers(2, 12, size=40))
    n = g.size
    arm = np.where(np.arange(n) < 0.8 * n, rng.choice(["a", "b"], size=n), "c")
    x = rng.normal(3.0, 2.0, size=n)
    off = rng.normal(size=n)
    u = rng.normal(0.0, 1.5, size=40)
    y = 1.0 + 0.5 * x + (arm == "b") - (arm == "c") + u[g] + off + rng.normal(size=n)
    return pd.DataFrame({"y": y, "x": x, "arm": arm, "off": off, "g": [f"s{j}" for j in g]})


@pytest.fixture(scope="module")
def fits(dask_fits: dict[str, hb.Fit]) -> dict[str, hb.Fit]:
    return dask_fits


def _draws(fit: hb.Fit, name: str) -> np.ndarray:
    return fit.idata["posterior"][name].values


def test_one_partition_gives_the_in_memory_draws_bit_for_bit(fits: dict[str, hb.Fit]) -> None:
    assert isinstance(fits["one"].model, StatisticsModel)
    for name in PARAMS:
        np.testing.assert_array_equal(_draws(fits["one"], name), _draws(fits["memory"], name))


def test_parquet_gives_the_draws_of_the_same_partitions(fits: dict[str, hb.Fit]) -> None:
    for name in PARAMS:
        np.testing.assert_array_equal(_draws(fits["parquet"], name), _draws(fits["three"], name))


def test_several_partitions_agree_with_memory_within_monte_carlo_error(
    fits: dict[str, hb.Fit],
) -> None:
    # sums in another order differ in the last bits, and NUTS trajectories then part ways:
    # the posteriors agree within the Monte Carlo error of the two means
    import arviz as az

    for name in ("b", "sigma", "sd|Subject"):
        a, b = fits["three"].idata["posterior"][name], fits["memory"].idata["posterior"][name]
        se = np.hypot(az.mcse(a.to_dataset())[name].values, az.mcse(b.to_dataset())[name].values)
        diff = np.abs(a.mean(("chain", "draw")).values - b.mean(("chain", "draw")).values)
        assert np.all(diff < 5 * se), (name, diff, se)


def test_statistics_equal_in_memory_ones(sleep: pd.DataFrame) -> None:
    memory = _layout(hb.Model(SLEEP_FORMULA, data=sleep))
    dask = _layout(hb.Model(SLEEP_FORMULA, data=dd.from_pandas(sleep, npartitions=4)))
    for k in STATS:
        a, b = memory.arrays[k], dask.arrays[k]
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * np.abs(a).max())
    np.testing.assert_array_equal(dask.means, memory.means)
    np.testing.assert_array_equal(dask.center, memory.center)


def test_default_priors_equal_in_memory_ones(sleep: pd.DataFrame) -> None:
    memory = hb.Model(SLEEP_FORMULA, data=sleep)
    dask = hb.Model(SLEEP_FORMULA, data=dd.from_pandas(sleep, npartitions=4))
    pd.testing.assert_frame_equal(dask.priors, memory.priors)
    simulated = _simulated()
    formula = "y ~ x + arm + (1 + x | g)"
    memory = hb.Model(formula, data=simulated, offset="off")
    dask = hb.Model(formula, data=dd.from_pandas(simulated, npartitions=3), offset="off")
    pd.testing.assert_frame_equal(dask.priors, memory.priors)


def test_categorical_levels_and_offset_encode_as_in_memory() -> None:
    simulated = _simulated()
    formula = "y ~ x + arm + (1 + x | g)"
    memory = hb.Model(formula, data=simulated, offset="off")
    one = hb.Model(formula, data=dd.from_pandas(simulated, npartitions=1), offset="off")
    three = hb.Model(formula, data=dd.from_pandas(simulated, npartitions=3), offset="off")
    assert three.design.fixed_columns == memory.design.fixed_columns
    assert three.design.blocks[0].levels == memory.design.blocks[0].levels
    np.testing.assert_array_equal(three.design.blocks[0].counts, memory.design.blocks[0].counts)
    a, b, c = _layout(memory), _layout(one), _layout(three)
    for k in STATS:  # one partition: the same sums; three: the same to rounding
        np.testing.assert_array_equal(b.arrays[k], a.arrays[k])
        np.testing.assert_allclose(c.arrays[k], a.arrays[k], atol=1e-12 * np.abs(a.arrays[k]).max())
    x = a.center + 0.05
    assert c.logp_grad(x)[0] == pytest.approx(a.logp_grad(x)[0], rel=1e-12)
    # one slope: its mean summed as the in-memory path sums it (one column alone)
    sleep, formula = hb.datasets.load("sleepstudy"), "Reaction ~ np.log1p(Days) + (1 | Subject)"
    memory = hb.Model(formula, data=sleep)
    one = hb.Model(formula, data=dd.from_pandas(sleep, npartitions=1))
    a, b = _layout(memory), _layout(one)
    np.testing.assert_array_equal(b.means, a.means)
    for k in STATS:
        np.testing.assert_array_equal(b.arrays[k], a.arrays[k])


def test_summaries_and_predictions_match_the_in_memory_fit(
    fits: dict[str, hb.Fit], sleep: pd.DataFrame
) -> None:
    one, memory = fits["one"], fits["memory"]
    pd.testing.assert_frame_equal(one.ranef(), memory.ranef())
    pd.testing.assert_frame_equal(one.varcorr(), memory.varcorr())
    pd.testing.assert_frame_equal(one.icc(), memory.icc())
    new = sleep.iloc[[0, 15, 40]].assign(Days=[1.5, 3.0, 12.0])
    np.testing.assert_array_equal(one.predict(new).values, memory.predict(new).values)
    assert "180 observations" in str(one.summary())


def _nested_data() -> pd.DataFrame:
    """Classes nested in 12 schools, a varying slope at both levels."""
    rng = np.random.default_rng(2)
    school = np.repeat(np.arange(12), 30)
    cls = school * 10 + rng.integers(0, 4, size=school.size)
    x = rng.normal(size=school.size)
    u_school, u_class = rng.normal(0, 1, 12), rng.normal(0, 0.7, 120)
    y = 1 + 0.5 * x + u_school[school] + u_class[cls % 120] + rng.normal(size=school.size)
    return pd.DataFrame(
        {"y": y, "x": x, "school": [f"s{s}" for s in school], "cls": [f"c{c}" for c in cls]}
    )


def test_nested_factors_give_the_in_memory_draws_bit_for_bit() -> None:
    data, formula = _nested_data(), "y ~ x + (1 + x | school/cls)"
    memory = hb.Model(formula, data=data)
    one = hb.Model(formula, data=dd.from_pandas(data, npartitions=1))
    three = hb.Model(formula, data=dd.from_pandas(data, npartitions=3))
    pd.testing.assert_frame_equal(three.priors, memory.priors)
    a, c = _layout(memory), _layout(three)
    for k in STATS:
        np.testing.assert_allclose(c.arrays[k], a.arrays[k], atol=1e-12 * np.abs(a.arrays[k]).max())
    for block, expected in zip(three.design.blocks, memory.design.blocks, strict=True):
        np.testing.assert_array_equal(block.counts, expected.counts)
    settings = {**SETTINGS, "draws": 100, "tune": 100}
    fit_memory, fit_one = quiet_fit(memory, **settings), quiet_fit(one, **settings)
    for name in ("b", "sigma", "sd|school", "sd|school:cls", "u|school", "u|school:cls"):
        np.testing.assert_array_equal(_draws(fit_one, name), _draws(fit_memory, name))
    pd.testing.assert_frame_equal(fit_one.icc(), fit_memory.icc())
    # R² from the leaves' sums of squares, with every level's effects
    pd.testing.assert_frame_equal(fit_one.r2(), fit_memory.r2(), rtol=1e-9)


def test_row_level_outputs_are_refused_with_how_to_get_them(fits: dict[str, hb.Fit]) -> None:
    fit = fits["three"]
    with pytest.raises(RowsNotKeptError, match=r"fit\.loo\(\).*ddf\.sample"):
        fit.loo()
    with pytest.raises(RowsNotKeptError, match=r"needs the rows.*sample"):
        fit.posterior_predictive()
    with pytest.raises(RowsNotKeptError, match="pointwise log-likelihood"):
        fit.model.fit(log_likelihood=True)
    with pytest.raises(RowsNotKeptError, match=r"rebuilt from its training rows.*to_zarr"):
        fit.save("unused.hb")
    assert "log_likelihood" not in fit.idata.children
    with pytest.raises(RowsNotKeptError, match=r"conditional_effects\('Days'\) spans.*predict"):
        fit.conditional_effects("Days")


def test_models_that_need_rows_are_refused(sleep: pd.DataFrame, tmp_path) -> None:
    ddf = dd.from_pandas(sleep.assign(k=(sleep.Reaction > 300).astype(int)), npartitions=2)
    with pytest.raises(FamilyError, match=r"gaussian models.*bernoulli"):
        hb.Model("k ~ Days + (1 | Subject)", data=ddf, family="bernoulli")
    with pytest.raises(ModelSpecError, match=r"factors that nest.*Subject, Days are crossed"):
        hb.Model("Reaction ~ Days + (1 | Subject) + (1 | Days)", data=ddf)
    with pytest.raises(ModelSpecError, match=r"'scale\(Days\)'.*compute the column"):
        hb.Model("Reaction ~ scale(Days) + (1 | Subject)", data=ddf)
    with pytest.raises(ModelSpecError, match=r"integrated out.*noncentered"):
        hb.Model(SLEEP_FORMULA, data=ddf, parameterization="noncentered")
    with pytest.raises(ArgumentError, match=r"weights= is not available with Dask"):
        hb.Model(SLEEP_FORMULA, data=ddf, weights="Days")
    with pytest.raises(ArgumentError, match=r"missing='drop'.*dropna"):
        hb.Model(SLEEP_FORMULA, data=ddf, missing="drop")
    with pytest.raises(ArgumentError, match="not a parquet file"):
        hb.Model(SLEEP_FORMULA, data="/nonexistent/rows.parquet")
    sleep.to_csv(tmp_path / "sleep.csv")
    with pytest.raises(ArgumentError, match=r"sleep\.csv' as parquet"):
        hb.Model(SLEEP_FORMULA, data=tmp_path / "sleep.csv")
    holes = sleep.assign(Days=sleep.Days.where(sleep.index != 170))
    with pytest.raises(MissingValueError, match=r"'Days' has 1 missing.*dropna"):
        hb.Model(SLEEP_FORMULA, data=dd.from_pandas(holes, npartitions=3))


def test_data_sorted_by_a_predictor_fit_as_in_memory(
    sleep: pd.DataFrame, fits: dict[str, hb.Fit]
) -> None:
    # the skeleton (first rows + one row per group) has Days == 0 on every row: the rank is
    # decided on the whole data, which is fine
    import arviz as az

    ordered = sleep.sort_values("Days", kind="stable").reset_index(drop=True)
    ddf = dd.from_pandas(ordered, npartitions=10)
    assert ddf.partitions[0].compute()["Days"].nunique() == 1
    model = hb.Model(SLEEP_FORMULA, data=ddf)
    memory = _layout(hb.Model(SLEEP_FORMULA, data=sleep))
    for k in STATS:
        a, b = memory.arrays[k], model._layout.arrays[k]
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * np.abs(a).max())
    pd.testing.assert_frame_equal(model.priors, hb.Model(SLEEP_FORMULA, data=sleep).priors)
    fit = quiet_fit(model, **SETTINGS)
    a, b = fit.idata["posterior"]["b"], fits["memory"].idata["posterior"]["b"]
    se = np.hypot(az.mcse(a.to_dataset())["b"].values, az.mcse(b.to_dataset())["b"].values)
    diff = np.abs(a.mean(("chain", "draw")).values - b.mean(("chain", "draw")).values)
    assert np.all(diff < 5 * se), (diff, se)


def test_collinear_column_of_the_whole_data_is_refused(sleep: pd.DataFrame) -> None:
    data = sleep.assign(Weeks=sleep["Days"] / 7.0 + 1.0)
    with pytest.raises(DataError, match=r"'Weeks' is a linear combination .*\(Intercept, Days\)"):
        hb.Model("Reaction ~ Days + Weeks + (1 | Subject)", data=data)
    ordered = data.sort_values("Days", kind="stable").reset_index(drop=True)
    with pytest.raises(DataError, match=r"'Weeks' is a linear combination .*\(Intercept, Days\)"):
        hb.Model("Reaction ~ Days + Weeks + (1 | Subject)", data=dd.from_pandas(ordered, 10))
