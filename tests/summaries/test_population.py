"""Which fixed columns make up each varying coefficient's population value."""

from __future__ import annotations

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.design import make_design
from hierbayes.spec import parse_formula
from hierbayes.summaries.population import population_map
from hierbayes.summaries.posterior import factor_blocks


def _map(formula: str, data: pd.DataFrame, **kwargs):
    design = make_design(parse_formula(formula), data, **kwargs)
    return design, population_map(design, factor_blocks(design))


def test_cross_level_interactions_go_to_the_slope_and_level2_to_the_intercept(hsb_students):
    schools = hb.datasets.load("hsb_schools")
    design, pmap = _map(
        "mAch ~ cses * (meanses + sector) + (1 + cses | school)",
        hsb_students.drop(columns=["meanses", "sector"]),
        level2={"school": schools},
    )
    assert design.fixed_columns == (
        "Intercept",
        "cses",
        "meanses",
        "sector[T.Public]",
        "cses:meanses",
        "cses:sector[T.Public]",
    )
    assert pmap.terms == ("Intercept", "cses")
    assert pmap.shared == ()
    table = schools.assign(school=schools["school"].astype(str)).set_index("school")
    table = table.loc[list(design.blocks[0].levels)]
    meanses = table["meanses"].to_numpy()
    public = (table["sector"] == "Public").to_numpy(dtype=float)
    ones, zeros = np.ones_like(meanses), np.zeros_like(meanses)
    expected_intercept = np.column_stack([ones, zeros, meanses, public, zeros, zeros])
    expected_slope = np.column_stack([zeros, ones, zeros, zeros, meanses, public])
    np.testing.assert_allclose(pmap.weights[:, 0, :], expected_intercept)
    np.testing.assert_allclose(pmap.weights[:, 1, :], expected_slope)
    b = np.array([[12.0, 2.0, 5.0, -1.0, 1.0, -1.5]])
    pop = pmap.population(b)[0]
    np.testing.assert_allclose(pop[:, 0], 12 + 5 * meanses - public)
    np.testing.assert_allclose(pop[:, 1], 2 + meanses - 1.5 * public)


def test_level1_predictor_without_varying_effect_belongs_to_no_coefficient():
    radon = hb.datasets.load("radon")
    design, pmap = _map("log_radon ~ basement + uranium + (1 | county)", radon)
    assert [design.fixed_columns[i] for i in pmap.shared] == ["basement"]
    uranium = radon.groupby("county")["uranium"].first().to_numpy()
    np.testing.assert_allclose(pmap.weights[:, 0, 2], uranium)
    np.testing.assert_allclose(pmap.weights[:, 0, 1], 0.0)


def test_interactions_of_level1_variables_and_slopes_without_intercept():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "x": rng.normal(size=40),
            "v": rng.normal(size=40),
            "g": np.repeat(["a", "b", "c", "d"], 10),
        }
    )
    df["w"] = df["g"].map({"a": 1.0, "b": 2.0, "c": 0.5, "d": -1.0})
    design, pmap = _map("y ~ x * v + w + (0 + x | g)", df)
    names = [design.fixed_columns[i] for i in pmap.shared]
    # no varying intercept: the level-2 w and the intercept are common coefficients
    assert names == ["Intercept", "v", "w", "x:v"]
    assert pmap.terms == ("x",)
    assert pmap.weights[:, 0, design.fixed_columns.index("x")].tolist() == [1.0] * 4


def test_slope_multiplier_found_numerically_and_nan_where_unrecoverable():
    df = pd.DataFrame(
        {
            "y": np.arange(8.0),
            "x": [0.0, 1.0, 2.0, 3.0, 0.0, 0.0, 1.0, -1.0],
            "w": [0.5, 0.5, 0.5, 0.5, 2.0, 2.0, 3.0, 3.0],
            "g": ["a", "a", "a", "a", "b", "b", "c", "c"],
        }
    )
    design, pmap = _map("y ~ x + x:np.exp(w) + (1 + x | g)", df)
    k = design.fixed_columns.index("x:np.exp(w)")
    weights = pmap.weights[:, 1, k]
    np.testing.assert_allclose(weights[[0, 2]], np.exp([0.5, 3.0]))
    assert np.isnan(weights[1])  # x is 0 throughout group b: exp(w_b) cannot be recovered
