"""Parse a hypothesis such as ``"cses:sector[T.Public] < 0"`` without evaluating any code.

A hypothesis is untrusted text. Parameter names (``cses:sector[T.Public]``, ``C(period)[T.2]``,
``sd|school[cses]``) are not Python identifiers, so each known name is first replaced, longest
first and only at a token boundary, by a placeholder ``_hbp_0``, ``_hbp_1``, ... Python's ``ast``
then parses the result, and every node is checked against a whitelist: numbers, placeholders,
``+ - * /``, unary ``+``/``-``, parentheses and exactly one comparison (``<``, ``<=``, ``>``,
``>=``, ``=`` or ``==``). Anything else (a call, an attribute, a name that is not a parameter,
``**``, two comparisons) is a :class:`~hierbayes.errors.SummaryError` that says what is wrong.
The parsed tree is evaluated by walking it over arrays of draws; nothing reaches ``eval``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hierbayes.errors import SummaryError

__all__ = ["Hypothesis", "parse_hypothesis"]

_COMPARISONS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "=",
}
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_UNARY = (ast.UAdd, ast.USub)
_SYMBOLS: dict[type, str] = {
    ast.Pow: "**",
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Not: "not",
    ast.Invert: "~",
}
# characters that may follow a parameter name (the end of a token)
_BOUNDARY = set(" \t+-*/()<>=!")
_MAX_LENGTH = 1000
_PREFIX = "_hbp_"  # placeholders; text containing it is rejected


@dataclass(frozen=True)
class Hypothesis:
    """A parsed hypothesis ``lhs <op> rhs``, tested as ``lhs - rhs <op> 0``.

    Attributes
    ----------
    text : str
        The hypothesis as written.
    expression : ast.expr
        ``lhs - rhs`` as a whitelisted tree whose names are placeholders.
    operator : str
        ``"<"``, ``"<="``, ``">"``, ``">="`` or ``"="`` (a point hypothesis).
    names : dict
        Placeholder -> parameter name.
    """

    text: str
    expression: ast.expr
    operator: str
    names: dict[str, str]

    @property
    def parameters(self) -> list[str]:
        """The parameters the hypothesis involves, in order of appearance."""
        return list(self.names.values())

    @property
    def point(self) -> bool:
        """Whether it is a point (two-sided) hypothesis, ``=``."""
        return self.operator == "="

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """``lhs - rhs`` at arrays of parameter values (by parameter name).

        Examples
        --------
        >>> h = parse_hypothesis("a[1] - 2 * b = 0", ["a[1]", "b"])
        >>> h.evaluate({"a[1]": np.array([3.0]), "b": np.array([1.0])}).tolist()
        [1.0]
        """
        return np.asarray(_evaluate(self.expression, self.names, values), dtype=float)

    def is_linear(self) -> bool:
        """Whether ``lhs - rhs`` is linear in the parameters (no product or quotient of them)."""
        return _linear(self.expression)


def _depends(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def _linear(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant | ast.Name):
        return True
    if isinstance(node, ast.UnaryOp):
        return _linear(node.operand)
    assert isinstance(node, ast.BinOp)
    if isinstance(node.op, ast.Mult) and _depends(node.left) and _depends(node.right):
        return False
    if isinstance(node.op, ast.Div) and _depends(node.right):
        return False
    return _linear(node.left) and _linear(node.right)


def _evaluate(node: ast.AST, names: Mapping[str, str], values: Mapping[str, np.ndarray]):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[names[node.id]]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, names, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    assert isinstance(node, ast.BinOp)
    left = _evaluate(node.left, names, values)
    right = _evaluate(node.right, names, values)
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Sub):
        return left - right
    if isinstance(node.op, ast.Mult):
        return left * right
    with np.errstate(divide="ignore", invalid="ignore"):
        return left / right


def _substitute(text: str, parameters: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Replace each parameter name by a placeholder, longest names first, at token boundaries."""
    ordered = sorted(set(parameters), key=len, reverse=True)
    out: list[str] = []
    names: dict[str, str] = {}
    placeholder_of: dict[str, str] = {}
    i = 0
    while i < len(text):
        start_ok = i == 0 or text[i - 1] in _BOUNDARY
        match = None
        if start_ok:
            for name in ordered:
                end = i + len(name)
                if text.startswith(name, i) and (end == len(text) or text[end] in _BOUNDARY):
                    match = name
                    break
        if match is None:
            out.append(text[i])
            i += 1
            continue
        if match not in placeholder_of:
            placeholder_of[match] = f"{_PREFIX}{len(placeholder_of)}"
            names[placeholder_of[match]] = match
        out.append(placeholder_of[match])
        i += len(match)
    return "".join(out), names


