"""parse_formula: valid formulas -> ModelSpec, invalid ones -> precise errors."""

from __future__ import annotations

import re

import pytest

from hierbayes.errors import FormulaSyntaxError, HierbayesError, ModelSpecError
from hierbayes.spec import FixedTerms, GroupTerm, ModelSpec, parse_formula

I = ("1",)  # noqa: E741 - the intercept-only term list

# formula -> (fixed terms, response, trials, [(group terms, factor, correlated), ...])
VALID = [
    ("y ~ x", ("1", "x"), "y", None, []),
    ("y ~ 1", I, "y", None, []),
    ("y ~ 0", (), "y", None, []),
    ("y ~ C(x)", ("1", "C(x)"), "y", None, []),
    ("y ~ 0 + C(a)", ("C(a)",), "y", None, []),
    ("y ~ a*b", ("1", "a", "b", "a:b"), "y", None, []),
    ("y ~ a*b*c", ("1", "a", "b", "c", "a:b", "a:c", "b:c", "a:b:c"), "y", None, []),
    ("y ~ a:b", ("1", "a:b"), "y", None, []),
    ("y ~ (a + b):c", ("1", "a:c", "b:c"), "y", None, []),
    ("y ~ 0 + x", ("x",), "y", None, []),
    ("y ~ x - 1", ("x",), "y", None, []),
    ("y ~ -1 + x", ("x",), "y", None, []),
    ("y ~ a + b - a", ("1", "b"), "y", None, []),
    ("y ~ np.log(x)", ("1", "np.log(x)"), "y", None, []),
    ("np.log(y) ~ x", ("1", "x"), "np.log(y)", None, []),
    ("y ~ x + I(x**2)", ("1", "x", "I(x ** 2)"), "y", None, []),
    ("y ~ x + (1 | g)", ("1", "x"), "y", None, [(I, ("g",), True)]),
    ("y ~ x + (1 + x | g)", ("1", "x"), "y", None, [(("1", "x"), ("g",), True)]),
    ("y ~ (x | g)", I, "y", None, [(("1", "x"), ("g",), True)]),
    ("y ~ (0 + x | g)", I, "y", None, [(("x",), ("g",), True)]),
    ("y ~ x + (-1 + x | g)", ("1", "x"), "y", None, [(("x",), ("g",), True)]),
    ("y ~ (x || g)", I, "y", None, [(("1", "x"), ("g",), False)]),
    ("y~(1||g)", I, "y", None, [(I, ("g",), False)]),
    (
        "y ~ x + z + (1 + x + z || g)",
        ("1", "x", "z"),
        "y",
        None,
        [(("1", "x", "z"), ("g",), False)],
    ),
    ("y ~ C(x) + (C(x) | g)", ("1", "C(x)"), "y", None, [(("1", "C(x)"), ("g",), True)]),
    (
        "y ~ a*b + (a*b | g)",
        ("1", "a", "b", "a:b"),
        "y",
        None,
        [(("1", "a", "b", "a:b"), ("g",), True)],
    ),
    ("y ~ (1 | g) + (0 + x | g)", I, "y", None, [(I, ("g",), True), (("x",), ("g",), True)]),
    (
        "y ~ (1 + x | g) + (0 + z | g)",
        I,
        "y",
        None,
        [(("1", "x"), ("g",), True), (("z",), ("g",), True)],
    ),
    ("y ~ (1 | a) + (1 | b)", I, "y", None, [(I, ("a",), True), (I, ("b",), True)]),
    (
        "y ~ (x | g) + (0 + x | h)",
        I,
        "y",
        None,
        [(("1", "x"), ("g",), True), (("x",), ("h",), True)],
    ),
    ("y ~ (1 | g1/g2)", I, "y", None, [(I, ("g1",), True), (I, ("g1", "g2"), True)]),
    ("y ~ (1 | g1 / g2)", I, "y", None, [(I, ("g1",), True), (I, ("g1", "g2"), True)]),
    ("y ~ (1 | g1:g2)", I, "y", None, [(I, ("g1", "g2"), True)]),
    (
        "y ~ (1 | a/b/c)",
        I,
        "y",
        None,
        [(I, ("a",), True), (I, ("a", "b"), True), (I, ("a", "b", "c"), True)],
    ),
    (
        "y ~ x + (1 | a:b/c)",
        ("1", "x"),
        "y",
        None,
        [(I, ("a", "b"), True), (I, ("a", "b", "c"), True)],
    ),
    (
        "y ~ (x || g1/g2)",
        I,
        "y",
        None,
        [(("1", "x"), ("g1",), False), (("1", "x"), ("g1", "g2"), False)],
    ),
    ("k | trials(n) ~ x + (1 | g)", ("1", "x"), "k", "n", [(I, ("g",), True)]),
    ("k|trials( size )~period", ("1", "period"), "k", "size", []),
    ("y ~ (1 | g)", I, "y", None, [(I, ("g",), True)]),
    ("y ~ 0 + (1 | g)", (), "y", None, [(I, ("g",), True)]),
    ("y ~ (1 | g) - 1", (), "y", None, [(I, ("g",), True)]),
    (
        "y ~ x + (1 | g)\n    + (1 | h)",
        ("1", "x"),
        "y",
        None,
        [(I, ("g",), True), (I, ("h",), True)],
    ),
    ("y ~ (1 | g.h)", I, "y", None, [(I, ("g.h",), True)]),
]


