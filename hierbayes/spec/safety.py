"""Formulas are data, never code: a whitelist check of formula text before formulaic sees it.

formulaic evaluates every function-call term of a formula (``np.log(x)``, ``C(g)``) with Python's
``eval``. Left alone it would run any Python a formula contains (``np.f2py.os.system(...)``), so
every formula, level-2 equation and saved formula goes through :func:`check_formula` (or
:func:`check_expression` for a right-hand side alone) first. The check splits the text with
formulaic's own tokenizer (pure text processing), parses each Python term with :mod:`ast` (parse
only: nothing is compiled or run) and accepts only

- column names (``x``, ``Sepal.Length``, backquoted ```my col```), and numbers;
- arithmetic and comparisons on columns and numbers inside ``I(...)``;
- the transforms in :data:`ALLOWED_FUNCTIONS`, with literal arguments (numbers, strings, lists)
  besides the column expression they transform.

Anything else is a :class:`~hierbayes.errors.FormulaSyntaxError` that names the function,
attribute or construct and lists the allowed transforms. As a second line of defence, every place
that hands a formula to formulaic for evaluation passes :data:`FORMULA_CONTEXT`, a namespace that
exposes only the whitelisted transforms (formulaic otherwise evaluates in the caller's frame, with
the whole of numpy as ``np``).
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from types import MappingProxyType, SimpleNamespace
from typing import Any

import numpy as np
from formulaic.errors import FormulaicError
from formulaic.parser.algos.tokenize import tokenize
from formulaic.parser.types import Token
from formulaic.transforms import TRANSFORMS

from hierbayes.errors import FormulaSyntaxError
from hierbayes.spec.whitelist import (
    ALLOWED_FUNCTIONS,
    BARE_FUNCTIONS,
    CONTRASTS,
    NUMPY_FUNCTIONS,
    TRANSFORM_NAMES,
    check_python_term,
    is_reserved,
    not_allowed,
    parse_quietly,
    uses_column,
)

__all__ = [
    "ALLOWED_FUNCTIONS",
    "FORMULA_CONTEXT",
    "MAX_FORMULA_LENGTH",
    "NUMPY_FUNCTIONS",
    "check_expression",
    "check_formula",
    "check_offset",
]


MAX_FORMULA_LENGTH = 10_000
"""Longest formula accepted (characters)."""


class _Blocked:
    """Stands in, during evaluation, for a name a formula may not use."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: object, **kwargs: object) -> None:
        raise FormulaSyntaxError(not_allowed(self.name))

    def __repr__(self) -> str:
        return f"<{self.name}: not allowed in a formula>"


def _context() -> Mapping[str, Any]:
    blocked = {name: _Blocked(name) for name in dir(builtins) if name not in ("True", "False")}
    blocked.update({name: _Blocked(name) for name in TRANSFORMS})
    safe_numpy = SimpleNamespace(**{name: getattr(np, name) for name in NUMPY_FUNCTIONS})
    allowed = {
        name: TRANSFORMS[name]
        for name in (*BARE_FUNCTIONS, *TRANSFORM_NAMES, *CONTRASTS)
        if name in TRANSFORMS
    }
    allowed["contr"] = TRANSFORMS["contr"]
    # formulaic evaluates with empty globals, where Python would find the real builtins module
    blocked["__builtins__"] = _Blocked("__builtins__")
    return MappingProxyType({**blocked, **allowed, "np": safe_numpy})


FORMULA_CONTEXT: Mapping[str, Any] = _context()
"""The only names formulaic may resolve, besides data columns, when it evaluates a formula.

Pass it as ``context=`` to every formulaic ``model_matrix``/``get_model_matrix`` call: ``np`` is a
namespace with only :data:`NUMPY_FUNCTIONS`; Python's builtins and formulaic's other transforms are
replaced by stand-ins that refuse to run.
"""


