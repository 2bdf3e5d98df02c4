"""Math fragments written twice, as plain Unicode text and as LaTeX, and laid out as equations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Equation", "Line", "M", "join", "matrix", "normal", "sym", "var", "vector"]

WIDTH = 100
"""Plain-text equations wrap at this width (continuation lines start with ``+``)."""

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "^": r"\^{}",
    "~": r"\~{}",
}


def escape(text: str) -> str:
    r"""Escape ``text`` for LaTeX's ``\text{}``.

    Examples
    --------
    >>> escape("log_radon")
    'log\\_radon'
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class M:
    """A math fragment: its plain-text and LaTeX spellings, concatenated with ``+``.

    Examples
    --------
    >>> (M("β", r"\\beta") + "_0").text
    'β_0'
    """

    text: str
    latex: str

    def __add__(self, other: M | str) -> M:
        if isinstance(other, str):
            other = M(other, other)
        return M(self.text + other.text, self.latex + other.latex)

    def __radd__(self, other: str) -> M:
        return M(other, other) + self


def join(parts: Iterable[M], sep: M | str) -> M:
    """Concatenate fragments with a separator."""
    sep = M(sep, sep) if isinstance(sep, str) else sep
    out: M | None = None
    for part in parts:
        out = part if out is None else out + sep + part
    return out if out is not None else M("", "")


def sym(letter: M, sub: M | str = "", sup: M | str = "") -> M:
    """A symbol with a subscript and a superscript: ``γ_11``, ``γ_0^α``."""
    sub = M(sub, sub) if isinstance(sub, str) else sub
    sup = M(sup, sup) if isinstance(sup, str) else sup
    text = letter.text + (f"_{sub.text}" if sub.text else "") + (f"^{sup.text}" if sup.text else "")
    latex = letter.latex + (f"^{{{sup.latex}}}" if sup.latex else "")
    latex += f"_{{{sub.latex}}}" if sub.latex else ""
    return M(text, latex)


def var(name: str, sub: str = "") -> M:
    """A data variable with its subscript: ``cses_ij``."""
    text = f"{name}_{sub}" if sub else name
    latex = rf"\text{{{escape(name)}}}" + (f"_{{{sub}}}" if sub else "")
    return M(text, latex)


def square(x: M) -> M:
    """``x²``."""
    text = f"({x.text})²" if "^" in x.text or "/" in x.text else f"{x.text}²"
    return M(text, f"{{{x.latex}}}^2")


def normal(mean: M | str, variance: M) -> M:
    """``N(mean, variance)``."""
    mean = M(mean, mean) if isinstance(mean, str) else mean
    return M("N(", r"\mathcal{N}(") + mean + ", " + variance + ")"


def vector(items: Sequence[M]) -> M:
    """A column vector: ``(a, b)ᵀ``; a single item stands alone."""
    if len(items) == 1:
        return items[0]
    text = "(" + ", ".join(i.text for i in items) + ")ᵀ"
    latex = r"\begin{pmatrix}" + r" \\ ".join(i.latex for i in items) + r"\end{pmatrix}"
    return M(text, latex)


def matrix(rows: Sequence[Sequence[M]]) -> M:
    """A matrix: ``[[a, b], [c, d]]``; a 1 x 1 matrix is its element."""
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    text = "[" + ", ".join("[" + ", ".join(c.text for c in r) + "]" for r in rows) + "]"
    latex = (
        r"\begin{pmatrix}"
        + r" \\ ".join(" & ".join(c.latex for c in r) for r in rows)
        + r"\end{pmatrix}"
    )
    return M(text, latex)


@dataclass(frozen=True)
class Equation:
    """``lhs rel t1 + t2 + ...`` followed by an optional ``tail`` (e.g. the residual's law)."""

    lhs: M
    terms: tuple[M, ...]
    rel: M = M(" = ", " = ")
    tail: M | None = None

    def text(self, indent: int = 0) -> list[str]:
        """Plain-text lines, wrapped at :data:`WIDTH`."""
        head = self.lhs.text + self.rel.text
        terms = [t.text for t in self.terms] or ["0"]
        lines, current = [], head + terms[0]
        pad = " " * max(len(head) - 2, 0)
        for term in terms[1:]:
            if indent + len(current) + 3 + len(term) > WIDTH:
                lines.append(current)
                current = f"{pad}+ {term}"
            else:
                current += f" + {term}"
        if self.tail is not None:
            tail = f",   {self.tail.text}"
            if indent + len(current) + len(tail) > WIDTH:
                lines.append(current + ",")
                current = pad + "  " + self.tail.text
            else:
                current += tail
        lines.append(current)
        return lines

    def latex(self) -> list[str]:
        """LaTeX rows (for an ``aligned`` environment), broken where the text wraps."""
        rows, current, width = [], self.lhs.latex + self.rel.latex, len(self.lhs.text)
        terms = list(self.terms) or [M("0", "0")]
        current += terms[0].latex
        width += len(terms[0].text)
        for term in terms[1:]:
            if width + 3 + len(term.text) > WIDTH - 20:
                rows.append(current)
                current, width = r"\qquad + " + term.latex, 8 + len(term.text)
            else:
                current += " + " + term.latex
                width += 3 + len(term.text)
        if self.tail is not None:
            current += r", \qquad " + self.tail.latex
        rows.append(current)
        return rows


Line = Equation | M
