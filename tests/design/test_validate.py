"""Data checks: what they refuse is in tests/test_bad_input.py; here, what they must accept, and
the scale limits at their edges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.design.validate import (
    COUNT_ROUNDING_LIMIT,
    GAUSSIAN_SD_RANGE,
    check_group_labels,
    check_response_scale,
)
from hierbayes.errors import FamilyError


def _df(**extra) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {"y": rng.normal(size=24), "x": rng.normal(size=24), "g": np.repeat(list("abcd"), 6)}
    )
    return df.assign(**extra)


def test_an_unused_intercept_column_is_fine() -> None:
    m = hb.Model("y ~ x + (1 | g)", _df(Intercept=np.arange(24.0)))
    assert np.all(m.design.X[:, 0] == 1.0)


def test_dates_may_label_groups() -> None:
    days = pd.date_range("2024-01-01", periods=4).repeat(6)
    m = hb.Model("y ~ x + (1 | day)", _df(day=days))
    assert len(m.design.blocks[0].levels) == 4


def test_integer_groups_and_distinct_text_labels_pass() -> None:
    check_group_labels(("g",), pd.Index([1, 2, 10]), ["1", "2", "10"])
    check_group_labels(("g1", "g2"), pd.Index([("a", "b"), ("a", "c")]), ["a:b", "a:c"])


@pytest.mark.parametrize("sd", [GAUSSIAN_SD_RANGE[0] * 1.01, 1.0, GAUSSIAN_SD_RANGE[1] * 0.99])
def test_gaussian_scales_inside_the_range_pass(sd: float) -> None:
    y = np.random.default_rng(1).normal(size=50)
    check_response_scale(sd * y / np.std(y, ddof=1), "gaussian", "y")


@pytest.mark.parametrize("sd", [GAUSSIAN_SD_RANGE[0] / 1.1, GAUSSIAN_SD_RANGE[1] * 1.1])
def test_gaussian_scales_just_outside_the_range_are_refused(sd: float) -> None:
    y = np.random.default_rng(1).normal(size=50)
    with pytest.raises(FamilyError, match="Response 'y' has standard deviation"):
        check_response_scale(sd * y / np.std(y, ddof=1), "gaussian", "y")


def test_a_large_mean_with_a_small_spread_passes() -> None:
    check_response_scale(1e9 + np.arange(10.0), "gaussian", "y")


def test_count_limit_edges() -> None:
    eps = np.finfo(float).eps
    # 100 counts of c: rounding eps * 100 * c * log(c); find c on each side of the limit
    below, above = 1e9, 1e11
    assert eps * 100 * below * np.log(below) < COUNT_ROUNDING_LIMIT
    assert eps * 100 * above * np.log(above) > COUNT_ROUNDING_LIMIT
    check_response_scale(np.full(100, below), "poisson", "k")
    with pytest.raises(FamilyError, match="Response 'k' has counts up to 1e\\+11"):
        check_response_scale(np.full(100, above), "poisson", "k")


def test_realistic_counts_pass() -> None:
    # a million rows of counts around 1e5
    check_response_scale(np.full(1_000_000, 1e5), "poisson", "k")
    check_response_scale(np.full(1000, 3.0), "binomial", "k", trials=np.full(1000, 1e6))
