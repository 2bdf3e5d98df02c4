"""parse_levels: level equations -> the same ModelSpec as the equivalent formula; precise errors."""

from __future__ import annotations

import pytest

from hierbayes.errors import FormulaSyntaxError, ModelSpecError
from hierbayes.spec import parse_formula
from hierbayes.spec.levels import Level2Equation, LevelSpec, parse_levels

I = ["Intercept"]  # noqa: E741 - the random-intercept list
BOTH_HSB = "~ 1 + meanses + sector"

# (level1, level2, random, group, correlated) -> the equivalent formula
EQUIVALENT = [
    # the textbook sequence (Raudenbush & Bryk, ch. 4)
    ("mAch ~ 1", None, I, "school", True, "mAch ~ 1 + (1 | school)"),
    ("mAch ~ 1", {"Intercept": "~ meanses"}, I, "school", True, "mAch ~ meanses + (1 | school)"),
    ("mAch ~ cses", None, I, "school", True, "mAch ~ cses + (1 | school)"),
    ("mAch ~ 1 + cses", None, [*I, "cses"], "school", True, "mAch ~ cses + (cses | school)"),
    (
        "mAch ~ 1 + cses",
        {"Intercept": BOTH_HSB, "cses": BOTH_HSB},
        [*I, "cses"],
        "school",
        True,
        "mAch ~ cses * (meanses + sector) + (1 + cses | school)",
    ),
    # uncorrelated, no random intercept, non-randomly varying slope, no constant
    ("y ~ x", None, ["1", "x"], "g", False, "y ~ x + (x || g)"),
    ("y ~ x", None, ["x"], "g", True, "y ~ x + (0 + x | g)"),
    ("y ~ x", {"x": "~ w"}, I, "g", True, "y ~ x + x:w + (1 | g)"),
    ("y ~ x", {"x": "~ 0 + w"}, ["Intercept", "x"], "g", True, "y ~ x:w + (1 + x | g)"),
    ("y ~ 0 + x", {"x": "~ w"}, ["x"], "g", True, "y ~ 0 + x + x:w + (0 + x | g)"),
    # several level-1 predictors with different level-2 equations, categorical ones included
    (
        "mAch ~ cses + minrty + sx",
        {"Intercept": BOTH_HSB, "cses": "~ meanses", "minrty": "~ sector"},
        ["Intercept", "cses"],
        "school",
        True,
        "mAch ~ cses + minrty + sx + meanses + sector + cses:meanses + minrty:sector"
        " + (1 + cses | school)",
    ),
    (
        "y ~ C(t) + np.log(x)",
        {"C(t)": "~ w", "np.log( x )": "~ C(s)"},
        I,
        "g",
        True,
        "y ~ C(t) + np.log(x) + C(t):w + np.log(x):C(s) + (1 | g)",
    ),
    # binomial response
    (
        "k | trials(n) ~ C(period)",
        None,
        I,
        "herd",
        True,
        "k | trials(n) ~ C(period) + (1 | herd)",
    ),
    # three levels: varying intercepts at both upper levels, in three spellings of the grouping
    (
        "y ~ 1 + x",
        {"Intercept": "~ X + W"},
        I,
        ["school", "class"],
        True,
        "y ~ x + X + W + (1 | school/class)",
    ),
    ("y ~ 1", None, I, "school / class", True, "y ~ 1 + (1 | school) + (1 | school:class)"),
    (
        "y ~ x",
        {"Intercept": "~ X + W", "x": "~ W"},
        {"school": ["Intercept", "x"], "school:class": I},
        ["school", "class"],
        True,
        "y ~ x + X + W + x:W + (1 + x | school) + (1 | school:class)",
    ),
    (
        "y ~ x",
        None,
        {"class": ["Intercept", "x"]},
        ["school", "class"],
        False,
        "y ~ x + (1 + x || school:class)",
    ),
]


@pytest.mark.parametrize(
    ("level1", "level2", "random", "group", "correlated", "formula"),
    EQUIVALENT,
    ids=[row[-1] for row in EQUIVALENT],
)
def test_level_equations_equal_the_formula(level1, level2, random, group, correlated, formula):
    levels = parse_levels(level1, level2, random=random, group=group, correlated=correlated)
    spec = levels.to_model_spec()
    assert spec == parse_formula(formula)
    # the equivalent formula it displays reads back to the same spec
    assert parse_formula(levels.formula) == spec
    assert spec.formula == levels.formula


def test_textbook_model_displays_its_formula():
    levels = parse_levels(
        "mAch ~ 1 + cses",
        {"Intercept": BOTH_HSB, "cses": BOTH_HSB},
        random=["Intercept", "cses"],
        group="school",
    )
    assert levels.formula == (
        "mAch ~ 1 + cses + meanses + sector + cses:meanses + cses:sector + (1 + cses | school)"
    )
    assert levels.level1 == ("1", "cses")
    assert levels.equations == (
        Level2Equation("1", ("1", "meanses", "sector")),
        Level2Equation("cses", ("1", "meanses", "sector")),
    )
    assert levels.equations[1].fixed_terms == ("cses", "cses:meanses", "cses:sector")
    assert levels.level2_variables == ("meanses", "sector")
    assert levels.random == (("school", ("1", "cses")),)
    assert levels.factors == ("school",)


def test_defaults_random_intercept_and_constant_equations():
    levels = parse_levels("y ~ x", group="g")
    assert levels.equations == (Level2Equation("1", ("1",)), Level2Equation("x", ("1",)))
    assert levels.formula == "y ~ 1 + x + (1 | g)"


