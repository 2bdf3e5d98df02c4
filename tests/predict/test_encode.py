"""Encoding new data with the training encoding (no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.errors import (
    Level2Error,
    MissingColumnError,
    MissingValueError,
    UnknownLevelError,
)
from hierbayes.predict.encode import encode, predictor_variables


@pytest.fixture(scope="module")
def long_data() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    school = np.repeat([11, 12, 13, 14, 15, 16], 10)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.uniform(1, 5, size=n),
            "kind": rng.choice(["a", "b", "c"], size=n),
            "period": rng.choice([1, 2, 3], size=n),
            "school": school,
            "klass": np.tile(["p", "q"], n // 2),
        }
    )


@pytest.fixture(scope="module")
def schools() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school": [11, 12, 13, 14, 15, 16],
            "w": [0.1, -0.4, 0.3, 0.9, -1.2, 0.5],
            "sector": ["Public", "Catholic", "Public", "Public", "Catholic", "Catholic"],
        }
    )


@pytest.fixture(scope="module")
def model(long_data: pd.DataFrame, schools: pd.DataFrame) -> hb.Model:
    return hb.Model(
        "y ~ center(x) + np.log(x):kind + C(period) + w * sector + (1 + x | school/klass)",
        data=long_data,
        level2={"school": schools},
    )


def test_training_data_encode_to_the_training_design(model: hb.Model) -> None:
    design = model.design
    enc = encode(design, design.data)
    np.testing.assert_array_equal(enc.X, design.X)
    for block, rows in zip(design.blocks, enc.blocks, strict=True):
        np.testing.assert_array_equal(rows.Z, block.Z)
        np.testing.assert_array_equal(rows.labels, np.asarray(block.levels)[block.codes])


def test_stateful_transform_keeps_training_state(model: hb.Model) -> None:
    # center(x) subtracts the *training* mean, not the new data's
    design = model.design
    mean = design.data["x"].mean()
    new = design.data.iloc[:3].copy()
    new["x"] = [1.0, 2.0, 3.0]
    enc = encode(design, new)
    column = design.fixed_columns.index("center(x)")
    np.testing.assert_allclose(enc.X[:, column], np.array([1.0, 2.0, 3.0]) - mean)


def test_level2_values_of_known_groups_come_from_training(
    model: hb.Model, long_data: pd.DataFrame, schools: pd.DataFrame
) -> None:
    design = model.design
    new = long_data.iloc[[0, 25, 59]].drop(columns=["y"])  # no w, sector: looked up by school
    enc = encode(design, new)
    merged = long_data.merge(schools, on="school").iloc[[0, 25, 59]]
    expected = encode(design, merged)
    np.testing.assert_array_equal(enc.X, expected.X)
    assert list(enc.index) == [0, 25, 59]


def test_new_group_needs_level2_values(model: hb.Model, long_data: pd.DataFrame) -> None:
    new = long_data.iloc[[0]].drop(columns=["y"]).assign(school=99)
    with pytest.raises(Level2Error, match=r"'school' group\(s\).*99.*level2=\{'school'"):
        encode(model.design, new)


def test_level2_table_serves_new_groups(model: hb.Model, long_data: pd.DataFrame) -> None:
    new = long_data.iloc[[0, 1]].drop(columns=["y"]).assign(school=[99, 11])
    table = pd.DataFrame({"school": [99], "w": [2.0], "sector": ["Public"]})
    enc = encode(model.design, new, level2={"school": table})
    w = model.design.fixed_columns.index("w")
    assert enc.X[0, w] == 2.0
    assert enc.X[1, w] == 0.1  # known school keeps its training value


def test_level2_columns_in_newdata_are_used_as_given(
    model: hb.Model, long_data: pd.DataFrame
) -> None:
    new = long_data.iloc[[0]].drop(columns=["y"]).assign(w=7.0, sector="Catholic")
    enc = encode(model.design, new)
    assert enc.X[0, model.design.fixed_columns.index("w")] == 7.0


def test_unseen_level_of_a_fixed_predictor_is_an_error(
    model: hb.Model, long_data: pd.DataFrame
) -> None:
    new = long_data.iloc[[0, 1]].drop(columns=["y"]).assign(kind=["a", "zzz"])
    with pytest.raises(UnknownLevelError, match=r"Column 'kind'.*'zzz'"):
        encode(model.design, new)
    new = long_data.iloc[[0]].drop(columns=["y"]).assign(period=7)
    with pytest.raises(UnknownLevelError, match=r"Column 'period'.*7"):
        encode(model.design, new)
    new = long_data.iloc[[0]].drop(columns=["y"]).assign(sector="Private")
    with pytest.raises(UnknownLevelError, match=r"Column 'sector'.*'Private'"):
        encode(model.design, new)


def test_missing_column_and_missing_values(model: hb.Model, long_data: pd.DataFrame) -> None:
    new = long_data.iloc[[0]].drop(columns=["y", "kind"])
    with pytest.raises(MissingColumnError, match="Column 'kind'"):
        encode(model.design, new)
    new = long_data.iloc[[0, 1]].drop(columns=["y"]).assign(x=[1.0, np.nan])
    with pytest.raises(MissingValueError, match=r"Column 'x'.*1 missing"):
        encode(model.design, new)
    new = long_data.iloc[[0]].drop(columns=["y", "klass"])
    with pytest.raises(MissingColumnError, match="Column 'klass'"):
        encode(model.design, new)


def test_population_predictions_need_no_group_columns(
    model: hb.Model, long_data: pd.DataFrame
) -> None:
    new = long_data.iloc[[0]].drop(columns=["y", "school", "klass"]).assign(w=0.0, sector="Public")
    enc = encode(model.design, new, groups=False)
    assert enc.blocks == ()
    assert enc.X.shape == (1, len(model.design.fixed_columns))


def test_group_labels_follow_the_training_rule() -> None:
    # float codes 3.0 are labelled '3' in training; new data with 3 (int) must match
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": [3.0, 3.0, 4.0, 4.0]})
    model = hb.Model("y ~ 1 + (1 | g)", data=df)
    enc = encode(model.design, pd.DataFrame({"g": [3, 5]}))
    assert enc.blocks[0].labels.tolist() == ["3", "5"]
    assert model.design.blocks[0].levels == ("3", "4")


def test_predictor_variables_leave_out_the_response(model: hb.Model) -> None:
    assert "y" not in predictor_variables(model.design)
    assert {"x", "kind", "period", "w", "sector", "school", "klass"} <= set(
        predictor_variables(model.design)
    )


def test_level2_values_given_twice_are_an_error(model: hb.Model, long_data: pd.DataFrame) -> None:
    new = long_data.iloc[[0]].drop(columns=["y"]).assign(school=99, w=1.0)
    table = pd.DataFrame({"school": [99], "w": [2.0], "sector": ["Public"]})
    with pytest.raises(Level2Error, match="'w' given twice"):
        encode(model.design, new, level2={"school": table})
    with pytest.raises(Level2Error, match="not a grouping factor with level-2 predictors"):
        encode(model.design, new, level2={"klass": table})


def test_a_category_of_a_computed_value_encodes_new_data() -> None:
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model("Reaction ~ C(Days > 4) + (1 | Subject)", sleep)
    new = pd.DataFrame({"Days": [0, 9], "Subject": [308, 308]})
    enc = encode(model.design, new)
    assert enc.X[:, model.design.fixed_columns.index("C(Days > 4)[T.True]")].tolist() == [0, 1]
    model = hb.Model("Reaction ~ C(Days, Sum) + (1 | Subject)", sleep)
    with pytest.raises(UnknownLevelError, match=r"Column 'Days'.*12"):
        encode(model.design, new.assign(Days=12))
