"""The grammar of a formula's Python terms: edges of what is allowed."""

from __future__ import annotations

import pytest

from hierbayes.errors import FormulaSyntaxError
from hierbayes.spec.whitelist import check_python_term, not_allowed, uses_column


def _check(term: str) -> None:
    check_python_term(f"y ~ {term}", term, 4)


@pytest.mark.parametrize(
    "term",
    [
        "I(x**1000)",
        "I(x**-1000)",
        "I(2**x)",
        "I(x**z)",
        "I(9**9)",
        "I(-x + +z)",
        "I(x >= 1)",
        "I('a' != g)",
        "C(g, Treatment)",
        "C(g, Treatment(base='b'))",
        "C(g, contr.diff(backward=False))",
        "C(g, levels=('a', 'b'), spans_intercept=False)",
        "poly(x, degree=100, raw=True)",
        "bs(x, knots=[1, 2.5], degree=3, include_intercept=False, extrapolation='clip')",
        "cr(x, df=4, constraints='center')",
        "scale(x, center=True, scale=False, ddof=0)",
        "np.log(`é x`)",
        "np.sqrt(center(x))",
    ],
)
def test_allowed_edges(term):
    _check(term)


@pytest.mark.parametrize(
    ("term", "match"),
    [
        ("I(x**1001)", r"The power 'x\*\*1001' is not allowed"),
        ("I(x**(2**2000))", r"The power '2\*\*2000' is not allowed"),
        ("poly(x, degree=101)", r"101 is too large here"),
        ("C(g, levels={'a'})", r"'\{'a'\}' is not a literal"),
        ("C(g, Treatment, 1)", r"C\(\.\.\.\) takes at most 2 positional argument"),
        ("C(g, contr.custom([1]))", r"'contr\.custom' is not a contrast coding"),
        ("scale(x, rescale=True)", r"scale\(\.\.\.\) has no argument 'rescale'"),
        ("np.log(`é x`.real)", r"attribute '`é x`\.real' is not allowed"),
        ("I(x is None)", r"'x is None' is not allowed .*Compare"),
        ("I(x in z)", r"'x in z' is not allowed .*Compare"),
    ],
)
def test_refused_edges(term, match):
    with pytest.raises(FormulaSyntaxError, match=match):
        _check(term)


def test_caret_counts_characters_not_bytes():
    term = "np.log(`é x`) + os"  # 'é' is two bytes in UTF-8
    formula = f"y ~ I({term}.system())"
    with pytest.raises(FormulaSyntaxError) as info:
        check_python_term(formula, formula[4:], 4)
    assert formula[info.value.position :].startswith("os.system")


def test_uses_column():
    assert uses_column("np.log(y)") and uses_column("I(`y 1` * 2)")
    assert not uses_column("np.log(2)") and not uses_column("I(1 + 2)")


def test_not_allowed_lists_the_allowed_functions():
    message = not_allowed("foo", " Did you mean np.log?")
    assert message.startswith("'foo' is not an allowed function in a formula. Did you mean np.log?")
    assert "np.log1p" in message and "poly" in message