@pytest.mark.parametrize(
    ("formula", "fixed", "response", "trials", "groups"), VALID, ids=[v[0] for v in VALID]
)
def test_valid_formula(formula, fixed, response, trials, groups):
    spec = parse_formula(formula)
    assert isinstance(spec, ModelSpec)
    assert spec.fixed.terms == fixed
    assert spec.fixed.response == spec.response == response
    assert spec.fixed.trials == trials
    assert [(g.terms, g.factor, g.correlated) for g in spec.groups] == groups
    assert spec.formula == formula
    assert spec == ModelSpec(
        FixedTerms(response, fixed, trials), tuple(GroupTerm(*g) for g in groups)
    )


def test_valid_table_is_large_enough():
    assert len(VALID) >= 20


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("y ~ x + (x | g)", "y ~ 1 + x + (1 + x | g)"),
        ("y ~ x + (x | g)", "y~x+(x|g)"),
        ("y ~ (1 | g)", "y ~ 1 + (1 | g)"),
        ("y ~ 0 + x", "y ~ x - 1"),
        ("y ~ 0 + x", "y ~ -1 + x"),
        ("y ~ (0 + x | g)", "y ~ (x - 1 | g)"),
        ("y ~ (1 | g1/g2)", "y ~ (1 | g1) + (1 | g1:g2)"),
        ("y ~ (1 | a/b/c)", "y ~ (1 | a) + (1 | a:b) + (1 | a:b:c)"),
        ("y ~ a*b", "y ~ a + b + a:b"),
        ("y ~ (x || g)", "y ~ (1 + x || g)"),
        ("k | trials(n) ~ x", "k|trials(n)~1+x"),
        ("y ~ x + x", "y ~ x"),
    ],
)
def test_equal_specs_across_spellings(a, b):
    assert parse_formula(a) == parse_formula(b)
    assert hash(parse_formula(a)) == hash(parse_formula(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("y ~ x + (x | g)", "y ~ x + (x || g)"),
        ("y ~ x + (1 | g)", "y ~ x + (1 | h)"),
        ("y ~ x", "y ~ 0 + x"),
        ("y ~ (x | g)", "y ~ (0 + x | g)"),
        ("y ~ (1 | g1/g2)", "y ~ (1 | g1:g2)"),
        ("y ~ x", "z ~ x"),
        ("k | trials(n) ~ x", "k ~ x"),
        ("y ~ (1 | a) + (1 | b)", "y ~ (1 | b) + (1 | a)"),
    ],
)
def test_different_specs(a, b):
    assert parse_formula(a) != parse_formula(b)


