"""FixedTerms, GroupTerm and ModelSpec: display, properties, equality and immutability."""

from __future__ import annotations

import dataclasses

import pytest

from hierbayes.spec import FixedTerms, GroupTerm, ModelSpec, parse_formula


@pytest.mark.parametrize(
    ("terms", "expr", "has_intercept"),
    [
        (("1",), "1", True),
        (("1", "x"), "1 + x", True),
        (("1", "x", "z", "x:z"), "1 + x + z + x:z", True),
        (("x",), "0 + x", False),
        (("C(a)", "x"), "0 + C(a) + x", False),
        ((), "0", False),
    ],
)
def test_fixed_terms_expr(terms, expr, has_intercept):
    fixed = FixedTerms("y", terms)
    assert fixed.expr == expr
    assert fixed.has_intercept is has_intercept
    assert fixed.trials is None


@pytest.mark.parametrize(
    ("group", "factor_name", "expr", "text", "has_intercept"),
    [
        (GroupTerm(("1",), ("g",)), "g", "1", "(1 | g)", True),
        (GroupTerm(("1", "x"), ("school",), True), "school", "1 + x", "(1 + x | school)", True),
        (GroupTerm(("1", "x"), ("s",), False), "s", "1 + x", "(1 + x || s)", True),
        (GroupTerm(("x",), ("g",), True), "g", "0 + x", "(0 + x | g)", False),
        (GroupTerm(("x", "z"), ("g",), False), "g", "0 + x + z", "(0 + x + z || g)", False),
        (GroupTerm(("1",), ("g1", "g2")), "g1:g2", "1", "(1 | g1:g2)", True),
        (GroupTerm(("1",), ("a", "b", "c")), "a:b:c", "1", "(1 | a:b:c)", True),
    ],
)
def test_group_term_display(group, factor_name, expr, text, has_intercept):
    assert group.factor_name == factor_name
    assert group.expr == expr
    assert str(group) == text
    assert group.has_intercept is has_intercept


def test_group_term_default_is_correlated():
    assert GroupTerm(("1",), ("g",)).correlated is True


@pytest.mark.parametrize(
    ("formula", "text"),
    [
        ("y ~ x", "y ~ 1 + x"),
        ("y ~ 0 + x", "y ~ 0 + x"),
        ("y ~ (1|g)", "y ~ 1 + (1 | g)"),
        ("y ~ 0 + (1|g)", "y ~ 0 + (1 | g)"),
        ("y ~ x + (x||g)", "y ~ 1 + x + (1 + x || g)"),
        ("y ~ x + (0 + x|g)", "y ~ 1 + x + (0 + x | g)"),
        ("y ~ (1|a/b)", "y ~ 1 + (1 | a) + (1 | a:b)"),
        ("k | trials(n) ~ x + (1|herd)", "k | trials(n) ~ 1 + x + (1 | herd)"),
        ("np.log(y) ~ a*b", "np.log(y) ~ 1 + a + b + a:b"),
    ],
)
def test_model_spec_str(formula, text):
    spec = parse_formula(formula)
    assert str(spec) == text
    assert spec.formula == formula


def test_model_spec_str_by_hand():
    spec = ModelSpec(
        FixedTerms("k", ("1", "x"), trials="n"),
        (GroupTerm(("1", "x"), ("g",), False), GroupTerm(("1",), ("g", "h"))),
    )
    assert str(spec) == "k | trials(n) ~ 1 + x + (1 + x || g) + (1 | g:h)"
    assert spec.response == "k"
    assert spec.formula == ""


@pytest.mark.parametrize(
    ("formula", "factors"),
    [
        ("y ~ x", ()),
        ("y ~ (1|g)", ("g",)),
        ("y ~ (1|b) + (1|a)", ("b", "a")),
        ("y ~ (1|g) + (0 + x|g)", ("g",)),
        ("y ~ (1|g) + (1|h) + (0 + x|g)", ("g", "h")),
        ("y ~ (1|a/b/c)", ("a", "a:b", "a:b:c")),
        ("y ~ (1|s) + (1|a/b) + (0 + x|s)", ("s", "a", "a:b")),
    ],
)
def test_factors_in_order_of_appearance(formula, factors):
    assert parse_formula(formula).factors == factors


def test_formula_text_takes_no_part_in_equality():
    a = ModelSpec(FixedTerms("y", ("1",)), formula="y ~ 1")
    b = ModelSpec(FixedTerms("y", ("1",)), formula="y~1")
    assert a == b
    assert hash(a) == hash(b)
    assert ModelSpec(FixedTerms("y", ("1",))) != ModelSpec(FixedTerms("y", ()))


def test_equality_of_parts():
    assert FixedTerms("y", ("1",)) == FixedTerms("y", ("1",), None)
    assert FixedTerms("y", ("1",)) != FixedTerms("y", ("1",), "n")
    assert GroupTerm(("1",), ("g",), True) != GroupTerm(("1",), ("g",), False)
    assert GroupTerm(("1",), ("g1", "g2")) != GroupTerm(("1",), ("g2", "g1"))
    assert len({GroupTerm(("1",), ("g",)), GroupTerm(("1",), ("g",))}) == 1


@pytest.mark.parametrize(
    ("obj", "attribute", "value"),
    [
        (FixedTerms("y", ("1",)), "response", "z"),
        (FixedTerms("y", ("1",)), "terms", ()),
        (FixedTerms("y", ("1",)), "trials", "n"),
        (GroupTerm(("1",), ("g",)), "terms", ("x",)),
        (GroupTerm(("1",), ("g",)), "factor", ("h",)),
        (GroupTerm(("1",), ("g",)), "correlated", False),
        (parse_formula("y ~ x + (1|g)"), "fixed", FixedTerms("z", ())),
        (parse_formula("y ~ x + (1|g)"), "groups", ()),
        (parse_formula("y ~ x + (1|g)"), "formula", "other"),
    ],
)
def test_frozen(obj, attribute, value):
    match = f"cannot assign to field '{attribute}'"
    with pytest.raises(dataclasses.FrozenInstanceError, match=match):
        setattr(obj, attribute, value)


def test_groups_is_a_tuple_of_terms():
    spec = parse_formula("y ~ x + (1 | g) + (0 + x || h)")
    assert isinstance(spec.groups, tuple)
    assert isinstance(spec.fixed.terms, tuple)
    assert all(isinstance(g, GroupTerm) for g in spec.groups)
    assert all(isinstance(g.factor, tuple) and isinstance(g.terms, tuple) for g in spec.groups)
