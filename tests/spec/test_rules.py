"""Formulas that parse but cannot be meant: removals, '/' for '|', the response as a predictor."""

from __future__ import annotations

import pytest

from hierbayes.errors import FormulaSyntaxError, ModelSpecError
from hierbayes.spec import parse_formula


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ x*z - x:z",
        "y ~ x*z - z:x",
        "y ~ -1 + x",
        "y ~ x - 1",
        "y ~ x + (1 + x - 1 | g)",
        "y ~ (a + b)^2 - a:b",
        "y ~ x + (x / g)",
        "y ~ a/b",
        "y | trials(n) ~ n + x",
        "np.log(y) ~ x + (1 | g)",
    ],
)
def test_meant_formulas_pass(formula):
    parse_formula(formula)


def test_removal_is_of_earlier_terms_only():
    with pytest.raises(FormulaSyntaxError, match=r"'- z' removes the term 'z'"):
        parse_formula("y ~ x - z + z")


def test_removal_caret_points_at_the_term():
    formula = "y ~ x - nosuch"
    with pytest.raises(FormulaSyntaxError) as info:
        parse_formula(formula)
    assert info.value.position == formula.index("nosuch")


def test_slash_caret_points_at_the_slash():
    formula = "y ~ x + (1 / g)"
    with pytest.raises(FormulaSyntaxError) as info:
        parse_formula(formula)
    assert formula[info.value.position] == "/"


def test_response_in_a_nested_factor_is_refused():
    with pytest.raises(ModelSpecError, match=r"'y' is also the grouping factor of \(1 \| a:y\)"):
        parse_formula("y ~ x + (1 | a/y)")