def _check(node: ast.AST, text: str, names: Mapping[str, str], valid: Sequence[str]) -> None:
    for child in ast.walk(node):
        if isinstance(child, ast.Expression | ast.Load):
            continue
        if isinstance(child, ast.Constant):
            if isinstance(child.value, bool) or not isinstance(child.value, int | float):
                raise SummaryError(f"Hypothesis {text!r}: {child.value!r} is not a number.")
            continue
        if isinstance(child, ast.Name):
            if child.id not in names:
                raise SummaryError(
                    f"Hypothesis {text!r} names {child.id!r}, which is not a parameter of this "
                    f"model; its parameters are {', '.join(valid)}."
                )
            continue
        if isinstance(child, ast.BinOp) and isinstance(child.op, _BINARY):
            continue
        if isinstance(child, ast.UnaryOp) and isinstance(child.op, _UNARY):
            continue
        if isinstance(child, _BINARY + _UNARY):
            continue
        what = type(child).__name__
        if isinstance(child, ast.BinOp | ast.UnaryOp):
            what = f"the operator {_SYMBOLS.get(type(child.op), type(child.op).__name__)}"
        raise SummaryError(
            f"Hypothesis {text!r} contains {what}, which a hypothesis cannot use: write "
            "parameters, numbers, + - * / and parentheses on each side of one comparison "
            "(<, <=, >, >=, =)."
        )


def parse_hypothesis(text: str, parameters: Sequence[str]) -> Hypothesis:
    """Parse ``text`` (``"a < 0"``, ``"a - b = 0"``, ``"2 * a > b + 1"``) against ``parameters``.

    Raises
    ------
    SummaryError
        For anything but one comparison of two arithmetic expressions of known parameters and
        numbers.

    Examples
    --------
    >>> h = parse_hypothesis("cses:sector[T.Public] < 0", ["cses", "cses:sector[T.Public]"])
    >>> h.operator, h.parameters
    ('<', ['cses:sector[T.Public]'])
    >>> parse_hypothesis("__import__('os') = 0", ["cses"])
    Traceback (most recent call last):
    ...
    hierbayes.errors.SummaryError: Hypothesis "__import__('os') = 0" contains Call, ...
    """
    if not isinstance(text, str) or not text.strip():
        raise SummaryError(f"A hypothesis must be a non-empty string, got {text!r}.")
    if len(text) > _MAX_LENGTH:
        raise SummaryError(f"A hypothesis may have at most {_MAX_LENGTH} characters.")
    if _PREFIX in text:
        raise SummaryError(f"Hypothesis {text!r} contains {_PREFIX!r}, which is reserved.")
    substituted, names = _substitute(text.strip(), parameters)
    # a single '=' is the point hypothesis; '==' means the same
    substituted = re.sub(r"(?<![<>=!])=(?!=)", "==", substituted)
    try:
        tree = ast.parse(substituted, mode="eval")
    except SyntaxError as err:
        raise SummaryError(
            f"Hypothesis {text!r} is not an expression of parameters and numbers with one "
            f"comparison (<, <=, >, >=, =): {err.msg}."
        ) from err
    body = tree.body
    if not isinstance(body, ast.Compare):
        raise SummaryError(
            f"Hypothesis {text!r} has no comparison: write e.g. 'x < 0' or 'a - b = 0'."
        )
    if len(body.ops) != 1 or type(body.ops[0]) not in _COMPARISONS:
        raise SummaryError(
            f"Hypothesis {text!r} must have exactly one comparison, one of <, <=, >, >=, =."
        )
    valid = list(parameters)
    _check(body.left, text, names, valid)
    _check(body.comparators[0], text, names, valid)
    right = body.comparators[0]
    if isinstance(right, ast.Constant) and float(right.value) == 0.0:
        expression: ast.expr = body.left
    else:
        expression = ast.BinOp(left=body.left, op=ast.Sub(), right=right)
    used = {n.id for n in ast.walk(expression) if isinstance(n, ast.Name)}
    if not used:
        raise SummaryError(f"Hypothesis {text!r} involves no parameter of the model.")
    return Hypothesis(
        text=text.strip(),
        expression=expression,
        operator=_COMPARISONS[type(body.ops[0])],
        names={k: v for k, v in names.items() if k in used},
    )
