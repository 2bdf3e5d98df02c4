"""Shared, session-scoped fitted models: each real model is compiled and sampled once."""

from __future__ import annotations

import pandas as pd
import pytest
from fakes import tiny_data as _tiny_data
from fakes import tiny_fit as _tiny_fit
from fakes import tiny_model as _tiny_model
from helpers import HSB_FORMULA, SLEEP_FORMULA, quiet_fit, simulate_random_intercept

import hierbayes as hb


@pytest.fixture(scope="session")
def sleep() -> pd.DataFrame:
    return hb.datasets.load("sleepstudy")


@pytest.fixture(scope="session")
def sleep_fit(sleep: pd.DataFrame) -> hb.Fit:
    model = hb.Model(SLEEP_FORMULA, data=sleep)
    return quiet_fit(model, draws=500, tune=500, chains=4, random_seed=11)


@pytest.fixture(scope="session")
def sleep_noncentered_fit(sleep: pd.DataFrame) -> hb.Fit:
    """sleepstudy in the non-centred parameterisation, to compare the others with."""
    model = hb.Model(SLEEP_FORMULA, data=sleep, parameterization="noncentered")
    return quiet_fit(model, draws=1000, tune=1000, chains=4, random_seed=3)


@pytest.fixture(scope="session")
def hsb_students() -> pd.DataFrame:
    return hb.datasets.load("hsb")


@pytest.fixture(scope="session")
def hsb_fit(hsb_students: pd.DataFrame) -> hb.Fit:
    schools = hb.datasets.load("hsb_schools")
    model = hb.Model(
        HSB_FORMULA,
        data=hsb_students.drop(columns=["meanses", "sector"]),
        level2={"school": schools},
    )
    return quiet_fit(model, draws=1000, tune=1000, chains=4, random_seed=1)


@pytest.fixture(scope="session")
def radon_fit() -> hb.Fit:
    """Radon, varying intercepts by county with a county-level predictor (2 x 300 draws)."""
    model = hb.Model(
        "log_radon ~ basement + uranium + (1 | county)", data=hb.datasets.load("radon")
    )
    return quiet_fit(model, draws=300, tune=300, chains=2, random_seed=5)


@pytest.fixture(scope="session")
def ri_sim() -> tuple[pd.DataFrame, dict[str, float]]:
    """Simulated random-intercept data: known tau and sigma, 40 groups of 1 to 120 rows."""
    return simulate_random_intercept(seed=2024)


@pytest.fixture(scope="session")
def ri_sim_fit(ri_sim: tuple[pd.DataFrame, dict[str, float]]) -> hb.Fit:
    data, _ = ri_sim
    model = hb.Model("y ~ x + (1 | g)", data=data)
    return quiet_fit(model, draws=500, tune=500, chains=2, random_seed=3)


@pytest.fixture(scope="session")
def hsb_small_fit() -> hb.Fit:
    """HSB's cross-level model on every fourth school (40 schools, 1,839 students), 2 x 200
    draws: the model of the workflow tests (effects, averages, hypotheses, tables)."""
    students = hb.datasets.load("hsb")
    schools = sorted(students["school"].unique())[::4]
    model = hb.Model(HSB_FORMULA, data=students[students["school"].isin(schools)])
    return quiet_fit(model, draws=200, tune=200, chains=2, random_seed=1)


@pytest.fixture(scope="session")
def cbpp_fit() -> hb.Fit:
    """cbpp, binomial with a varying intercept by herd (2 x 200 draws)."""
    model = hb.Model(
        "incidence | trials(size) ~ C(period) + (1 | herd)",
        data=hb.datasets.load("cbpp"),
        family="binomial",
    )
    return quiet_fit(model, draws=200, tune=200, chains=2, random_seed=1)


@pytest.fixture(scope="session")
def sigma_fit(sleep: pd.DataFrame) -> hb.Fit:
    """sleepstudy with a residual SD that varies by subject and with days (sigma="~ ...")."""
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep, sigma="~ Days + (1 | Subject)")
    return quiet_fit(model, draws=250, tune=300, chains=2, random_seed=5)


@pytest.fixture(scope="session")
def dask_fits(sleep: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict[str, hb.Fit]:
    """sleepstudy fitted in memory, from Dask frames of one and of three partitions and from the
    parquet files of the latter (hierbayes.bigdata), each with the same seed."""
    import dask.dataframe as dd

    path = tmp_path_factory.mktemp("parquet") / "sleep.parquet"
    three = dd.from_pandas(sleep, npartitions=3)
    three.to_parquet(path)
    data = {
        "memory": sleep,
        "one": dd.from_pandas(sleep, npartitions=1),
        "three": three,
        "parquet": str(path),
    }
    settings = {"draws": 150, "tune": 150, "chains": 2, "random_seed": 5, "progressbar": False}
    return {k: quiet_fit(hb.Model(SLEEP_FORMULA, data=v), **settings) for k, v in data.items()}


@pytest.fixture
def tiny_data() -> pd.DataFrame:
    """The 24 rows of the bad-input catalogues (``y``, ``x``, four groups ``g``); a fresh copy."""
    return _tiny_data()


@pytest.fixture(scope="session")
def tiny_model() -> hb.Model:
    """``y ~ x + (1 | g)`` on ``tiny_data``, shared with the catalogues' cases."""
    return _tiny_model()


@pytest.fixture(scope="session")
def tiny_fit() -> hb.Fit:
    """``tiny_model`` with made-up draws (:func:`fakes.fake_fit`), shared with the cases."""
    return _tiny_fit()
