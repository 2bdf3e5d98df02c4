"""Offsets: parsed from the formula or given as a column, evaluated on the data, checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.design import make_design
from hierbayes.design.offset import offset_values
from hierbayes.errors import DataError, FormulaSyntaxError, MissingColumnError
from hierbayes.spec import parse_formula


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1, 0, 3, 2, 5, 1],
            "x": [0.1, -0.4, 0.3, 1.2, -0.8, 0.0],
            "e": [1.0, 2.0, 4.0, 0.5, 3.0, 1.5],
            "g": ["a", "a", "b", "b", "c", "c"],
        }
    )


def test_offsets_are_parsed_and_kept_apart_from_the_fixed_terms():
    spec = parse_formula("deaths ~ uvb + offset(np.log(expected)) + offset(a + b) + (1 | region)")
    assert spec.fixed.terms == ("1", "uvb")
    assert spec.fixed.offsets == ("np.log(expected)", "a + b")
    assert str(spec) == (
        "deaths ~ 1 + uvb + offset(np.log(expected)) + offset(a + b) + (1 | region)"
    )
    assert parse_formula("y ~ x + offset(z)") != parse_formula("y ~ x")


@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("y ~ x - offset(z)", r"An offset cannot be subtracted with '-'; write 'offset\(-x\)'"),
        ("y ~ x + offset()", r"offset\(\.\.\.\) needs a column \(expression\)"),
        ("y ~ offset(z) * x", r"offset\(\) must be a term of its own, added with '\+'"),
        ("y ~ x:offset(z)", r"found 'x:offset\(z\)'"),
    ],
)
def test_malformed_offsets_are_syntax_errors(formula, match):
    with pytest.raises(FormulaSyntaxError, match=match):
        parse_formula(formula)


def test_offsets_add_up_with_the_offset_argument(df):
    design = make_design(
        parse_formula("y ~ x + offset(np.log(e)) + offset(2 * x) + (1 | g)"),
        df,
        family="poisson",
        offset="e",
    )
    np.testing.assert_allclose(design.offset, np.log(df.e) + 2 * df.x + df.e)
    assert design.spec.fixed.offsets == ("np.log(e)", "2 * x", "e")
    assert list(design.data.columns) == ["y", "x", "e", "g"]
    plain = make_design(parse_formula("y ~ x + (1 | g)"), df, family="poisson")
    assert plain.offset is None
    np.testing.assert_array_equal(plain.offset_or_zero, np.zeros(len(df)))


def test_a_missing_offset_column_is_named(df):
    with pytest.raises(MissingColumnError, match=r"Column 'exposure' used in the formula"):
        make_design(parse_formula("y ~ x + offset(np.log(exposure))"), df, family="poisson")
    with pytest.raises(MissingColumnError, match=r"Column 'z' of the offset offset\(z\) is not in"):
        offset_values(["z"], df, where="the new data")


def test_bad_offset_values_are_errors_naming_the_offset(df):
    bad = df.assign(e=[1.0, 0.0, 4.0, 0.5, 3.0, 1.5])
    with pytest.raises(DataError, match=r"offset\(np.log\(e\)\) is missing or infinite on 1 row"):
        make_design(parse_formula("y ~ x + offset(np.log(e))"), bad, family="poisson")
    with pytest.raises(DataError, match=r"offset\(g\) must be one number per row"):
        offset_values(["g"], df)
    with pytest.raises(TypeError, match=r"offset must be a column name"):
        make_design(parse_formula("y ~ x"), df, offset=np.ones(6))


def test_an_offset_argument_that_is_code_is_refused_before_it_runs(df, tmp_path):
    target = tmp_path / "ran"
    attack = f"center(__import__('os').system('touch {target}'))"
    with pytest.raises(hb.FormulaSyntaxError, match=r"__import__"):
        make_design(parse_formula("y ~ x"), df, family="poisson", offset=attack)
    assert not target.exists()
