"""The note when a correlated varying slope's predictor lies far from 0 (nlme's Orthodont)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.design import make_design
from hierbayes.spec import parse_formula
from hierbayes.uncentred_note import uncentred_slope_notes


@pytest.fixture
def growth() -> pd.DataFrame:
    # Orthodont's layout: 27 subjects measured at ages 8, 10, 12 and 14
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(27), 4)
    age = np.tile([8.0, 10.0, 12.0, 14.0], 27)
    u0, u1 = rng.normal(0, 1.8, 27), rng.normal(0, 0.18, 27)
    y = 17 + 0.6 * age + u0[g] + u1[g] * (age - 11) + rng.normal(0, 1.3, len(g))
    sex = np.where(g % 2, "M", "F")
    return pd.DataFrame({"y": y, "age": age, "sex": sex, "g": [f"s{i}" for i in g]})


def _notes(formula: str, data: pd.DataFrame) -> tuple[str, ...]:
    return uncentred_slope_notes(make_design(parse_formula(formula), data))


def test_a_slope_far_from_zero_gets_the_note(growth):
    (note,) = _notes("y ~ age + (1 + age | g)", growth)
    # ages 8-14: mean 11, SD sqrt(5) = 2.24, so 0 is 4.9 SDs away
    assert note.startswith("Across g, the varying intercept is at age = 0, 4.9 SDs")
    assert "age - 11" in note


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ age_c + (1 + age_c | g)",  # centred
        "y ~ age + (age || g)",  # uncorrelated: no LKJ ridge
        "y ~ age + (0 + age | g)",  # no varying intercept
        "y ~ age + (1 | g)",
        "y ~ sex + (1 + sex | g)",  # a 0/1 column's 0 is a level
    ],
)
def test_no_note(growth, formula):
    data = growth.assign(age_c=growth["age"] - 11)
    assert _notes(formula, data) == ()


def test_the_fit_carries_the_note_and_a_saved_fit_keeps_it(growth, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = hb.Model("y ~ age + (1 + age | g)", growth).fit(
            draws=100, tune=200, chains=2, random_seed=1, progressbar=False
        )
    assert sum("varying intercept is at age = 0" in n for n in fit.diagnostics.notes) == 1
    loaded = hb.load(fit.save(tmp_path / "growth"))
    assert sum("varying intercept is at age = 0" in n for n in loaded.diagnostics.notes) == 1
