"""Math fragments: text and LaTeX side by side, wrapping of long equations."""

from __future__ import annotations

from hierbayes.equations.math import (
    WIDTH,
    Equation,
    M,
    escape,
    join,
    matrix,
    normal,
    square,
    sym,
    var,
    vector,
)

GAMMA = M("γ", r"\gamma")


def test_symbols_and_variables():
    assert sym(GAMMA, "11") == M("γ_11", r"\gamma_{11}")
    assert sym(GAMMA, "0", M("α", r"\alpha")) == M("γ_0^α", r"\gamma^{\alpha}_{0}")
    assert var("log_radon", "ij") == M("log_radon_ij", r"\text{log\_radon}_{ij}")
    assert square(sym(M("σ", r"\sigma"), "y")) == M("σ_y²", r"{\sigma_{y}}^2")
    assert normal("0", M("τ", r"\tau")) == M("N(0, τ)", r"\mathcal{N}(0, \tau)")


def test_join_vector_matrix():
    a, b = M("a", "a"), M("b", "b")
    assert join([a, b], " + ").text == "a + b"
    assert join([], " + ") == M("", "")
    assert vector([a]) == a
    assert vector([a, b]).text == "(a, b)ᵀ"
    assert matrix([[a]]) == a
    assert matrix([[a, b], [b, a]]).latex == r"\begin{pmatrix}a & b \\ b & a\end{pmatrix}"


def test_escape():
    assert escape("a_b%c&{d}") == r"a\_b\%c\&\{d\}"


def test_long_equations_wrap_at_plus_signs():
    terms = tuple(M(f"term{k:02d}·x", rf"t_{{{k}}}") for k in range(30))
    eq = Equation(M("y", "y"), terms, tail=M("r ~ N(0, σ²)", "r"))
    lines = eq.text()
    assert all(len(line) <= WIDTH for line in lines)
    assert lines[0].startswith("y = term00·x + ")
    assert all(line.startswith("  + ") for line in lines[1:-1])
    assert " + ".join(" ".join(lines).replace("  + ", " + ").split(" + ")).count("term") == 30
    assert lines[-1].endswith("r ~ N(0, σ²)")
    rows = eq.latex()
    assert len(rows) > 1 and all(r.startswith(r"\qquad + ") for r in rows[1:])


def test_short_equation_is_one_line():
    eq = Equation(M("y", "y"), (M("a", "a"), M("b", "b")))
    assert eq.text() == ["y = a + b"]
    assert eq.latex() == ["y = a + b"]
