"""Missing values: an error by default; missing="drop" drops, warns, and records it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import synthetic_fit

import hierbayes as hb
from hierbayes.errors import DataError, MissingDataWarning, MissingValueError
from hierbayes.loglik import observed_data


@pytest.fixture
def df() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 40
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "g": [f"g{i % 5}" for i in range(n)],
            "unused": np.nan,
        },
        index=[f"r{i}" for i in range(n)],
    )
    data.loc[["r1", "r2"], "y"] = np.nan
    data.loc[["r2", "r3", "r7"], "x"] = np.nan
    data.loc["r9", "g"] = None
    return data


def test_missing_values_are_an_error_by_default(df):
    with pytest.raises(MissingValueError, match=r"Column 'y' has 2 missing value\(s\), e\.g\. at"):
        hb.Model("y ~ x + (1 | g)", df)


def test_missing_value_error_names_the_option_that_drops_them(df):
    # the everyday remedy (lme4's default na.omit) is one keyword: the error names it
    with pytest.raises(MissingValueError, match=r'Column \'y\'.*pass missing="drop" to drop'):
        hb.Model("y ~ x + (1 | g)", df)


def test_drop_removes_rows_warns_per_column_and_records_it(df):
    with pytest.warns(
        MissingDataWarning, match=r"Dropped 5 of 40 rows with missing values \(y: 2 "
    ):
        model = hb.Model("y ~ x + (1 | g)", df, missing="drop")
    design = model.design
    assert design.n_obs == 35 and design.n_dropped == 5
    assert design.dropped == {"y": 2, "x": 3, "g": 1}  # the unused column does not count
    assert list(model.obs_index[:3]) == ["r0", "r4", "r5"]
    kept = ~df[["y", "x", "g"]].isna().any(axis=1)
    np.testing.assert_array_equal(design.y, df.loc[kept, "y"].to_numpy())
    fit = synthetic_fit(model, seed=1)
    assert "dropped 5 rows: y: 2 missing, x: 3 missing, g: 1 missing" in str(fit.summary())


def test_drop_is_kept_by_saved_fits(df, tmp_path):
    with pytest.warns(MissingDataWarning):
        model = hb.Model("y ~ x + (1 | g)", df, missing="drop", parameterization="noncentered")
    fit = synthetic_fit(model, seed=1)
    fit.idata["observed_data"] = xr.DataTree(observed_data(model.design, model.obs_index))
    again = hb.load(fit.save(tmp_path / "dropped"))
    assert again.design.n_dropped == 5
    assert again.design.dropped == {"y": 2, "x": 3, "g": 1}
    assert "dropped 5 rows" in str(again.summary())


def test_nothing_to_drop_is_silent_and_bad_options_are_errors(df):
    clean = df.dropna(subset=["y", "x", "g"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = hb.Model("y ~ x + (1 | g)", clean, missing="drop")
    assert model.design.n_dropped == 0
    with pytest.raises(ValueError, match=r"missing must be 'raise' or 'drop', got 'omit'"):
        hb.Model("y ~ x + (1 | g)", df, missing="omit")
    with pytest.raises(DataError, match=r"Every row has a missing value"):
        hb.Model("y ~ x + (1 | g)", df.assign(y=np.nan), missing="drop")
