"""Arguments of the wrong type or kind give typed errors that name them, never a silent answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import ArgumentError, DataError, SummaryError


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    rng = np.random.default_rng(9)
    data = pd.DataFrame(
        {"y": rng.normal(size=24), "x": rng.normal(size=24), "g": np.repeat(list("abcd"), 6)}
    )
    return fake_fit(hb.Model("y ~ x + (1 | g)", data), draws=10)


@pytest.mark.parametrize("value", ["__foo", "abc", "1.5"])
def test_text_in_a_column_that_was_numeric_is_refused(fit, value):
    with pytest.raises(DataError, match=r"Column 'x' was numeric .* but is .* in the new data"):
        fit.predict(pd.DataFrame({"x": [value], "g": ["a"]}))


def test_numbers_in_a_numeric_column_still_predict(fit):
    draws = fit.predict(pd.DataFrame({"x": [0.5, 1], "g": ["a", "b"]}))
    assert draws.shape[-1] == 2


def test_newdata_that_is_not_a_frame_is_named(fit):
    with pytest.raises(ArgumentError, match=r"newdata must be a pandas DataFrame, got dict"):
        fit.predict({"x": [0.1], "g": ["a"]})


@pytest.mark.parametrize("prob", [2, 0, "0.9", True])
def test_prob_outside_zero_one_is_an_argument_error(fit, prob):
    with pytest.raises(ArgumentError, match=r"prob must be a number between 0 and 1"):
        fit.predictions(prob=prob)


@pytest.mark.parametrize("delta", ["1", None, 0, float("nan")])
def test_delta_that_is_not_a_nonzero_number_is_refused(fit, delta):
    with pytest.raises(SummaryError, match=r"delta must be a non-zero number"):
        fit.comparisons("x", delta=delta)


def test_group_labels_written_as_numbers_or_text_both_predict():
    rng = np.random.default_rng(4)
    numeric = pd.DataFrame(
        {"y": rng.normal(size=8), "x": rng.normal(size=8), "g": np.repeat([1, 2], 4)}
    )
    numeric_fit = fake_fit(hb.Model("y ~ x + (1 | g)", numeric), draws=10)
    draws = numeric_fit.predict(pd.DataFrame({"x": [0.5, 0.5], "g": ["1", "2"]}))
    assert draws.shape[-1] == 2
