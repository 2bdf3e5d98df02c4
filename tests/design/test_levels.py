"""level_data: level-2 tables merged, level-2 predictors checked and declared at their level."""

from __future__ import annotations

import pandas as pd
import pytest

from hierbayes.design.levels import level_data
from hierbayes.errors import Level2Error, MissingColumnError
from hierbayes.spec.levels import parse_levels


@pytest.fixture
def nested() -> pd.DataFrame:
    """Two schools with two classes each; class labels repeat across schools."""
    return pd.DataFrame(
        {
            "school": ["a"] * 4 + ["b"] * 4,
            "class": [1, 1, 2, 2, 1, 1, 2, 2],
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "X": [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4],  # class-level
            "W": [5.0] * 4 + [6.0] * 4,  # school-level
        }
    )


def test_varying_level2_predictor_names_a_group(hsb_students):
    levels = parse_levels("mAch ~ cses", {"Intercept": "~ ses"}, group="school")
    with pytest.raises(Level2Error, match=r"Level-2 predictor 'ses' varies within 'school' = 1224"):
        level_data(levels, hsb_students)


def test_varying_level2_predictor_in_a_slope_equation(hsb_students):
    levels = parse_levels("mAch ~ cses", {"cses": "~ minrty"}, group="school")
    with pytest.raises(Level2Error, match=r"'minrty' varies within 'school' = 1224: it takes"):
        level_data(levels, hsb_students)


def test_level2_predictors_from_the_long_data_are_declared(hsb_students):
    levels = parse_levels("mAch ~ cses", {"Intercept": "~ meanses + sector"}, group="school")
    data, declared = level_data(levels, hsb_students)
    assert data is hsb_students
    assert declared == {"school": ("meanses", "sector")}


def test_table_is_merged_and_its_columns_declared(hsb_students):
    schools = hsb_students.groupby("school", as_index=False)[["meanses", "sector"]].first()
    levels = parse_levels("mAch ~ cses", {"cses": "~ sector"}, group="school")
    data, declared = level_data(levels, hsb_students.drop(columns=["meanses", "sector"]), schools)
    assert declared == {"school": ("meanses", "sector")}
    pd.testing.assert_series_equal(data["sector"], hsb_students["sector"])


def test_missing_level2_predictor():
    df = pd.DataFrame({"y": [1.0, 2.0], "g": [1, 2]})
    levels = parse_levels("y ~ 1", {"Intercept": "~ w"}, group="g")
    with pytest.raises(MissingColumnError, match=r"Level-2 predictor 'w' is not a column of the"):
        level_data(levels, df)


def test_missing_grouping_column():
    df = pd.DataFrame({"y": [1.0, 2.0], "g": [1, 2]})
    with pytest.raises(MissingColumnError, match=r"Grouping column 'school' is not a column"):
        level_data(parse_levels("y ~ 1", group="school"), df)


def test_three_levels_check_within_classes_of_schools(nested):
    levels = parse_levels("y ~ 1", {"Intercept": "~ X + W"}, group=["school", "class"])
    _, declared = level_data(levels, nested)
    # class labels repeat across schools, so only school-level columns can be declared by key
    assert declared == {"school": ("W",)}
    nested.loc[1, "X"] = 0.15
    with pytest.raises(Level2Error, match=r"'X' varies within 'school:class' = 'a:1'"):
        level_data(levels, nested)


def test_three_levels_with_unique_class_labels_declare_both(nested):
    nested["class"] = nested["school"] + nested["class"].astype(str)
    levels = parse_levels("y ~ 1", {"Intercept": "~ X + W"}, group=["school", "class"])
    assert level_data(levels, nested)[1] == {"school": ("W",), "class": ("X",)}


def test_three_levels_need_a_dict_of_tables(nested):
    levels = parse_levels("y ~ 1", group=["school", "class"])
    with pytest.raises(Level2Error, match="pass level2_data as a dict by grouping column"):
        level_data(levels, nested, pd.DataFrame({"school": ["a", "b"], "Z": [1, 2]}))


def test_table_for_an_unknown_grouping_column(nested):
    levels = parse_levels("y ~ 1", group=["school", "class"])
    with pytest.raises(Level2Error, match=r"table for 'district', which is not a grouping col"):
        level_data(levels, nested, {"district": pd.DataFrame({"district": [1]})})


def test_table_keyed_by_repeating_labels_is_refused(nested):
    levels = parse_levels("y ~ 1", group=["school", "class"])
    classes = pd.DataFrame({"class": [1, 2], "size": [20, 30]})
    with pytest.raises(Level2Error, match=r"The 'class' labels repeat across groups of 'school'"):
        level_data(levels, nested, {"class": classes})


def test_school_table_in_a_three_level_model(nested):
    levels = parse_levels("y ~ 1", {"Intercept": "~ Z"}, group=["school", "class"])
    schools = pd.DataFrame({"school": ["a", "b"], "Z": [1.5, 2.5]})
    data, declared = level_data(levels, nested.drop(columns="W"), {"school": schools})
    assert declared == {"school": ("Z",)}
    assert data["Z"].tolist() == [1.5] * 4 + [2.5] * 4


def test_level2_data_of_the_wrong_type(nested):
    levels = parse_levels("y ~ 1", group="school")
    with pytest.raises(TypeError, match="level2_data must be a DataFrame"):
        level_data(levels, nested, ["W"])  # type: ignore[arg-type]
