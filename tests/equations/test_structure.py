"""level_structure: which level each predictor is at, and which coefficient each column explains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.equations.structure import MAX_LEVELS, level_structure, split_top_level


def _paths(model: hb.Model) -> dict[str, tuple[str, ...]]:
    return {e.column: e.path for e in level_structure(model.design).fixed}


@pytest.fixture(scope="module")
def nested() -> pd.DataFrame:
    """4 schools x 3 classes x 4 pupils; class labels unique across schools."""
    rng = np.random.default_rng(5)
    school = np.repeat([f"s{k}" for k in range(4)], 12)
    number = np.tile(np.repeat([1, 2, 3], 4), 4)
    klass = np.array([f"{s}-{c}" for s, c in zip(school, number, strict=True)])
    district = np.repeat(["d1", "d2"], 24)
    return pd.DataFrame(
        {
            "district": district,
            "school": school,
            "class": klass,
            "x": rng.normal(size=48),
            "X": np.repeat(rng.normal(size=12), 4),
            "W": np.repeat(rng.normal(size=4), 12),
            "y": rng.normal(size=48),
        }
    )


def test_hsb_predictors_at_their_levels(hsb_students):
    m = hb.Model("mAch ~ cses * (meanses + sector) + (1 + cses | school)", hsb_students)
    assert _paths(m) == {
        "Intercept": ("1", "1"),
        "cses": ("cses", "1"),
        "meanses": ("1", "meanses"),
        "sector[T.Public]": ("1", "sector[T.Public]"),
        "cses:meanses": ("cses", "meanses"),
        "cses:sector[T.Public]": ("cses", "sector[T.Public]"),
    }
    structure = level_structure(m.design)
    assert structure.hierarchical and structure.depth == 2
    assert structure.levels == ("school",)
    assert [(e.column, e.level, e.path) for e in structure.random] == [
        ("Intercept", 2, ("1",)),
        ("cses", 2, ("cses",)),
    ]


def test_categorical_level1_predictor_with_a_cross_level_interaction(hsb_students):
    m = hb.Model("mAch ~ minrty * sector + (1 | school)", hsb_students)
    assert _paths(m)["minrty[T.Yes]:sector[T.Public]"] == ("minrty[T.Yes]", "sector[T.Public]")


def test_declared_level2_variable_only_in_an_interaction(hsb_students):
    m = hb.Model(
        "mAch ~ cses + cses:meanses + (1 | school)",
        hsb_students,
        level2={"school": ["meanses"]},
    )
    assert _paths(m)["cses:meanses"] == ("cses", "meanses")


def test_varying_slope_keeps_a_group_constant_predictor_at_level_1(hsb_students):
    m = hb.Model("mAch ~ meanses + (1 + meanses | school)", hsb_students)
    assert _paths(m)["meanses"] == ("meanses", "1")


def test_numbering_follows_each_equation(hsb_students):
    m = hb.Model("mAch ~ cses * sector + (1 + cses | school)", hsb_students)
    numbers = level_structure(m.design).numbers()
    assert numbers[("1",)] == 0 and numbers[("cses",)] == 1
    assert numbers[("1", "sector[T.Public]")] == 1
    assert numbers[("cses", "sector[T.Public]")] == 1
    assert numbers[("cses", "1")] == 0


def test_three_levels_from_nesting_in_the_data(nested):
    m = hb.Model("y ~ x + X + W + (1 | school) + (1 | class)", nested)
    structure = level_structure(m.design)
    assert structure.depth == 3
    assert structure.levels == ("class", "school")
    assert _paths(m) == {
        "Intercept": ("1", "1", "1"),
        "x": ("x", "1", "1"),
        "X": ("1", "X", "1"),
        "W": ("1", "1", "W"),
    }


def test_three_levels_with_a_nested_factor_name(nested):
    m = hb.Model("y ~ x + (1 | school/class)", nested)
    structure = level_structure(m.design)
    assert structure.levels == ("class", "school")
    assert [b.level for b in structure.blocks] == [3, 2]


def test_crossed_factors_are_flat(sleep):
    m = hb.Model("Reaction ~ Days + (1 | Subject) + (1 | Days)", sleep)
    structure = level_structure(m.design)
    assert not structure.hierarchical
    assert structure.levels == ("Subject", "Days")
    assert [e.path for e in structure.fixed] == [("1",), ("Days",)]


def test_more_than_three_levels_are_flat(nested):
    m = hb.Model("y ~ x + (1 | district/school/class)", nested)
    assert MAX_LEVELS == 3
    assert not level_structure(m.design).hierarchical


def test_flat_on_request(hsb_students):
    m = hb.Model("mAch ~ cses * meanses + (1 | school)", hsb_students)
    flat = level_structure(m.design, flat=True)
    assert not flat.hierarchical and flat.depth == 1
    assert [e.path for e in flat.fixed] == [("1",), ("cses",), ("meanses",), ("cses:meanses",)]


def test_split_top_level():
    assert split_top_level("a:b") == ["a", "b"]
    assert split_top_level("C(x, levels=['a:b'])[T.a:b]:w") == ["C(x, levels=['a:b'])[T.a:b]", "w"]
    assert split_top_level("x") == ["x"]
