"""Shared, session-scoped fitted models: each real model is compiled and sampled once."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import HSB_FORMULA, SLEEP_FORMULA, quiet_fit

import hierbayes as hb


@pytest.fixture(scope="session")
def sleep() -> pd.DataFrame:
    return hb.datasets.load("sleepstudy")


@pytest.fixture(scope="session")
def sleep_fit(sleep: pd.DataFrame) -> hb.Fit:
    model = hb.Model(SLEEP_FORMULA, data=sleep)
    return quiet_fit(model, draws=500, tune=500, chains=4, random_seed=11)


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
