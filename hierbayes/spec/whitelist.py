"""The whitelist of a formula's Python terms: which calls, names and literals are allowed.

:func:`check_python_term` parses one term that formulaic would evaluate as Python (``np.log(x)``,
``C(g, Sum)``, ``I(x**2)``) with :mod:`ast` (parse only) and walks its syntax tree; the first node
outside the grammar below raises :class:`~hierbayes.errors.FormulaSyntaxError` naming it.

- column names and numbers; ``+ - * / // % **`` and comparisons (with numbers, columns or
  strings) between them, as in ``I(x**2)`` or ``I(g == 'a')``; a power needs a column or a number
  as its base and a column or a number up to 1000 as its exponent (a tower of constant powers
  would never finish);
- calls of :data:`ALLOWED_FUNCTIONS`: the column expression first, then literal arguments
  (numbers, strings, ``True``/``False``/``None``, lists of those) by the names the transform
  documents; ``C``'s contrasts are one of :data:`CONTRASTS` or ``contr.<name>``
  (:data:`CONTR_ATTRIBUTES`), called with literal arguments or not;
- ``degree``/``df`` of ``poly``/``bs``/``cr``/``cs``/``cc`` at most 100.
"""

from __future__ import annotations

import ast
import difflib
import warnings

from formulaic.utils.code import UNQUOTED_BACKTICK_MATCHER

from hierbayes.errors import FormulaSyntaxError
from hierbayes.spec.r_names import r_hint

__all__ = [
    "ALLOWED_FUNCTIONS",
    "BARE_FUNCTIONS",
    "CONTRASTS",
    "CONTR_ATTRIBUTES",
    "NUMPY_FUNCTIONS",
    "TRANSFORM_NAMES",
    "check_python_term",
    "is_reserved",
    "not_allowed",
    "parse_quietly",
    "sanitized",
    "uses_column",
]

NUMPY_FUNCTIONS = ("abs", "exp", "log", "log1p", "log2", "log10", "sqrt", "square")
"""Element-wise numpy functions a formula may call as ``np.<name>(...)``."""

BARE_FUNCTIONS = ("exp", "log", "log2", "log10")
"""Functions formulaic also knows without the ``np.`` prefix (``log(x)`` as in R)."""

# function -> (most positional arguments, keyword arguments); the first argument is the column
# expression that is transformed, the others are literals
_TRANSFORMS: dict[str, tuple[int, tuple[str, ...]]] = {
    "I": (1, ()),
    "center": (1, ()),
    "scale": (4, ("center", "scale", "ddof")),
    "standardize": (4, ("center", "rescale", "ddof")),
    "C": (2, ("contrasts", "levels", "spans_intercept")),
    "poly": (3, ("degree", "raw")),
    "bs": (
        8,
        (
            "df",
            "knots",
            "degree",
            "include_intercept",
            "lower_bound",
            "upper_bound",
            "extrapolation",
        ),
    ),
    "cr": (6, ("df", "knots", "lower_bound", "upper_bound", "constraints", "extrapolation")),
    "cs": (6, ("df", "knots", "lower_bound", "upper_bound", "constraints", "extrapolation")),
    "cc": (6, ("df", "knots", "lower_bound", "upper_bound", "constraints", "extrapolation")),
    "offset": (1, ()),
    "Q": (1, ()),
}
_MULTI_COLUMN = frozenset({"C", "poly", "bs", "cr", "cs", "cc", "offset", "Q"})  # whole terms only
_SIZE_ARGUMENTS = frozenset({"degree", "df"})  # number of columns a transform makes
_MAX_SIZE = 100

TRANSFORM_NAMES = tuple(_TRANSFORMS)
"""Transforms that are not numpy functions (``I``, ``center``, ``C``, ``poly``, ...)."""

CONTRASTS = ("Treatment", "Sum", "Helmert", "Diff", "Poly")
"""Contrast codings for ``C(x, Sum)`` (patsy's spelling) ..."""
CONTR_ATTRIBUTES = ("treatment", "sum", "helmert", "diff", "poly", "SAS")
"""... and for ``C(x, contr.sum)`` (formulaic's spelling of R's ``contr.sum``)."""
_CONTRAST_ARGUMENTS = ("reference", "base", "reverse", "scale", "backward", "scores")

ALLOWED_FUNCTIONS: tuple[str, ...] = (
    *(f"np.{name}" for name in NUMPY_FUNCTIONS),
    *BARE_FUNCTIONS,
    *_TRANSFORMS,
)
"""Every function a formula may call (contrasts ``Treatment``, ``Sum``, ... go inside ``C``)."""

_MAX_POWER = 1000  # largest literal exponent; a tower of powers of constants would never finish
_ARITHMETIC = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def sanitized(text: str) -> str:
    """``text`` as formulaic will evaluate it, backquoted names replaced by placeholder names.

    formulaic (``formulaic.utils.code.sanitize_variable_names``) turns each backquoted name outside
    a string literal into a Python name and leaves quoted strings alone; this does the same with
    formulaic's own splitting pattern, so the check reads exactly the code formulaic will run. Each
    placeholder (`` B_..._ ``, padded with spaces as formulaic pads its names) has the length of
    the name it replaces, so error carets stay right. A backquote inside a string stays in the
    string; an unclosed backquote stays as it is (and fails to parse).

    Examples
    --------
    >>> print(sanitized("np.log(`my col`) + I(g == '`')"))
    np.log( B_____ ) + I(g == '`')
    """
    parts = UNQUOTED_BACKTICK_MATCHER.split(text)
    out: list[str] = []
    k = 0
    while k < len(parts):
        part = parts[k]
        if part != "`":
            out.append(part)
            k += 1
            continue
        end = next((j for j in range(k + 1, len(parts)) if parts[j] == "`"), None)
        if end is None:  # unclosed: formulaic keeps the text as written
            out.append("".join(parts[k:]))
            break
        width = len("".join(parts[k : end + 1]))
        if width < 3:
            raise FormulaSyntaxError("An empty backquoted name `` is not a column name.")
        out.append(" B" + "_" * (width - 3) + " ")
        k = end + 1
    return "".join(out)


def check_python_term(source: str, text: str, start: int) -> None:
    """Refuse one Python term (a formulaic token) that is outside the whitelist.

    Parameters
    ----------
    source : str
        The formula the term is part of, for the caret of the error message.
    text : str
        The term, e.g. ``"np.log(x)"``.
    start : int
        Where ``text`` starts in ``source``.

    Raises
    ------
    FormulaSyntaxError
        Naming the first function, attribute or construct that is not allowed.

    Examples
    --------
    >>> check_python_term("y ~ C(g, Sum)", "C(g, Sum)", 4)
    >>> check_python_term("y ~ x.y()", "x.y()", 4)
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: 'x.y' is not an allowed function in a formula. ...
    """
    # a backquoted name becomes a placeholder name of the same length (offsets stay right)
    try:
        code = sanitized(text)
    except FormulaSyntaxError as err:
        raise FormulaSyntaxError(err.args[0], source, start) from None
    try:
        tree = parse_quietly(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as err:
        column = getattr(err, "offset", None)
        at = start + (column - 1 if isinstance(column, int) and 0 < column <= len(text) else 0)
        reason = getattr(err, "msg", None) or str(err)
        raise FormulaSyntaxError(
            f"Could not read the term '{_shorten(text)}': {reason}. A term is a column, a number, "
            f"or an allowed transform of a column ({_allowed_list()}).",
            source,
            at,
        ) from None
    checker = _Checker(source, text, code, start)
    checker.term(tree.body)
    checker.reserved(tree)  # second line: the grammar above already refuses these


def is_reserved(name: str) -> bool:
    """Whether a name (or a part of a dotted name) is never a column: ``__x``, ``_FORMULAIC...``.

    Examples
    --------
    >>> is_reserved("__class__"), is_reserved("Sepal.Length"), is_reserved("x.__dict__")
    (True, False, True)
    """
    return any(part.startswith("__") or part.startswith("_FORMULAIC") for part in name.split("."))


def _shorten(text: str, most: int = 60) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def parse_quietly(code: str) -> ast.Expression:
    """``ast.parse`` of one expression, without the SyntaxWarnings Python gives for odd text.

    Examples
    --------
    >>> type(parse_quietly("np.log(x)").body).__name__
    'Call'
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(code, mode="eval")


def uses_column(text: str) -> bool:
    """Whether a (checked) Python term reads a column, rather than being a constant.

    Examples
    --------
    >>> uses_column("np.log(y)"), uses_column("np.log(2)")
    (True, False)
    """
    tree = parse_quietly(sanitized(text))
    callees = {
        id(sub) for n in ast.walk(tree) if isinstance(n, ast.Call) for sub in ast.walk(n.func)
    }
    return any(isinstance(n, ast.Name) and id(n) not in callees for n in ast.walk(tree))


def _allowed_list() -> str:
    return ", ".join(ALLOWED_FUNCTIONS)


def not_allowed(name: str, hint: str = "") -> str:
    return (
        f"'{name}' is not an allowed function in a formula.{hint} A formula is data, not code: "
        f"it may call only {_allowed_list()}."
    )


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _suggest(name: str) -> str:
    if r_hint(name):
        return r_hint(name)
    last = name.rsplit(".", 1)[-1]
    if last in NUMPY_FUNCTIONS or last in ("fabs", "absolute"):
        target = "abs" if last in ("fabs", "absolute") else last
        return f" Did you mean np.{target}?"
    candidates = [*ALLOWED_FUNCTIONS, *(f"np.{f}" for f in NUMPY_FUNCTIONS)]
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" Did you mean {close[0]}?" if close else ""


class _Checker:
    """Walks the syntax tree of one Python term; raises at the first node that is not allowed."""

    def __init__(self, source: str, text: str, code: str, start: int) -> None:
        self.source, self.text, self.start, self.code = source, text, start, code
        self.encoded = code.encode()  # ast's column offsets count UTF-8 bytes of the parsed code

    # -- errors --------------------------------------------------------------------------------
    def where(self, node: ast.AST) -> int:
        column = getattr(node, "col_offset", 0) or 0
        return self.start + self._widen(len(self.encoded[:column].decode(errors="ignore")), -1)

    def _widen(self, at: int, step: int) -> int:
        """Move ``at`` over the space that stands for a backquote around a placeholder name."""
        k = at if step > 0 else at - 1
        if 0 <= k < len(self.text) and self.text[k] == "`" and self.code[k : k + 1] == " ":
            return at + step
        return at

    def fail(self, node: ast.AST, message: str) -> FormulaSyntaxError:
        return FormulaSyntaxError(message, self.source, self.where(node))

    def snippet(self, node: ast.AST) -> str:
        """The original text of ``node`` (shortened), backquoted names as written."""
        segment = ""
        if getattr(node, "lineno", 0) == 1 and getattr(node, "end_lineno", 0) == 1:
            begin = len(self.encoded[: node.col_offset].decode(errors="ignore"))  # type: ignore[attr-defined]
            end = len(self.encoded[: node.end_col_offset].decode(errors="ignore"))  # type: ignore[attr-defined]
            segment = self.text[self._widen(begin, -1) : self._widen(end, 1)]
        return _shorten(segment or ast.unparse(node))

    # -- grammar -------------------------------------------------------------------------------
    def term(self, node: ast.expr) -> None:
        """A whole term: a transform call (any allowed function) or a value expression."""
        self.value(node, whole_term=True)

    def value(self, node: ast.expr, whole_term: bool = False) -> None:
        """An expression of columns and numbers (what a transform's first argument is)."""
        if isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise self.fail(
                    node,
                    f"{self.snippet(node)} cannot be used here: only numbers may appear in "
                    "arithmetic (strings only in comparisons such as I(g == 'a')).",
                )
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            self.value(node.left)
            self.value(node.right)
            if isinstance(node.op, ast.Pow):
                self.power(node)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            self.value(node.operand)
        elif isinstance(node, ast.Compare) and all(isinstance(o, _COMPARISONS) for o in node.ops):
            for side in (node.left, *node.comparators):
                if isinstance(side, ast.Constant) and isinstance(side.value, str):
                    continue
                self.value(side)
        elif isinstance(node, ast.Call):
            self.call(node, whole_term)
        else:
            raise self.fail(node, self.forbidden(node))

    def reserved(self, tree: ast.AST) -> None:
        """Refuse a dunder or formulaic-internal name or attribute anywhere in the term."""
        for node in ast.walk(tree):
            word = (
                getattr(node, "id", None)
                or getattr(node, "attr", None)
                or getattr(node, "arg", None)
            )
            if isinstance(word, str) and is_reserved(word):
                raise self.fail(
                    node, f"The name {word!r} is not allowed in a formula (reserved name)."
                )

    def name(self, node: ast.Name) -> None:
        if is_reserved(node.id):
            raise self.fail(
                node, f"The name {node.id!r} is not allowed in a formula (reserved name)."
            )

    def power(self, node: ast.BinOp) -> None:
        def literal(n: ast.expr) -> float | None:
            if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub | ast.UAdd):
                inner = literal(n.operand)
                return None if inner is None else -inner
            if isinstance(n, ast.Constant) and isinstance(n.value, int | float):
                return float(n.value)
            return None

        def has_column(n: ast.expr) -> bool:
            return any(isinstance(sub, ast.Name) for sub in ast.walk(n))

        exponent, base = literal(node.right), literal(node.left)
        small = exponent is not None and abs(exponent) <= _MAX_POWER
        ok_exponent = has_column(node.right) or small
        ok_base = has_column(node.left) or base is not None
        if not (ok_exponent and ok_base):
            raise self.fail(
                node,
                f"The power '{self.snippet(node)}' is not allowed: a power needs a column or a "
                f"number as its base and a column or a number up to {_MAX_POWER} as its exponent.",
            )

    def call(self, node: ast.Call, whole_term: bool) -> None:
        name = _dotted(node.func)
        if name is None:
            raise self.fail(node, not_allowed(self.snippet(node.func)))
        if (name.startswith("np.") and name[3:] in NUMPY_FUNCTIONS) or name in BARE_FUNCTIONS:
            self.arguments(node, name, 1, ())
            return
        if name not in _TRANSFORMS:
            if name == "trials":
                raise self.fail(
                    node,
                    "trials(...) names the binomial trials column on the left of '~', as in "
                    "'y | trials(n) ~ x'; it is not a predictor.",
                )
            raise self.fail(node.func, not_allowed(name, _suggest(name)))
        if name in _MULTI_COLUMN and not whole_term:
            raise self.fail(
                node,
                f"{name}(...) makes a whole term and cannot be used inside arithmetic or another "
                "transform; write it as a term of its own.",
            )
        most, keywords = _TRANSFORMS[name]
        if name == "Q":
            argument = node.args[0] if len(node.args) == 1 and not node.keywords else node
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                raise self.fail(argument, "Q(...) takes a column name in quotes: Q('my col').")
            return
        self.arguments(node, name, most, keywords)
        for k, extra in enumerate(node.args[1:], start=1):
            if name == "C" and k == 1:
                self.contrasts(extra)
            else:
                self.literal(extra, size=(name in ("poly", "bs", "cr", "cs", "cc") and k == 1))
        for keyword in node.keywords:
            if name == "C" and keyword.arg == "contrasts":
                self.contrasts(keyword.value)
            else:
                self.literal(keyword.value, size=keyword.arg in _SIZE_ARGUMENTS)

    def arguments(self, node: ast.Call, name: str, most: int, keywords: tuple[str, ...]) -> None:
        if not node.args or isinstance(node.args[0], ast.Starred):
            raise self.fail(node, f"{name}(...) needs a column (expression) as its first argument.")
        if len(node.args) > most:
            raise self.fail(
                node.args[most],
                f"{name}(...) takes at most {most} positional argument(s); got {len(node.args)}.",
            )
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise self.fail(argument, f"*-arguments are not allowed in {name}(...).")
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg not in keywords:
                shown = "**" if keyword.arg is None else keyword.arg
                options = ", ".join(keywords) if keywords else "none"
                raise self.fail(
                    keyword.value,
                    f"{name}(...) has no argument {shown!r}; its keyword arguments are: {options}.",
                )
        self.value(node.args[0])

    def literal(self, node: ast.expr, size: bool = False) -> None:
        """A literal argument: a number, string, True/False/None or a list/tuple of those."""
        if isinstance(node, ast.List | ast.Tuple):
            for item in node.elts:
                self.literal(item)
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            node_value = node.operand
        else:
            node_value = node
        if isinstance(node_value, ast.Constant) and (
            node_value.value is None or isinstance(node_value.value, bool | int | float | str)
        ):
            value = node_value.value
            if (
                size
                and isinstance(value, int | float)
                and not isinstance(value, bool)
                and (abs(value) > _MAX_SIZE)
            ):
                raise self.fail(
                    node, f"{self.snippet(node)} is too large here (at most {_MAX_SIZE} columns)."
                )
            return
        raise self.fail(
            node,
            f"'{self.snippet(node)}' is not a literal: a transform's extra arguments must be "
            "numbers, strings, True/False/None or lists of them.",
        )

    def contrasts(self, node: ast.expr) -> None:
        target = node.func if isinstance(node, ast.Call) else node
        name = _dotted(target)
        ok = name in CONTRASTS or (
            name is not None and name.startswith("contr.") and name[6:] in CONTR_ATTRIBUTES
        )
        if not ok:
            allowed = ", ".join([*CONTRASTS, *(f"contr.{a}" for a in CONTR_ATTRIBUTES)])
            raise self.fail(
                node,
                f"'{self.snippet(target)}' is not a contrast coding; C(x, ...) takes one of "
                f"{allowed} (e.g. C(x, Treatment('b')) or C(x, contr.sum)).",
            )
        if isinstance(node, ast.Call):
            for argument in node.args:
                self.literal(argument)
            for keyword in node.keywords:
                if keyword.arg not in _CONTRAST_ARGUMENTS:
                    raise self.fail(
                        keyword.value,
                        f"{name}(...) has no argument {keyword.arg!r}; contrast arguments are: "
                        f"{', '.join(_CONTRAST_ARGUMENTS)}.",
                    )
                self.literal(keyword.value)

    def forbidden(self, node: ast.AST) -> str:
        if isinstance(node, ast.Attribute):
            dotted = self.snippet(node)
            return (
                f"The attribute '{dotted}' is not allowed in a formula: a formula may call only "
                f"{_allowed_list()}."
            )
        kind = type(node).__name__
        return (
            f"'{self.snippet(node)}' is not allowed in a formula (Python {kind}): a term is a "
            f"column, a number, arithmetic inside I(...), or one of {_allowed_list()}."
        )