def check_formula(formula: object) -> None:
    """Refuse a model formula that is anything but data: see the module docstring.

    Parameters
    ----------
    formula : str
        A whole formula such as ``"y ~ np.log(x) + (1 | g)"`` (one top-level ``~``).

    Raises
    ------
    FormulaSyntaxError
        Names the function, attribute or construct that is not allowed (with a caret under it)
        and lists the allowed transforms; also for a formula that is not a string, is too long,
        has no or several ``~``, a ``~`` inside parentheses, or a response that is not one column
        or a transform of one.

    Examples
    --------
    >>> check_formula("y | trials(n) ~ np.log(x) + C(g, Sum) + I(z**2) + (1 + x | g)")
    >>> check_formula("y ~ x + np.f2py.os.system('rm -rf ~') + (1 | g)")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: 'np.f2py.os.system' is not an allowed function in a ...
    >>> check_formula("y ~ abs(x)")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: 'abs' is not an allowed function ... np.abs? ...
    """
    tokens = _tokens(formula, "formula")
    assert isinstance(formula, str)
    tildes: list[tuple[int, int]] = []  # (token index, position of '~' in the formula)
    depth = 0
    for k, token in enumerate(tokens):
        if token.kind is Token.Kind.CONTEXT:
            depth += 1 if token.token in "([" else -1
        elif token.kind is Token.Kind.OPERATOR:
            for i, char in enumerate(token.token):
                if char == "~":
                    _check_tilde_depth(formula, depth, (token.source_start or 0) + i)
                    tildes.append((k, (token.source_start or 0) + i))
    if not tildes:
        raise FormulaSyntaxError(
            "Expected '~' between the response and the predictors, as in 'y ~ x + (1 | g)'.",
            formula,
            len(formula),
        )
    if len(tildes) > 1:
        raise FormulaSyntaxError("Expected a single '~' in the formula.", formula, tildes[1][1])
    split, tilde = tildes[0]
    operator = tokens[split]
    if tilde > (operator.source_start or 0):  # 'y* ~ x': an operator dangles before '~'
        _response_error(formula, tilde, operator.source_start or 0)
    _check_response(formula, tokens[:split], tilde)
    _check_tokens(formula, tokens[split + 1 :])


def _check_tilde_depth(source: str, depth: int, at: int) -> None:
    if depth:
        raise FormulaSyntaxError(
            "Unexpected '~' inside parentheses: a formula has one '~', between the response and "
            "the predictors (a group term is '(x | g)', not '(~x | g)').",
            source,
            at,
        )


def _response_error(formula: str, tilde: int, where: int) -> None:
    text = formula[:tilde].strip()
    raise FormulaSyntaxError(
        f"The response {text!r} is not one column or a transform of one: write the response as "
        "'y' or 'np.log(y)' (binomial: 'y | trials(n)') before '~'.",
        formula,
        where,
    )


def check_expression(expr: object, formula: str | None = None, offset: int = 0) -> None:
    """Refuse a right-hand side (no ``~``) that is anything but data, as :func:`check_formula`.

    Parameters
    ----------
    expr : str
        Terms such as ``"1 + np.log(x) + C(g)"``, a level-2 equation's right-hand side, or an
        expression formulaic is about to evaluate.
    formula, offset : str and int, optional
        The text ``expr`` was cut from and where, for the caret of the error message.

    Examples
    --------
    >>> check_expression("0 + center(x) + C(g, contr.treatment('b'))")
    >>> check_expression("x + __import__('os').system('id')")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: '__import__' is not an allowed function in a ...
    """
    # terms rebuilt from a formula ('x + y' from 'x+y') may be longer than the formula was
    tokens = _tokens(expr, "expression", 4 * MAX_FORMULA_LENGTH)
    assert isinstance(expr, str)
    source, shift = (expr, 0) if formula is None else (formula, offset)
    _check_tokens(source, _shifted(tokens, shift))


def check_offset(expr: object) -> None:
    """Refuse an offset expression (``offset="np.log(n)"``) that is anything but data.

    formulaic evaluates an offset as the Python term ``I(<expr>)``, so the whole text is checked as
    that one term (not token by token): a column, a number, arithmetic or an element-wise
    function of those.

    Raises
    ------
    FormulaSyntaxError
        Naming what is not allowed; also for text that is not a string or is too long.

    Examples
    --------
    >>> check_offset("np.log(expected)")
    >>> check_offset("chr (111)")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: 'chr' is not an allowed function in a formula. ...
    """
    _tokens(expr, "offset")  # type, length and NUL checks
    assert isinstance(expr, str)
    check_python_term(f"I({expr})", f"I({expr})", 0)


