"""Level-2 (group-level) predictors: merging one-row-per-group tables and constancy checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.design import check_constant_within, make_design, merge_level2
from hierbayes.errors import Level2Error, MissingColumnError, MissingValueError
from hierbayes.spec import parse_formula


@pytest.fixture
def students() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 4.5, 5.0, 6.5],
            "x": [0.1, 0.5, 0.2, 0.9, 0.4, 0.3],
            "school": [1, 1, 2, 2, 3, 3],
            "w": [0.5, 0.5, 0.7, 0.7, 0.9, 0.9],
        }
    )


@pytest.fixture
def schools() -> pd.DataFrame:
    # Deliberately not in the order of the data.
    return pd.DataFrame(
        {"school": [3, 1, 2], "sector": ["P", "C", "P"], "size": [10.0, 20.0, 30.0]}
    )


# ---------------------------------------------------------------------------- merging tables


def test_merge_by_key(students, schools):
    merged, columns = merge_level2(students, {"school": schools})
    assert columns == {"school": ("sector", "size")}
    assert merged["sector"].tolist() == ["C", "C", "P", "P", "P", "P"]
    assert merged["size"].tolist() == [20.0, 20.0, 30.0, 30.0, 10.0, 10.0]
    # The long data is copied, not modified, and keeps its rows and columns.
    assert "sector" not in students.columns
    pd.testing.assert_frame_equal(merged[students.columns], students)


def test_merge_by_index_name(students, schools):
    merged, columns = merge_level2(students, {"school": schools.set_index("school")})
    assert columns == {"school": ("sector", "size")}
    assert merged["size"].tolist() == [20.0, 20.0, 30.0, 30.0, 10.0, 10.0]


def test_merge_keeps_non_default_index(students, schools):
    data = students.set_index(pd.Index([50, 40, 30, 20, 10, 0]))
    merged, _ = merge_level2(data, {"school": schools})
    assert merged.index.tolist() == [50, 40, 30, 20, 10, 0]
    assert merged["sector"].tolist() == ["C", "C", "P", "P", "P", "P"]


def test_extra_groups_in_table_are_ignored(students, schools):
    table = pd.concat([schools, pd.DataFrame({"school": [99], "sector": ["X"], "size": [1.0]})])
    merged, _ = merge_level2(students, {"school": table})
    assert merged["sector"].tolist() == ["C", "C", "P", "P", "P", "P"]


def test_string_keys(students):
    data = students.assign(school=["a", "a", "b", "b", "c", "c"])
    table = pd.DataFrame({"school": ["c", "b", "a"], "v": [3.0, 2.0, 1.0]})
    merged, _ = merge_level2(data, {"school": table})
    assert merged["v"].tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("level2", [None, {}])
def test_no_level2(students, level2):
    merged, columns = merge_level2(students, level2)
    assert columns == {}
    pd.testing.assert_frame_equal(merged, students)


def test_key_column_missing_from_table(students, schools):
    table = schools.rename(columns={"school": "id"})
    with pytest.raises(
        MissingColumnError,
        match=r"level-2 table for 'school' has no 'school' column \(nor an index of that name\)"
        r".*'id'",
    ):
        merge_level2(students, {"school": table})


def test_level2_factor_not_in_data(students, schools):
    with pytest.raises(
        MissingColumnError, match=r"level2 names the grouping factor 'sch', which is not a column"
    ):
        merge_level2(students, {"sch": schools})


def test_duplicated_keys(students, schools):
    table = pd.concat([schools, schools.iloc[[0, 1]]])
    with pytest.raises(
        Level2Error, match=r"must have one row per group, but 3, 1 appear\(s\) more than once"
    ):
        merge_level2(students, {"school": table})


def test_missing_key_in_table(students, schools):
    table = schools.assign(school=[3.0, np.nan, 2.0])
    with pytest.raises(Level2Error, match=r"has a missing 'school' key in 1 row\(s\)"):
        merge_level2(students, {"school": table})


def test_groups_absent_from_table(students, schools):
    with pytest.raises(
        Level2Error,
        match=r"2 'school' group\(s\) in the data are missing from the level-2 table: 1, 2\. Add",
    ) as info:
        merge_level2(students, {"school": schools.iloc[[0]]})
    assert "convert one to match" not in str(info.value)


def test_groups_absent_because_of_dtype_mismatch(students, schools):
    table = schools.assign(school=schools.school.astype(str))
    with pytest.raises(
        Level2Error,
        match=r"3 'school' group\(s\) .* missing .*: 1, 2, 3 \(the 'school' column is int64 in "
        r"the data but .* in the table: convert one to match\)",
    ):
        merge_level2(students, {"school": table})


def test_float_keys_match_integer_groups(students, schools):
    merged, _ = merge_level2(students, {"school": schools.astype({"school": float})})
    assert merged["sector"].tolist() == ["C", "C", "P", "P", "P", "P"]


def test_column_in_both_with_different_values(students, schools):
    table = schools.assign(w=[0.9, 0.5, 0.8])  # school 2: 0.7 in the data, 0.8 here
    with pytest.raises(
        Level2Error,
        match=r"Column 'w' is in both the data and the level-2 table for 'school', with different "
        r"values \(at 'school' = 2: 0\.7 in the data, 0\.8 in the table\)",
    ):
        merge_level2(students, {"school": table})


def test_column_in_both_with_same_values(students, schools):
    table = schools.assign(w=[0.9, 0.5, 0.7])
    merged, columns = merge_level2(students, {"school": table})
    assert columns == {"school": ("sector", "size", "w")}
    assert merged["w"].tolist() == students["w"].tolist()


def test_bad_level2_value(students):
    with pytest.raises(TypeError, match=r"level2\['school'\] must be a DataFrame .* got str"):
        merge_level2(students, {"school": "w"})


# ---------------------------------------------------------------------------- declared columns


@pytest.mark.parametrize("declared", [["w"], ("w",), ["w", "school"]])
def test_declared_constant_columns(students, declared):
    merged, columns = merge_level2(students, {"school": declared})
    assert columns == {"school": tuple(declared)}
    pd.testing.assert_frame_equal(merged, students)


def test_declared_varying_column(students):
    data = students.assign(w=[0.5, 0.6, 0.7, 0.7, 0.9, 0.9])
    with pytest.raises(
        Level2Error,
        match=r"Level-2 predictor 'w' varies within 'school' = 1: it takes the values 0\.5, 0\.6 "
        r"there\. .*\(1 of 3 groups vary\)",
    ):
        merge_level2(data, {"school": ["w"]})


def test_declared_column_with_nan_within_a_group(students):
    data = students.assign(w=[0.5, 0.5, 0.7, 0.7, 0.9, np.nan])
    with pytest.raises(Level2Error, match=r"varies within 'school' = 3: .* 0\.9, nan there"):
        merge_level2(data, {"school": ["w"]})


def test_declared_column_missing(students):
    with pytest.raises(
        MissingColumnError, match=r"Level-2 predictor 'zz' declared for 'school' is not a column"
    ):
        merge_level2(students, {"school": ["zz"]})


@pytest.mark.parametrize(
    ("groups", "values", "group_text"),
    [
        ([1, 1, 2], [0.5, 0.7, 1.0], "1"),
        (["a", "b", "b"], [0.5, 0.7, 1.0], "'b'"),
        ([1.5, 2.5, 2.5], [1, 1, 2], "2.5"),
    ],
)
def test_check_constant_within(groups, values, group_text):
    df = pd.DataFrame({"g": groups, "w": values})
    with pytest.raises(Level2Error, match=rf"'w' varies within 'g' = {group_text}: "):
        check_constant_within(df, "g", ["w"])


def test_check_constant_within_accepts_constant_columns():
    df = pd.DataFrame({"g": [1, 1, 2], "w": [0.5, 0.5, 1.0], "s": ["a", "a", "b"]})
    assert check_constant_within(df, "g", ["w", "s"]) is None
    assert check_constant_within(df, "g", []) is None


# ---------------------------------------------------------------------------- via make_design


def test_make_design_with_table(students, schools):
    d = make_design(
        parse_formula("y ~ x + size + sector + (1 | school)"), students, level2={"school": schools}
    )
    assert d.fixed_columns == ("Intercept", "x", "size", "sector[T.P]")
    np.testing.assert_array_equal(d.X[:, 2], [20.0, 20.0, 30.0, 30.0, 10.0, 10.0])
    np.testing.assert_array_equal(d.X[:, 3], [0, 0, 1, 1, 1, 1])
    assert d.level2_columns == {"school": ("sector", "size")}
    assert d.n_obs == len(students)


def test_make_design_with_declared_columns(students):
    d = make_design(parse_formula("y ~ w + (1 | school)"), students, level2={"school": ["w"]})
    assert d.level2_columns == {"school": ("w",)}
    with pytest.raises(Level2Error, match=r"Level-2 predictor 'w' varies within 'school' = 2"):
        make_design(
            parse_formula("y ~ w + (1 | school)"),
            students.assign(w=[0.5, 0.5, 0.7, 0.8, 0.9, 0.9]),
            level2={"school": ["w"]},
        )


def test_nan_in_merged_level2_column(students, schools):
    table = schools.assign(size=[10.0, np.nan, 30.0])  # school 1 -> rows 0 and 1
    with pytest.raises(
        MissingValueError,
        match=r"Column 'size' \(from the level-2 table for 'school'\) has 2 missing value\(s\), "
        r"e\.g\. at rows \[0, 1\]",
    ):
        make_design(parse_formula("y ~ size + (1 | school)"), students, level2={"school": table})


def test_nan_in_unused_level2_column_is_fine(students, schools):
    table = schools.assign(size=[10.0, np.nan, 30.0])
    d = make_design(parse_formula("y ~ sector + (1 | school)"), students, level2={"school": table})
    assert d.n_obs == 6


def test_make_design_level2_errors_propagate(students, schools):
    with pytest.raises(Level2Error, match=r"missing from the level-2 table: 2, 3"):
        make_design(
            parse_formula("y ~ size + (1 | school)"), students, level2={"school": schools.iloc[[1]]}
        )


# ---------------------------------------------------------------------------- bundled data


def test_hsb_schools_reproduces_hsb_columns():
    hsb = hb.datasets.load("hsb")
    schools = hb.datasets.load("hsb_schools")
    students = hsb.drop(columns=["meanses", "sector"])
    merged, columns = merge_level2(students, {"school": schools})
    assert columns == {"school": ("meanses", "sector")}
    pd.testing.assert_series_equal(merged["meanses"], hsb["meanses"])
    pd.testing.assert_series_equal(merged["sector"], hsb["sector"])
    # The declared form of the same predictors passes the constancy check.
    merge_level2(hsb, {"school": ["meanses", "sector"]})
    # And the table also agrees when the columns are still in the data.
    merge_level2(hsb, {"school": schools})


def test_radon_counties_reproduces_radon_columns():
    radon = hb.datasets.load("radon")
    counties = hb.datasets.load("radon_counties")
    merged, _ = merge_level2(radon.drop(columns=["uranium", "county_name"]), {"county": counties})
    pd.testing.assert_series_equal(merged["uranium"], radon["uranium"])
    pd.testing.assert_series_equal(merged["county_name"], radon["county_name"])


def test_categorical_level2_column_keeps_its_levels_and_reference():
    rng = np.random.default_rng(0)
    students = pd.DataFrame(
        {"g": np.repeat(np.arange(6), 5), "x": rng.normal(size=30), "y": rng.normal(size=30)}
    )
    schools = pd.DataFrame(
        {
            "g": np.arange(6),
            "s": pd.Categorical(["Public", "Catholic"] * 3, categories=["Public", "Catholic"]),
        }
    )
    merged, _ = merge_level2(students, {"g": schools})
    assert list(merged["s"].cat.categories) == ["Public", "Catholic"]
    table_design = make_design(
        parse_formula("y ~ x + s + (1 | g)"), students, level2={"g": schools}
    )
    long_design = make_design(
        parse_formula("y ~ x + s + (1 | g)"), students.merge(schools), level2={"g": ["s"]}
    )
    assert table_design.fixed_columns == long_design.fixed_columns
    assert table_design.fixed_columns[-1] == "s[T.Catholic]"
