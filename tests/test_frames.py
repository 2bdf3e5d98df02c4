"""Polars (and any dataframe narwhals reads) is accepted wherever a table goes in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.frames import as_pandas, level2_as_pandas


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(4)
    groups = pd.DataFrame({"g": ["a", "b", "c"], "w": [0.5, -1.0, 2.0]})
    data = pd.DataFrame(
        {"y": rng.normal(size=18), "x": rng.normal(size=18), "g": np.repeat(["a", "b", "c"], 6)}
    )
    return data, groups


def test_as_pandas_converts_frames_and_passes_everything_else() -> None:
    data, _ = _tables()
    pd.testing.assert_frame_equal(as_pandas(pl.from_pandas(data)), data)
    pd.testing.assert_frame_equal(as_pandas(pl.from_pandas(data).lazy()), data)
    assert as_pandas(data) is data
    assert as_pandas("sample") == "sample" and as_pandas(None) is None
    converted = level2_as_pandas({"g": pl.DataFrame({"g": ["a"], "w": [1.0]}), "h": ["w"]})
    assert isinstance(converted["g"], pd.DataFrame) and converted["h"] == ["w"]


def test_a_polars_model_is_the_pandas_model() -> None:
    data, groups = _tables()
    ours = hb.Model(
        "y ~ x + w + (1 | g)", data=pl.from_pandas(data), level2={"g": pl.from_pandas(groups)}
    )
    theirs = hb.Model("y ~ x + w + (1 | g)", data=data, level2={"g": groups})
    np.testing.assert_array_equal(ours.design.X, theirs.design.X)
    np.testing.assert_array_equal(ours.design.y, theirs.design.y)
    assert ours.design.blocks[0].levels == theirs.design.blocks[0].levels
    levels = hb.Model.from_levels(
        "y ~ 1 + x",
        {"Intercept": "~ 1 + w"},
        group="g",
        data=pl.from_pandas(data),
        level2_data=pl.from_pandas(groups),
    )
    np.testing.assert_array_equal(levels.design.y, theirs.design.y)


def test_polars_newdata_predicts_like_pandas() -> None:
    data, groups = _tables()
    fit = fake_fit(hb.Model("y ~ x + w + (1 | g)", data=data, level2={"g": groups}))
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["a", "new"]})
    new_level2 = pd.DataFrame({"g": ["new"], "w": [0.3]})
    expected = fit.predict(new, groups="new", level2={"g": new_level2}, random_seed=1, summary=True)
    got = fit.predict(
        pl.from_pandas(new),
        groups="new",
        level2={"g": pl.from_pandas(new_level2)},
        random_seed=1,
        summary=True,
    )
    pd.testing.assert_frame_equal(got, expected)
    sim = fit.simulate_new_groups(
        5, x=pl.DataFrame({"x": [0.0, 1.0]}), level2=pl.DataFrame({"w": [0.0] * 5}), random_seed=2
    )
    assert sim.data is not None and len(sim.data) == 10


def test_something_else_is_still_refused() -> None:
    with pytest.raises(TypeError, match="data must be a pandas DataFrame, got ndarray"):
        hb.Model("y ~ 1", data=np.zeros((3, 1)))