def test_no_random_effect_at_all_is_a_plain_regression_with_cross_level_terms():
    levels = parse_levels("y ~ x", {"x": "~ w"}, random=[], group="g")
    assert levels.to_model_spec() == parse_formula("y ~ x + x:w")


def test_uncorrelated_single_coefficient_is_the_plain_bar():
    levels = parse_levels("y ~ x", random=["Intercept"], group="g", correlated=False)
    assert levels.to_model_spec() == parse_formula("y ~ x + (1 | g)")
    assert levels.to_model_spec() != parse_formula("y ~ x + (1 || g)")


def test_three_level_factors_and_random_per_level():
    levels = parse_levels("y ~ x", random={"class": ["x"]}, group=["school", "class"])
    assert levels.factors == ("school", "school:class")
    assert levels.random == (("school", ()), ("school:class", ("x",)))
    assert isinstance(levels, LevelSpec)


def test_equal_level_specs_compare_equal():
    a = parse_levels("y ~ 1 + x", {"1": "~ w"}, random=["x", "1"], group="g")
    b = parse_levels("y ~ x", {"Intercept": "w"}, random=["Intercept", "x"], group="g")
    assert a == b


# -- errors -------------------------------------------------------------------------------


def test_level2_coefficient_not_in_level1_is_named():
    with pytest.raises(ModelSpecError, match=r"level2 names 'ses', which is not a coefficient"):
        parse_levels("mAch ~ cses", {"ses": "~ meanses"}, group="school")


def test_level2_error_lists_the_coefficients():
    with pytest.raises(ModelSpecError, match=r"its coefficients are: Intercept, cses\."):
        parse_levels("mAch ~ cses", {"ses": "~ meanses"}, group="school")


def test_intercept_equation_without_a_level1_intercept():
    with pytest.raises(ModelSpecError, match="level2 names the intercept, which is not a coeff"):
        parse_levels("y ~ 0 + x", {"Intercept": "~ w"}, random=["x"], group="g")


def test_random_coefficient_not_in_level1_is_named():
    with pytest.raises(ModelSpecError, match=r"random names 'z', which is not a coefficient"):
        parse_levels("y ~ x", random=["Intercept", "z"], group="g")


def test_random_for_an_unknown_grouping_column():
    with pytest.raises(ModelSpecError, match=r"grouping column 'district', which is not in group"):
        parse_levels("y ~ x", random={"district": ["Intercept"]}, group=["school", "class"])


def test_group_term_in_level1():
    with pytest.raises(ModelSpecError, match=r"has the group term \(1 \| g\)"):
        parse_levels("y ~ x + (1 | g)", group="g")


def test_group_term_in_a_level2_equation():
    with pytest.raises(FormulaSyntaxError, match="A level-2 equation has no group term"):
        parse_levels("y ~ x", {"x": "~ w + (1 | g)"}, group="g")


def test_left_hand_side_in_a_level2_equation():
    with pytest.raises(FormulaSyntaxError, match="A level-2 equation has no left-hand side"):
        parse_levels("y ~ x", {"x": "b1 ~ w"}, group="g")


def test_empty_level2_equation():
    with pytest.raises(FormulaSyntaxError, match=r"Expected the predictors of 'x' after '~'"):
        parse_levels("y ~ x", {"x": "~  "}, group="g")


def test_level2_syntax_error_points_at_the_character():
    with pytest.raises(FormulaSyntaxError, match=r"Could not parse") as err:
        parse_levels("y ~ x", {"x": "~ w +* z"}, group="g")
    assert "~ w +* z" in str(err.value)


def test_coefficient_that_would_vanish():
    with pytest.raises(ModelSpecError, match=r"it is 0 and x drops out"):
        parse_levels("y ~ x", {"x": "~ 0"}, group="g")


def test_term_entering_twice():
    with pytest.raises(ModelSpecError, match=r"The term 'w' enters the model twice"):
        parse_levels("y ~ x + w", {"Intercept": "~ w"}, group="g")


def test_cross_level_term_entering_twice():
    with pytest.raises(
        ModelSpecError,
        match=r"The term 'w:x' enters the model twice: from 'w' in the equation of x",
    ):
        parse_levels("y ~ x + w:x", {"x": "~ w"}, group="g")


def test_two_equations_for_one_coefficient():
    with pytest.raises(ModelSpecError, match="level2 has two equations for Intercept"):
        parse_levels("y ~ x", {"Intercept": "~ w", "1": "~ z"}, group="g")


@pytest.mark.parametrize("group", ["", [], "school/", ["a", "a b"], 3])
def test_bad_group(group):
    with pytest.raises(ModelSpecError, match="group must name"):
        parse_levels("y ~ x", group=group)


def test_grouping_column_twice():
    with pytest.raises(ModelSpecError, match=r"names a grouping column twice"):
        parse_levels("y ~ x", group=["school", "school"])


def test_level1_must_be_a_string():
    with pytest.raises(TypeError, match="level1 must be a string"):
        parse_levels(3, group="g")  # type: ignore[arg-type]


def test_level2_equation_must_be_a_string():
    with pytest.raises(TypeError, match="The level-2 equation for 'x' must be a string"):
        parse_levels("y ~ x", {"x": 1}, group="g")  # type: ignore[dict-item]


def test_offsets_of_the_level1_equation_are_kept_in_the_formula():
    levels = parse_levels("y ~ x + offset(np.log(e))", {"x": "~ w"}, random=["x"], group="g")
    assert levels.offsets == ("np.log(e)",)
    assert levels.formula == "y ~ 1 + x + x:w + offset(np.log(e)) + (0 + x | g)"
    assert levels.to_model_spec() == parse_formula("y ~ x + x:w + offset(np.log(e)) + (0 + x | g)")