# formula -> (exception type, regex the message must match)
INVALID = [
    ("y ~ (1 | g:h) + (1 | h:g)", ModelSpecError, r"intercept varies by 'h:g' in two group terms"),
    ("y ~ (1 | g/g)", ModelSpecError, r"Grouping factor 'g' appears twice in 'g:g'"),
    ("y x", FormulaSyntaxError, r"Expected '~' between the response"),
    ("y ~ x ~ z", FormulaSyntaxError, r"Expected a single '~'"),
    (" ~ x", FormulaSyntaxError, r"Expected a response before '~'"),
    ("y ~ (x", FormulaSyntaxError, r"Unclosed '\('"),
    ("y ~ x)", FormulaSyntaxError, r"Unmatched '\)'"),
    ("y ~ x + (1 | )", FormulaSyntaxError, r"Expected a grouping factor after '\|'"),
    ("y ~ x + (| g)", FormulaSyntaxError, r"Expected the varying terms before '\|'"),
    ("y ~ x | g", FormulaSyntaxError, r"A group term needs parentheses"),
    ("y ~ (1 | g | h)", FormulaSyntaxError, r"Expected one '\|' \(or '\|\|'\)"),
    ("y ~ x + (1 ||| g)", FormulaSyntaxError, r"Expected one '\|' \(or '\|\|'\)"),
    ("y ~ x + ", FormulaSyntaxError, r"Expected a term after '\+'"),
    ("y ~ x ++ z", FormulaSyntaxError, r"Expected a term after '\+'"),
    ("y ~ x - (1 | g)", FormulaSyntaxError, r"cannot be removed with '-'"),
    ("y ~ (0 | g)", FormulaSyntaxError, r"no varying coefficient"),
    ("y ~ (-1 | g)", FormulaSyntaxError, r"no varying coefficient"),
    ("y ~ (1 | 1g)", FormulaSyntaxError, r"Expected a grouping variable name, got '1g'"),
    ("y ~ (1 | g + h)", FormulaSyntaxError, r"got 'g \+ h'"),
    ("y ~ (1 | g1/)", FormulaSyntaxError, r"Expected a grouping variable name, got ''"),
    ("y ~ (1 | g1:)", FormulaSyntaxError, r"Expected a grouping variable name, got ''"),
    ("y ~ x + (x | np.log(g))", FormulaSyntaxError, r"got 'np\.log\(g\)'"),
    ("y | n ~ x", FormulaSyntaxError, r"Expected 'response \| trials\(column\)'"),
    ("y | trials() ~ x", FormulaSyntaxError, r"Expected 'response \| trials\(column\)'"),
    ("| trials(n) ~ x", FormulaSyntaxError, r"Expected 'response \| trials\(column\)'"),
    ("y ~ a $ b", FormulaSyntaxError, r"Could not parse 'a \$ b'"),
    ("y ~ x + (x + | g)", FormulaSyntaxError, r"Could not parse 'x \+'"),
    ("y ~ x*(1 | g)", FormulaSyntaxError, r"Could not parse 'x\*\(1 \| g\)'"),
    ("y ~ (1 | g) + (1 | g)", ModelSpecError, r"the intercept varies by 'g' in two group terms"),
    ("y ~ (1 + x | g) + (x || g)", ModelSpecError, r"the intercept varies by 'g'"),
    ("y ~ (x | g) + (0 + x | g)", ModelSpecError, r"'x' varies by 'g' in two group terms"),
    ("y ~ (1 | g) + (1 | g/h)", ModelSpecError, r"the intercept varies by 'g'"),
    ("y ~ (1 | g1/g2) + (1 | g1:g2)", ModelSpecError, r"varies by 'g1:g2'"),
]


@pytest.mark.parametrize(("formula", "error", "match"), INVALID, ids=[v[0] for v in INVALID])
def test_invalid_formula(formula, error, match):
    with pytest.raises(error, match=match) as info:
        parse_formula(formula)
    assert type(info.value) is error
    assert isinstance(info.value, HierbayesError)
    assert isinstance(info.value, ValueError)
    if error is FormulaSyntaxError:
        assert info.value.formula == formula
        assert info.value.position is not None
        assert 0 <= info.value.position <= len(formula)


def test_invalid_table_is_large_enough():
    assert len(INVALID) >= 12


# formula -> (position, character under the caret; '' for the end of the formula)
POSITIONS = [
    ("y ~ (x", 4, "("),
    ("y ~ x + (1 | g", 8, "("),
    ("y ~ x)", 5, ")"),
    ("y ~ )(", 4, ")"),
    ("y ~ x + (1 | )", 13, ")"),  # empty factor after '|': caret where the name should be
    ("y ~ x + (1 || )", 14, ")"),
    ("y ~ x ~ z", 6, "~"),
    ("y x", 3, ""),
    ("y ~ x | g", 6, "|"),
    ("y ~ (1 | g | h)", 11, "|"),
    ("y ~ (1 | 1g)", 9, "1"),
    ("y ~ (1 | a:2b)", 11, "2"),
    ("y ~ (1 | a/ 2b)", 12, "2"),
    ("y ~ x - (1|g)", 8, "("),
    ("y ~ x + ", 6, "+"),
    ("y ~ x + (| g)", 9, "|"),
    ("y | n ~ x", 2, "|"),
]


@pytest.mark.parametrize(("formula", "position", "char"), POSITIONS)
def test_syntax_error_position(formula, position, char):
    with pytest.raises(FormulaSyntaxError, match=r"\^") as info:
        parse_formula(formula)
    err = info.value
    assert err.position == position
    assert formula[position : position + 1] == char
    # The message repeats the formula with a caret under the offending character.
    lines = str(err).splitlines()
    assert lines[-2] == f"    {formula}"
    assert lines[-1] == "    " + " " * position + "^"


@pytest.mark.parametrize("bad", [None, 3, b"y ~ x", ["y ~ x"]])
def test_non_string_formula(bad):
    with pytest.raises(TypeError, match=r"formula must be a string, got "):
        parse_formula(bad)


def test_formulaic_error_is_chained():
    with pytest.raises(FormulaSyntaxError, match=r"Unknown operator") as info:
        parse_formula("y ~ a $ b")
    assert info.value.__cause__ is not None


def test_formula_syntax_error_without_position():
    err = FormulaSyntaxError("plain message")
    assert str(err) == "plain message"
    assert err.formula is None and err.position is None
    assert re.search(r"\^", str(FormulaSyntaxError("m", "y ~", 3)))


def test_spec_str_round_trips():
    for formula in [f for f, *_ in VALID]:
        spec = parse_formula(formula)
        assert parse_formula(str(spec)) == spec, formula
