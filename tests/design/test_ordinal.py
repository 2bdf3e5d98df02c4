"""An ordinal response is coded 1..K with its labels kept; the fixed design loses its intercept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierbayes.design import make_design
from hierbayes.design.ordinal import cutpoint_labels, ordinal_response, start_cutpoints
from hierbayes.errors import DataError, FamilyError
from hierbayes.spec import parse_formula


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 40
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "f": rng.choice(["a", "b", "c"], n),
            "g": rng.choice(["g1", "g2", "g3"], n),
            "r": rng.choice([2, 4, 7], n),
        }
    )


def test_integers_are_mapped_to_their_order_and_keep_their_labels(df):
    d = make_design(parse_formula("r ~ x + f + (1 | g)"), df, family="cumulative")
    assert d.response_levels == ("2", "4", "7")
    np.testing.assert_array_equal(d.y, df["r"].map({2: 1, 4: 2, 7: 3}).to_numpy(dtype=float))
    # the cut-points replace the intercept; f keeps its reduced-rank (treatment) coding
    assert d.fixed_columns == ("x", "f[T.b]", "f[T.c]")
    assert d.X.shape == (len(df), 3)


def test_an_ordered_categorical_keeps_its_order_and_its_empty_categories(df):
    levels = ["low", "mid", "high", "top"]
    df["q"] = pd.Categorical(
        np.array(["low", "mid", "high"])[df["r"].map({2: 0, 4: 1, 7: 2})],
        categories=levels,
        ordered=True,
    )
    with pytest.warns(UserWarning, match=r"category \['top'\] has no observation"):
        d = make_design(parse_formula("q ~ x"), df, family="cumulative")
    assert d.response_levels == tuple(levels)
    assert set(d.y) == {1.0, 2.0, 3.0}
    assert cutpoint_labels(d.response_levels) == ["low|mid", "mid|high", "high|top"]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (pd.Categorical(["a", "b", "c"] * 3), r"unordered categorical.*cat\.as_ordered\(\)"),
        ([1.0, 2.5, 3.0] * 3, r"integer category numbers.*found \[2\.5\]"),
        (["lo", "hi", "mid"] * 3, r"ordered categorical or integer category numbers"),
        ([1, 2, 1] * 3, r"has 2 categories \(\['1', '2'\]\).*family='bernoulli'"),
    ],
)
def test_responses_the_cumulative_family_cannot_model(values, match):
    data = pd.DataFrame({"y": values, "x": np.arange(9.0)})
    with pytest.raises(FamilyError, match=match):
        make_design(parse_formula("y ~ x"), data, family="cumulative")


def test_a_model_without_intercept_must_not_repeat_the_cut_points(df):
    with pytest.raises(DataError, match=r"'f\[c\]'.*linear combination of the cut-points"):
        make_design(parse_formula("r ~ 0 + f"), df, family="cumulative")
    # a numeric predictor alone is fine without the intercept
    d = make_design(parse_formula("r ~ 0 + x"), df, family="cumulative")
    assert d.fixed_columns == ("x",)


def test_response_coding_and_starting_cut_points():
    codes, labels = ordinal_response(pd.Series([10, 30, 20, 30]), "y")
    assert codes.tolist() == [1.0, 3.0, 2.0, 3.0] and labels == ("10", "20", "30")
    # logits of the cumulative proportions 1/4 and 2/4
    np.testing.assert_allclose(start_cutpoints(codes, 3, None), [np.log(1 / 3), 0.0])
    # weights count rows; an empty category counts half a row: counts 3, 0.5, 2
    w = np.array([3.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(start_cutpoints(codes, 3, w), [np.log(3 / 2.5), np.log(3.5 / 2)])
    # the probit link starts from the normal quantiles of the same proportions (1/4, 2/4)
    probit = start_cutpoints(codes, 3, None, "probit")
    np.testing.assert_allclose(probit, [-0.6744897501960817, 0.0], atol=1e-15)
