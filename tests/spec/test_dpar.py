"""Formulas of the residual SD (``sigma="~ ..."``): parsed as formulas are, nothing evaluated."""

import pytest

from hierbayes.errors import FormulaSyntaxError, ModelSpecError
from hierbayes.spec.dpar import parse_dpar_formula


def test_fixed_and_group_terms_in_the_usual_syntax():
    spec = parse_dpar_formula("~ treatment + (1 | school) + (0 + x || class)")
    assert spec.fixed.terms == ("1", "treatment")
    assert [(g.factor, g.correlated) for g in spec.groups] == [
        (("school",), True),
        (("class",), False),
    ]
    assert spec.formula == "~ treatment + (1 | school) + (0 + x || class)"
    assert parse_dpar_formula("~ 0 + g").fixed.terms == ("g",)


def test_a_response_on_the_left_is_refused():
    with pytest.raises(FormulaSyntaxError, match=r"has no response.*Write '~ x'"):
        parse_dpar_formula("sigma ~ x")


def test_the_tilde_is_needed():
    with pytest.raises(FormulaSyntaxError, match="Expected '~' at the start of the sigma"):
        parse_dpar_formula("x + (1 | g)")


def test_code_in_the_formula_is_refused_before_anything_runs():
    with pytest.raises(FormulaSyntaxError, match="'__import__' is not an allowed function"):
        parse_dpar_formula("~ __import__('os').system('true')")
    with pytest.raises(FormulaSyntaxError, match="f2py"):
        parse_dpar_formula("~ np.f2py.os.system('true')")


def test_an_offset_is_refused():
    with pytest.raises(ModelSpecError, match="offsets apply to the mean"):
        parse_dpar_formula("~ x + offset(z)")


def test_a_string_is_needed_and_only_sigma_takes_a_formula():
    with pytest.raises(FormulaSyntaxError, match="must be a string"):
        parse_dpar_formula(3)  # type: ignore[arg-type]
    with pytest.raises(ModelSpecError, match="No formula can be given for 'nu'"):
        parse_dpar_formula("~ x", "nu")
