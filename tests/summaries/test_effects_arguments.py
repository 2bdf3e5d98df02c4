"""conditional_effects' grid= for a numeric predictor must hold numbers (a typed error names it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import SummaryError


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    rng = np.random.default_rng(9)
    data = pd.DataFrame(
        {"y": rng.normal(size=24), "x": rng.normal(size=24), "g": np.repeat(list("abcd"), 6)}
    )
    return fake_fit(hb.Model("y ~ x + (1 | g)", data), draws=10)


def test_text_grid_for_a_numeric_predictor_is_refused(fit):
    with pytest.raises(SummaryError, match=r"grid= gives values of the numeric predictor 'x'"):
        fit.conditional_effects("x", grid=["a"])


def test_numeric_grid_gives_one_row_per_value(fit):
    table = fit.conditional_effects("x", grid=[0, 1.5])
    assert table["x"].tolist() == [0.0, 1.5]