def _tokens(text: object, what: str, longest: int = MAX_FORMULA_LENGTH) -> list[Token]:
    if not isinstance(text, str):
        raise FormulaSyntaxError(
            f"A model {what} must be a string such as 'y ~ x + (1 | g)', got {type(text).__name__}."
        )
    if len(text) > longest:
        raise FormulaSyntaxError(
            f"The {what} has {len(text)} characters; the most allowed is {longest}."
        )
    if "\x00" in text:
        raise FormulaSyntaxError(f"The {what} contains a NUL character.", text, text.index("\x00"))
    try:
        return list(tokenize(text))
    except FormulaicError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FormulaSyntaxError(f"Could not read the {what}: {first}") from err


def _shifted(tokens: list[Token], shift: int) -> list[Token]:
    if shift:
        for token in tokens:
            token.source_start = (token.source_start or 0) + shift
    return tokens


def _check_response(formula: str, tokens: list[Token], tilde: int) -> None:
    bars = [k for k, t in enumerate(tokens) if t.kind is Token.Kind.OPERATOR and t.token == "|"]
    response = tokens[: bars[0]] if bars else tokens
    if len(response) != 1 or response[0].kind not in (Token.Kind.NAME, Token.Kind.PYTHON):
        where = next((t.source_start for t in response[1:]), None)
        if where is None:
            where = response[0].source_start if response else tilde
        _response_error(formula, tilde, where or 0)
    _check_tokens(formula, response)
    if response[0].kind is Token.Kind.PYTHON and not uses_column(response[0].token):
        _response_error(formula, tilde, response[0].source_start or 0)
    if bars:
        trials = tokens[bars[0] + 1 :]
        if len(trials) != 1 or not _is_trials(trials[0].token):
            where = trials[0].source_start if trials else tokens[bars[0]].source_start
            raise FormulaSyntaxError(
                "Expected 'response | trials(column)' on the left of '~' (binomial responses).",
                formula,
                where,
            )


def _is_trials(text: str) -> bool:
    try:
        node = parse_quietly(text).body
    except SyntaxError:
        return False
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "trials"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Name)
        and not node.keywords
        and not node.args[0].id.startswith("__")
    )


def _check_tokens(source: str, tokens: list[Token]) -> None:
    depth = 0
    for k, token in enumerate(tokens):
        start = token.source_start or 0
        if token.kind is Token.Kind.CONTEXT:
            depth += 1 if token.token in "([" else -1
        elif token.kind is Token.Kind.OPERATOR:
            if "~" in token.token:
                at = start + token.token.index("~")
                _check_tilde_depth(source, depth, at)
                raise FormulaSyntaxError(
                    "Unexpected '~': a formula has one '~', between the response and the "
                    "predictors; a level-2 equation or a term has none.",
                    source,
                    at,
                )
        elif token.kind is Token.Kind.VALUE:
            _check_value(source, token)
        elif token.kind is Token.Kind.NAME:
            _check_name(source, token, tokens[k + 1] if k + 1 < len(tokens) else None)
        elif token.kind is Token.Kind.PYTHON:
            if source[start : start + 1] == "{":
                raise FormulaSyntaxError(
                    "Python code in braces {...} is not allowed in a formula; write arithmetic "
                    "inside I(...), e.g. 'I(x + 1)'.",
                    source,
                    start,
                )
            check_python_term(source, token.token, start)


def _check_name(source: str, token: Token, following: Token | None) -> None:
    start = token.source_start or 0
    if is_reserved(token.token):
        raise FormulaSyntaxError(
            f"The name {token.token!r} is not allowed in a formula (reserved name).", source, start
        )
    if following is not None and following.kind is Token.Kind.CONTEXT and following.token == "(":
        raise FormulaSyntaxError(
            f"'{token.token} (' is not allowed in a formula: a function call is written without a "
            f"space, and only {', '.join(ALLOWED_FUNCTIONS)} may be called.",
            source,
            start,
        )


def _check_value(source: str, token: Token) -> None:
    try:
        value = ast.literal_eval(parse_quietly(token.token))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return
    raise FormulaSyntaxError(
        f"{token.token!r} is not a term: a term is a column name (backquoted if it has spaces, "
        "`my col`), a number such as 1 or 0, or a transform of a column.",
        source,
        token.source_start or 0,
    )
