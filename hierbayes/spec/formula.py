"""Parse lme4/brms-style multilevel formulas into a :class:`~hierbayes.spec.ModelSpec`.

The grammar is lme4's: ``response ~ fixed + (expr | factor) + (expr || factor) + ...`` where
``factor`` is a name, an interaction ``g1:g2`` or a nesting ``g1/g2`` (``= g1 + g1:g2``). The
fixed part and each group term's expression are handed to formulaic, so everything formulaic
understands (categoricals, ``a*b``, ``a:b``, ``C(x)``, ``np.log(x)``, ``0 +``/``- 1``) works.
"""

from __future__ import annotations

import itertools
import re

from formulaic import Formula
from formulaic.errors import FormulaicError

from hierbayes.errors import ArgumentError, FormulaSyntaxError, ModelSpecError
from hierbayes.spec.rules import check_removals, check_response_use, check_slash_typo
from hierbayes.spec.safety import check_expression, check_formula
from hierbayes.spec.terms import FixedTerms, GroupTerm, ModelSpec

__all__ = ["parse_formula", "split_top_level"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
# a grouping column with an awkward name: `grp x` or Q('grp x') (the README's spellings)
_QUOTED = re.compile(r"`([^`/:|]+)`|Q\(\s*(['\"])([^'\"`/:|]+)\2\s*\)")


def _unquoted(text: str) -> str:
    match = _QUOTED.fullmatch(text)
    if match is None:
        return text
    return match.group(1) if match.group(1) is not None else match.group(3)


_WORD = re.compile(r"[^\W\d][\w.]*")
_TRIALS = re.compile(r"^\s*trials\s*\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)\s*$")
_OFFSET = re.compile(r"^offset\s*\((.*)\)$", re.DOTALL)


def parse_formula(formula: str) -> ModelSpec:
    """Parse a multilevel formula.

    Parameters
    ----------
    formula : str
        For example ``"mAch ~ cses * (meanses + sector) + (1 + cses | school)"``. Binomial
        responses name their trials column: ``"incidence | trials(size) ~ period + (1 | herd)"``.

    Returns
    -------
    ModelSpec

    Raises
    ------
    FormulaSyntaxError
        With the formula repeated and a caret under the offending character.
    ModelSpecError
        When the formula parses but is not a valid model (e.g. a term twice on one factor).

    Examples
    --------
    >>> spec = parse_formula("Reaction ~ Days + (Days || Subject)")
    >>> spec.fixed.terms, [str(g) for g in spec.groups]
    (('1', 'Days'), ['(1 + Days || Subject)'])
    >>> [g.factor_name for g in parse_formula("y ~ (1 | a/b)").groups]
    ['a', 'a:b']
    """
    if not isinstance(formula, str):
        raise ArgumentError(
            f"formula must be a string, got {type(formula).__name__}: write it as text, e.g. "
            "'y ~ x + (1 | g)'."
        )
    _check_parentheses(formula)
    tilde = _top_level_positions(formula, "~")
    if not tilde:
        raise FormulaSyntaxError(
            "Expected '~' between the response and the predictors, as in 'y ~ x + (1 | g)'.",
            formula,
            len(formula),
        )
    if len(tilde) > 1:
        raise FormulaSyntaxError("Expected a single '~' in the formula.", formula, tilde[1])
    lhs_text, rhs_text = formula[: tilde[0]], formula[tilde[0] + 1 :]
    response, trials = _parse_lhs(formula, lhs_text)
    check_formula(formula)

    fixed_parts: list[str] = []
    fixed_pieces: list[tuple[str, str, int]] = []
    offsets: list[str] = []
    groups: list[GroupTerm] = []
    offset = tilde[0] + 1
    for sign, piece, start in _split_terms(formula, rhs_text, offset):
        stripped = piece.strip()
        lead = start + len(piece) - len(piece.lstrip())
        if _is_group_term(stripped):
            if sign == "-":
                raise FormulaSyntaxError(
                    "A group term cannot be removed with '-'; leave it out instead.", formula, lead
                )
            groups.extend(_parse_group_term(formula, stripped, lead))
        else:
            bars = _top_level_positions(stripped, "|")
            if bars:
                raise FormulaSyntaxError(
                    "A group term needs parentheses: write '(x | g)', not 'x | g'.",
                    formula,
                    lead + bars[0],
                )
            found = _OFFSET.match(stripped)
            if found is not None and _balanced(found.group(1)):
                offsets.append(_parse_offset(formula, found.group(1), sign, lead))
                continue
            check_slash_typo(formula, stripped, lead)
            fixed_pieces.append((sign, piece, start))
            fixed_parts.append(f"{sign} {stripped}" if fixed_parts or sign == "-" else stripped)

    check_removals(formula, fixed_pieces)
    fixed_expr = " ".join(fixed_parts) if fixed_parts else "1"
    if fixed_expr.startswith("-"):
        fixed_expr = "1 " + fixed_expr
    fixed_terms = _canonical_terms(formula, fixed_expr, offset)
    tangled = [t for t in fixed_terms if re.search(r"\boffset\s*\(", t)]
    if tangled:
        raise FormulaSyntaxError(
            f"offset() must be a term of its own, added with '+' (found {tangled[0]!r}).",
            formula,
            formula.find("offset"),
        )
    fixed = FixedTerms(response, fixed_terms, trials, tuple(offsets))
    spec = ModelSpec(fixed, tuple(groups), formula=formula)
    _validate(spec)
    return spec


def _balanced(text: str) -> bool:
    """Whether every parenthesis of ``text`` closes within it (``offset(a) + (b)`` is not one
    call)."""
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _parse_offset(formula: str, inner: str, sign: str, pos: int) -> str:
    """The expression of ``offset(inner)``, checked to be one formula term."""
    if sign == "-":
        raise FormulaSyntaxError(
            "An offset cannot be subtracted with '-'; write 'offset(-x)' instead.", formula, pos
        )
    expr = inner.strip()
    if not expr:
        raise FormulaSyntaxError(
            "offset() needs an expression, as in 'offset(np.log(n))'.", formula, pos
        )
    _canonical_terms(formula, f"0 + I({expr})", pos)  # evaluated as arithmetic, as in R
    return expr


def _check_parentheses(formula: str) -> None:
    stack: list[int] = []
    for i, ch in enumerate(formula):
        if ch == "(":
            stack.append(i)
        elif ch == ")":
            if not stack:
                raise FormulaSyntaxError("Unmatched ')': no '(' opens it.", formula, i)
            stack.pop()
    if stack:
        raise FormulaSyntaxError("Unclosed '(': expected a matching ')'.", formula, stack[-1])


def _top_level_positions(text: str, char: str) -> list[int]:
    depth, found = 0, []
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == char and depth == 0:
            found.append(i)
    return found


def split_top_level(name: str, sep: str = ":") -> list[str]:
    """Split a column name at ``sep`` outside brackets and parentheses.

    Examples
    --------
    >>> split_top_level("C(t)[T.a:b]:meanses")
    ['C(t)[T.a:b]', 'meanses']
    """
    bounds = [-1, *_top_level_positions(name, sep), len(name)]
    return [name[a + 1 : b] for a, b in itertools.pairwise(bounds)]


def _parse_lhs(formula: str, lhs: str) -> tuple[str, str | None]:
    if not lhs.strip():
        raise FormulaSyntaxError(
            "Expected a response before '~', as in 'y ~ x'.", formula, len(lhs) - len(lhs.lstrip())
        )
    bars = _top_level_positions(lhs, "|")
    if not bars:
        return lhs.strip(), None
    response, extra = lhs[: bars[0]].strip(), lhs[bars[0] + 1 :]
    match = _TRIALS.match(extra)
    if match is None or not response:
        raise FormulaSyntaxError(
            "Expected 'response | trials(column)' on the left of '~' (binomial responses).",
            formula,
            bars[0],
        )
    return response, match.group(1)


def _split_terms(formula: str, rhs: str, offset: int) -> list[tuple[str, str, int]]:
    """Split the right-hand side at top-level '+' and '-' into (sign, text, start) pieces."""
    pieces: list[tuple[str, str, int]] = []
    depth, start, sign = 0, 0, "+"
    for i, ch in enumerate(rhs):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in "+-" and depth == 0:
            pieces.append((sign, rhs[start:i], offset + start))
            sign, start = ch, i + 1
    pieces.append((sign, rhs[start:], offset + start))
    # A leading sign ('~ -1 + x', '~ + x') leaves an empty first piece: drop it.
    if not pieces[0][1].strip() and len(pieces) > 1:
        pieces = pieces[1:]
    for k, (sign, text, pos) in enumerate(pieces):
        if not text.strip():
            where = pos if k == 0 else pos - 1
            after = "'~'" if k == 0 else f"'{sign}'"
            raise FormulaSyntaxError(f"Expected a term after {after}.", formula, where)
    return pieces


def _is_group_term(piece: str) -> bool:
    if not (piece.startswith("(") and piece.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(piece):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(piece) - 1:
            return False  # '(a + b):c' is not one parenthesised term
    return bool(_top_level_positions(piece[1:-1], "|"))


def _parse_group_term(formula: str, piece: str, pos: int) -> list[GroupTerm]:
    inner = piece[1:-1]
    bars = _top_level_positions(inner, "|")
    correlated = True
    if len(bars) == 2 and bars[1] == bars[0] + 1:
        correlated = False
    elif len(bars) != 1:
        raise FormulaSyntaxError(
            "Expected one '|' (or '||') in a group term, as in '(1 + x | g)'.",
            formula,
            pos + 1 + bars[1],
        )
    bar = bars[0]
    expr = inner[:bar]
    factor_text = inner[bar + (1 if correlated else 2) :]
    if not expr.strip():
        raise FormulaSyntaxError(
            "Expected the varying terms before '|', as in '(1 | g)' or '(1 + x | g)'.",
            formula,
            pos + 1 + bar,
        )
    factors = _parse_factor(formula, factor_text, pos + 1 + bar + (1 if correlated else 2))
    terms = _canonical_terms(formula, expr, pos + 1)
    check_removals(formula, _split_terms(formula, expr, pos + 1))
    if not terms:
        raise FormulaSyntaxError(
            "This group term has no varying coefficient: '0' or '-1' removed the intercept and no "
            "predictor is left.",
            formula,
            pos,
        )
    return [GroupTerm(terms, factor, correlated) for factor in factors]


def _parse_factor(formula: str, text: str, pos: int) -> list[tuple[str, ...]]:
    """'g' -> [(g,)]; 'a:b' -> [(a, b)]; 'a/b' -> [(a,), (a, b)]."""
    if not text.strip():
        raise FormulaSyntaxError(
            "Expected a grouping factor after '|', as in '(1 | g)'.", formula, pos + len(text)
        )
    nested: list[tuple[str, ...]] = []
    cursor = pos
    for level in text.split("/"):
        names = []
        part_cursor = cursor
        for raw in level.split(":"):
            name = _unquoted(raw.strip())
            if _NAME.fullmatch(name) is None and not _QUOTED.fullmatch(raw.strip()):
                where = part_cursor + len(raw) - len(raw.lstrip())
                raise FormulaSyntaxError(
                    f"Expected a grouping variable name, got {name!r}: a factor is a column name, "
                    "an interaction 'g1:g2' or a nesting 'g1/g2'.",
                    formula,
                    where,
                )
            names.append(name)
            part_cursor += len(raw) + 1
        cursor += len(level) + 1
        nested.append((*(nested[-1] if nested else ()), *names))
    return nested


def _canonical_terms(formula: str, expr: str, pos: int) -> tuple[str, ...]:
    check_expression(expr, formula, pos)
    try:
        parsed = Formula(expr)
    except FormulaicError as err:
        raise FormulaSyntaxError(
            f"Could not parse {expr.strip()!r}: {str(err).splitlines()[0]}", formula, pos
        ) from err
    except (AttributeError, TypeError, ValueError, IndexError) as err:
        # formulaic's parser fails untyped on some malformed bracket nestings, e.g. '([g)'
        raise FormulaSyntaxError(
            f"Could not parse {expr.strip()!r}: check its brackets.", formula, pos
        ) from err
    return tuple(":".join(_quoted(f) for f in term.factors) for term in parsed)


def _quoted(factor: object) -> str:
    """A factor as formula text: a column name that is not a plain word keeps its backquotes."""
    expr = str(factor)
    if getattr(getattr(factor, "eval_method", None), "value", "") != "lookup":
        return expr
    return expr if _WORD.fullmatch(expr) else f"`{expr}`"


def _validate(spec: ModelSpec) -> None:
    check_response_use(spec)
    seen: dict[tuple[frozenset[str], str], GroupTerm] = {}
    for group in spec.groups:
        repeated = sorted({name for name in group.factor if group.factor.count(name) > 1})
        if repeated:
            raise ModelSpecError(
                f"Grouping factor '{repeated[0]}' appears twice in '{group.factor_name}' "
                f"({group}); an interaction or nesting needs distinct variables."
            )
        for term in group.terms:
            # 'g:h' and 'h:g' define the same groups
            key = (frozenset(group.factor), term)
            if key in seen:
                label = "the intercept" if term == "1" else f"'{term}'"
                raise ModelSpecError(
                    f"{label} varies by '{group.factor_name}' in two group terms "
                    f"({seen[key]} and {group}); keep it in one of them."
                )
            seen[key] = group
