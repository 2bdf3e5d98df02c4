"""A level spelled "NA" or "None" in a CSV file: the missing-value reports say how to keep it."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.design.na_hint import na_level_hint
from hierbayes.errors import DataError, MissingDataWarning, MissingValueError

# "None" is a level of the education factor, "NA" a region (North America)
_CSV = """y,x,educ,region
1.2,0.1,Primary,EU
0.3,0.5,None,NA
2.1,-0.2,Secondary,EU
0.9,1.1,None,NA
1.5,0.3,Primary,ASIA
0.2,-1.0,Secondary,ASIA
1.1,0.7,Primary,NA
-0.4,0.2,None,EU
"""


def test_a_factor_level_read_as_missing_gets_the_hint():
    data = pd.read_csv(io.StringIO(_CSV))
    with pytest.raises(
        MissingValueError, match=r"Column 'educ' has 3 missing.*keep_default_na=False"
    ):
        hb.Model("y ~ x + educ", data)


def test_a_grouping_level_read_as_missing_gets_the_hint():
    data = pd.read_csv(io.StringIO(_CSV))
    hint = r"spells a level \"NA\", \"N/A\" or \"None\""
    with pytest.raises(MissingValueError, match=r"Column 'region' has 3 missing.*" + hint):
        hb.Model("y ~ x + (1 | region)", data)


def test_the_hinted_reading_keeps_the_levels():
    data = pd.read_csv(io.StringIO(_CSV), keep_default_na=False, na_values=[""])
    model = hb.Model("y ~ x + educ + (1 | region)", data)
    assert model.design.blocks[0].levels == ("ASIA", "EU", "NA")
    assert "educ[T.Primary]" in model.design.fixed_columns


def test_a_numeric_column_gets_no_hint():
    data = pd.read_csv(io.StringIO(_CSV)).fillna({"educ": "None", "region": "NA"})
    data.loc[2, "x"] = np.nan
    with pytest.raises(MissingValueError, match=r"Column 'x' has 1 missing") as info:
        hb.Model("y ~ x + (1 | region)", data)
    assert "keep_default_na" not in str(info.value)
    assert na_level_hint(data["x"]) == ""


def test_dropping_rows_of_a_text_column_warns_with_the_hint():
    data = pd.read_csv(io.StringIO(_CSV))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hb.Model("y ~ x + (1 | region)", data, missing="drop")
    messages = [str(w.message) for w in caught if issubclass(w.category, MissingDataWarning)]
    assert len(messages) == 1
    assert "region: 3 missing" in messages[0]
    assert "keep_default_na=False" in messages[0]


# every region is "NA" (North America): read_csv makes the column float64, all NaN
_ALL_NA = "y,x,region\n1.2,0.1,NA\n0.3,0.5,NA\n2.1,-0.2,NA\n0.9,1.1,NA\n"


def test_a_column_read_as_all_missing_gets_the_hint_whatever_its_type():
    data = pd.read_csv(io.StringIO(_ALL_NA))
    assert pd.api.types.is_float_dtype(data["region"])  # what makes the hint easy to miss
    with pytest.raises(
        MissingValueError,
        match=r"Column 'region' has 4 missing value\(s\): every row is missing.*keep_default_na",
    ):
        hb.Model("y ~ x + (1 | region)", data)
    with pytest.raises(DataError, match=r"region: 4 missing.*keep_default_na=False"):
        hb.Model("y ~ x + (1 | region)", data, missing="drop")
    with pytest.raises(MissingValueError, match=r"Column 'region' has 4 missing.*keep_default_na"):
        hb.Model("y ~ x + region", data)
