"""The data columns a piece of formula text reads, found without evaluating anything.

formulaic's ``Formula(text).required_variables`` calls Python's ``eval`` on the function part of
every call it meets (to ask a transform which columns it needs), with all of Python's builtins,
so hierbayes never uses it on formula text. :func:`column_names` gives the same answer from
formulaic's tokenizer (pure text processing) and a walk over the :mod:`ast` of each Python term
(parse only): names that are read, not called, with backquoted names and ``Q('...')`` resolved
to the column they name.
"""

from __future__ import annotations

import ast

from formulaic.errors import FormulaicError
from formulaic.parser.algos.tokenize import tokenize
from formulaic.parser.types import Token
from formulaic.transforms import TRANSFORMS
from formulaic.utils.code import sanitize_variable_names

from hierbayes.spec.whitelist import parse_quietly

__all__ = ["column_names"]


def column_names(text: str) -> list[str]:
    """Columns that formula text (a right-hand side, a response or one term) reads, sorted.

    Parameters
    ----------
    text : str
        E.g. ``"1 + np.log(x) + C(g, Sum) + `my col`"``; text that cannot be read gives no names
        (evaluating it fails later, with a typed error).

    Examples
    --------
    >>> column_names("1 + np.log(x) + C(g, Sum) + `my col` + I(z**2) + Q('a b') + u:v")
    ['a b', 'g', 'my col', 'u', 'v', 'x', 'z']
    >>> column_names("I(x == '`' + __import__('os').system('id') + '`')")
    ['x']
    """
    try:
        tokens = list(tokenize(text))
    except FormulaicError:
        return []
    names: set[str] = set()
    for token in tokens:
        if token.kind is Token.Kind.NAME:
            names.add(token.token)
        elif token.kind is Token.Kind.PYTHON:
            names |= _python_names(token.token)
    return sorted(names)


def _python_names(code: str) -> set[str]:
    aliases: dict[str, str] = {}
    try:
        tree = parse_quietly(sanitize_variable_names(code, {}, aliases))
    except (SyntaxError, ValueError, IndexError, MemoryError, RecursionError):
        return set()
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_q(node):
            names.add(node.args[0].value)  # type: ignore[attr-defined]
        if isinstance(node, ast.Name) and id(node) not in callees:
            root = aliases.get(node.id, node.id)
            if root not in TRANSFORMS:
                names.add(root)
    return names


def _is_q(node: ast.Call) -> bool:
    return (
        isinstance(node.func, ast.Name)
        and node.func.id == "Q"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )
