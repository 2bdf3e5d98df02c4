"""Formulas that parse but say something the user cannot have meant: each is an error.

formulaic accepts them silently, so :func:`~hierbayes.spec.parse_formula` checks for them:

- ``y ~ x - nosuch``: removing a term the formula does not have (a typo, or a column that is not
  there) would be ignored;
- ``y ~ x + (1 / g)``: a group term with ``/`` typed for ``|`` would become fixed effects of ``g``;
- ``y ~ y + x`` or ``(1 | y)``: the response as its own predictor or grouping factor.
"""

from __future__ import annotations

from formulaic import Formula
from formulaic.errors import FormulaicError

from hierbayes.errors import FormulaSyntaxError, ModelSpecError
from hierbayes.spec.terms import ModelSpec
from hierbayes.spec.variables import column_names

__all__ = ["check_removals", "check_response_use", "check_slash_typo"]

_INTERCEPT = ("0", "1")


def _terms(expr: str) -> set[object]:
    try:
        return set(Formula(expr))
    except FormulaicError:  # a malformed piece is reported when the whole part is parsed
        return set()


def check_removals(formula: str, pieces: list[tuple[str, str, int]]) -> None:
    """Refuse ``- term`` where no earlier piece adds ``term``.

    Parameters
    ----------
    formula : str
        The whole formula (for the caret of the error).
    pieces : list of (sign, text, start)
        The top-level ``+``/``-`` pieces of one part of the formula, in order.

    Raises
    ------
    FormulaSyntaxError
        Names the removed term and where it is.

    Examples
    --------
    >>> check_removals("y ~ x*z - x:z", [("+", "x*z", 4), ("-", " x:z", 10)])
    >>> check_removals("y ~ x - w", [("+", "x ", 4), ("-", " w", 7)])
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: '- w' removes the term 'w', which the formula does not ...
    """
    added: list[str] = []
    for sign, text, start in pieces:
        stripped = text.strip()
        if sign == "+" or stripped in _INTERCEPT:
            if sign == "+":
                added.append(stripped)
            continue
        before = _terms(" + ".join(added) if added else "0")
        missing = [str(t) for t in _terms(f"0 + {stripped}") if t not in before]
        if missing:
            lead = start + len(text) - len(text.lstrip())
            raise FormulaSyntaxError(
                f"'- {stripped}' removes the term '{missing[0]}', which the formula does not "
                "have (a typo, or a column that is not in the model?); remove '- "
                f"{stripped}' or add the term first.",
                formula,
                lead,
            )


def check_slash_typo(formula: str, piece: str, start: int) -> None:
    """Refuse ``(1 / g)`` and ``(1 + x / g)``: a group term with ``/`` typed for ``|``.

    formulaic reads them as nestings (``1 + 1:g``), which are fixed effects of ``g``; nobody writes
    the intercept into a nesting on purpose. ``(x / g)`` without an intercept is a valid nesting
    and is left alone.

    Examples
    --------
    >>> check_slash_typo("y ~ a/b", "a/b", 4)
    >>> check_slash_typo("y ~ x + (1 / g)", "(1 / g)", 8)
    Traceback (most recent call last):
    ...
    hierbayes.errors.FormulaSyntaxError: '(1 / g)' looks like a group term with '/' typed for ...
    """
    content, shift = piece, 0
    if piece.startswith("(") and piece.endswith(")"):
        content, shift = piece[1:-1], 1
    slash = _first_top_level(content, "/")
    if slash is None:
        return
    left = content[:slash].strip()
    if left in _INTERCEPT or (left[:1] in _INTERCEPT and left[1:].lstrip()[:1] in ("+", "-")):
        bar = content[:slash] + "|" + content[slash + 1 :]
        raise FormulaSyntaxError(
            f"'{piece}' looks like a group term with '/' typed for '|': write "
            f"'({bar.strip()})' for effects that vary by group. (For fixed effects of the "
            "grouping column, leave out the intercept: 'x + g'.)",
            formula,
            start + shift + slash,
        )


def _first_top_level(text: str, char: str) -> int | None:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if ch == char and depth == 0:
            return i
    return None


def check_response_use(spec: ModelSpec) -> None:
    """Refuse a response that is also a predictor or a grouping factor.

    Examples
    --------
    >>> from hierbayes.spec import parse_formula
    >>> parse_formula("y ~ np.log(y) + x")
    Traceback (most recent call last):
    ...
    hierbayes.errors.ModelSpecError: The response column 'y' is also a predictor ...
    """
    response = set(column_names(spec.fixed.response))
    predictors = set(column_names(spec.fixed.expr))
    for group in spec.groups:
        predictors |= set(column_names(group.expr))
        grouped = sorted(response & set(group.factor))
        if grouped:
            raise ModelSpecError(
                f"The response column '{grouped[0]}' is also the grouping factor of {group}: a "
                "model cannot group observations by their own outcome. Use another grouping column."
            )
    both = sorted(response & predictors)
    if both:
        name = both[0]
        raise ModelSpecError(
            f"The response column '{name}' is also a predictor on the right of '~': a model "
            f"cannot explain '{name}' by itself. Remove '{name}' from the predictors (for a "
            "lagged outcome, add the lag as a column of its own)."
        )
