"""Level equations: a model written as level-1 and level-2 equations, as in the textbooks.

Raudenbush & Bryk write the HSB model as

.. code-block:: text

    Level 1:  mAch_ij = β_0j + β_1j·cses_ij + r_ij
    Level 2:  β_0j = γ_00 + γ_01·meanses_j + γ_02·sector_j + u_0j
              β_1j = γ_10 + γ_11·meanses_j + γ_12·sector_j + u_1j

which :func:`parse_levels` reads as ``level1="mAch ~ 1 + cses"``,
``level2={"Intercept": "~ meanses + sector", "cses": "~ meanses + sector"}``,
``random=["Intercept", "cses"]`` and ``group="school"``. The result, a :class:`LevelSpec`, turns
into the same :class:`~hierbayes.spec.ModelSpec` as the equivalent formula
``mAch ~ cses * (meanses + sector) + (1 + cses | school)``: the two spellings compare equal.

Rules:

- A level-1 coefficient is named ``"Intercept"`` (or ``"1"``) or by its level-1 term as written in
  the level-1 equation (``"cses"``, ``"C(time)"``, ``"x:z"``).
- A coefficient without a level-2 equation has the equation ``"~ 1"``: a constant. ``"~ 0 + w"``
  drops the constant (the coefficient is ``γ·w_j`` plus its random effect, if any).
- ``random`` lists the coefficients that vary randomly across groups (a ``u`` term in their level-2
  equation); the others are fixed across groups but may still depend on level-2 predictors
  (non-randomly varying coefficients). Coefficients that vary randomly together are correlated
  (``|``) unless ``correlated=False`` (``||``).
- ``group="school"`` for two levels. Three levels (observations in classes in schools) list the
  grouping columns from the outermost in: ``group=["school", "class"]`` or ``group="school/class"``,
  as lme4's ``(1 | school/class)``, so that classes are told apart within schools
  (``(1 | school) + (1 | school:class)``) even when class labels repeat across schools. ``random``
  then applies to every upper level, or is a dict by grouping column:
  ``random={"school": ["Intercept"], "class": ["Intercept", "x"]}``. The level-2 equations may use
  predictors of any upper level (class- or school-level).

The equivalent formula lists the level-1 terms, then the predictors of the intercept, then the
cross-level interactions ``x:w`` (level-1 term first), which formulaic orders by degree:
``mAch ~ 1 + cses + meanses + sector + cses:meanses + cses:sector`` is the spec of
``mAch ~ cses * (meanses + sector)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from formulaic import Formula

from hierbayes.errors import ArgumentError, FormulaSyntaxError, ModelSpecError
from hierbayes.spec.formula import _canonical_terms, _top_level_positions, parse_formula
from hierbayes.spec.terms import GroupTerm, ModelSpec
from hierbayes.spec.variables import column_names

__all__ = ["INTERCEPT", "Level2Equation", "LevelSpec", "parse_levels"]

INTERCEPT = "Intercept"
"""Name of the level-1 intercept in ``level2=`` and ``random=`` (``"1"`` is accepted too)."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")

RandomInput = Sequence[str] | Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Level2Equation:
    """The level-2 equation of one level-1 coefficient.

    Parameters
    ----------
    coefficient : str
        The level-1 term whose coefficient this equation explains (``"1"`` for the intercept).
    terms : tuple of str
        Canonical level-2 terms, ``"1"`` for the constant (the ``γ_q0`` of the equation).

    Examples
    --------
    >>> eq = Level2Equation("cses", ("1", "meanses"))
    >>> eq.name, eq.fixed_terms
    ('cses', ('cses', 'cses:meanses'))
    """

    coefficient: str
    terms: tuple[str, ...]

    @property
    def name(self) -> str:
        """The coefficient's name: ``"Intercept"`` or the level-1 term."""
        return INTERCEPT if self.coefficient == "1" else self.coefficient

    @property
    def fixed_terms(self) -> tuple[str, ...]:
        """Population-level terms this equation contributes to the combined model."""
        return tuple(_product(self.coefficient, term) for term in self.terms)


@dataclass(frozen=True)
class LevelSpec:
    """A multilevel model written as level equations (see the module docstring).

    Use :func:`parse_levels` to build one; :meth:`to_model_spec` gives the equivalent
    :class:`~hierbayes.spec.ModelSpec` and :attr:`formula` the equivalent formula.

    Attributes
    ----------
    response : str
        Response expression.
    trials : str or None
        Binomial trials column.
    level1 : tuple of str
        Canonical level-1 terms (``"1"`` for the intercept).
    equations : tuple of Level2Equation
        One per level-1 coefficient, in level-1 order.
    group : tuple of str
        Grouping columns from the outermost level in (one name for two levels).
    random : tuple of (str, tuple of str)
        For each upper level from the outermost in: its grouping factor (``"school"``,
        ``"school:class"``) and the coefficients that vary randomly across its groups.
    correlated : bool
        Whether coefficients that vary across the same groups are correlated.
    offsets : tuple of str
        Offset expressions of the level-1 equation (``offset(np.log(e))`` there), kept in the
        formula.
    """

    response: str
    trials: str | None
    level1: tuple[str, ...]
    equations: tuple[Level2Equation, ...]
    group: tuple[str, ...]
    random: tuple[tuple[str, tuple[str, ...]], ...]
    correlated: bool = True
    offsets: tuple[str, ...] = ()

    @property
    def factors(self) -> tuple[str, ...]:
        """Grouping factors of the upper levels, outermost first: ``("school", "school:class")``."""
        return tuple(":".join(self.group[: k + 1]) for k in range(len(self.group)))

    @property
    def fixed_terms(self) -> tuple[str, ...]:
        """Population-level terms in the order of the equivalent formula (before formulaic sorts
        them by degree): level-1 terms, the intercept's predictors, cross-level interactions."""
        own = [eq.coefficient for eq in self.equations if "1" in eq.terms]
        intercept = [t for eq in self.equations if eq.coefficient == "1" for t in eq.terms]
        cross = [
            _product(eq.coefficient, t)
            for eq in self.equations
            if eq.coefficient != "1"
            for t in eq.terms
            if t != "1"
        ]
        return (*own, *(t for t in intercept if t != "1"), *cross)

    @property
    def group_terms(self) -> tuple[GroupTerm, ...]:
        """The group terms of the equivalent formula, outermost level first."""
        terms = []
        for k, (_, coefficients) in enumerate(self.random):
            if coefficients:
                correlated = self.correlated or len(coefficients) == 1
                terms.append(GroupTerm(coefficients, self.group[: k + 1], correlated))
        return tuple(terms)

    @property
    def level2_variables(self) -> tuple[str, ...]:
        """Data columns used by the level-2 equations, in order of first use."""
        names: list[str] = []
        for eq in self.equations:
            for term in eq.terms:
                if term == "1":
                    continue
                for name in column_names(term):
                    if name not in names:
                        names.append(name)
        return tuple(names)

    @property
    def formula(self) -> str:
        """The equivalent lme4-style formula."""
        lhs = self.response if self.trials is None else f"{self.response} | trials({self.trials})"
        fixed = list(self.fixed_terms)
        if "1" in fixed:
            fixed.remove("1")
            rhs = ["1", *fixed]
        else:
            rhs = ["0", *fixed]
        rhs += [f"offset({o})" for o in self.offsets]
        rhs += [str(term) for term in self.group_terms]
        return f"{lhs} ~ {' + '.join(rhs)}"

    def to_model_spec(self) -> ModelSpec:
        """The :class:`~hierbayes.spec.ModelSpec` of the equivalent formula.

        Examples
        --------
        >>> levels = parse_levels("y ~ x", {"x": "~ w"}, random=["Intercept"], group="g")
        >>> levels.formula
        'y ~ 1 + x + x:w + (1 | g)'
        >>> levels.to_model_spec() == parse_formula("y ~ x + x:w + (1 | g)")
        True
        """
        return parse_formula(self.formula)


def _product(coefficient: str, term: str) -> str:
    if coefficient == "1":
        return term
    if term == "1":
        return coefficient
    return f"{coefficient}:{term}"


def _group(group: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(group, str):
        names = tuple(part.strip() for part in group.split("/"))
    elif isinstance(group, Sequence) and group:
        names = tuple(group)
    else:
        raise ModelSpecError(
            f"group must name the grouping column (group='school'), or list the grouping columns "
            f"from the outermost level in (group=['school', 'class']); got {group!r}."
        )
    for name in names:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise ModelSpecError(
                f"group must name grouping columns such as 'school'; {name!r} is not a column name."
            )
    if len(set(names)) != len(names):
        raise ModelSpecError(f"group names a grouping column twice: {list(names)}.")
    return names


def _level1(level1: str) -> ModelSpec:
    if not isinstance(level1, str):
        raise ArgumentError(
            f"level1 must be a string such as 'y ~ 1 + x', got {type(level1).__name__}."
        )
    spec = parse_formula(level1)
    if spec.groups:
        raise ModelSpecError(
            f"The level-1 equation '{level1}' has the group term {spec.groups[0]}: write the "
            "grouping column in group= and the randomly varying coefficients in random=."
        )
    return spec


def _names(terms: Sequence[str]) -> str:
    return ", ".join(INTERCEPT if t == "1" else t for t in terms)


def _coefficient(name: str, level1: tuple[str, ...], text: str, where: str) -> str:
    """Canonical level-1 term of a coefficient named in level2= or random=."""
    if not isinstance(name, str):
        raise ModelSpecError(f"{where} names coefficients by strings, got {name!r}.")
    if name.strip() in (INTERCEPT, "1"):
        key = "1"
    else:
        terms = _canonical_terms(name, name, 0)
        key = terms[-1] if len(terms) == 2 and terms[0] == "1" else ""
    if key not in level1:
        label = "the intercept" if key == "1" else f"'{name}'"
        raise ModelSpecError(
            f"{where} names {label}, which is not a coefficient of the level-1 equation '{text}'; "
            f"its coefficients are: {_names(level1) or 'none'}. Add it to the level-1 equation, or "
            "use one of those names."
        )
    return key


def _equation(name: str, text: str) -> tuple[str, ...]:
    if not isinstance(text, str):
        raise ArgumentError(
            f"The level-2 equation for '{name}' must be a string such as '~ 1 + w', got "
            f"{type(text).__name__}."
        )
    tilde = _top_level_positions(text, "~")
    if len(tilde) > 1:
        raise FormulaSyntaxError("Expected a single '~' in a level-2 equation.", text, tilde[1])
    if tilde and text[: tilde[0]].strip():
        raise FormulaSyntaxError(
            f"A level-2 equation has no left-hand side: the dict key ('{name}') names the "
            "coefficient it explains; write '~ 1 + w'.",
            text,
            0,
        )
    start = tilde[0] + 1 if tilde else 0
    rhs = text[start:]
    if not rhs.strip():
        raise FormulaSyntaxError(
            f"Expected the predictors of '{name}' after '~', as in '~ 1 + w' ('~ 1' for a "
            "constant).",
            text,
            len(text),
        )
    if "|" in rhs:
        raise FormulaSyntaxError(
            "A level-2 equation has no group term: list randomly varying coefficients in random=.",
            text,
            start + rhs.index("|"),
        )
    return _canonical_terms(text, rhs, start)


def _random(
    random: RandomInput, level1: tuple[str, ...], text: str, group: tuple[str, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    factors = [":".join(group[: k + 1]) for k in range(len(group))]
    if isinstance(random, str):
        random = [random]
    if isinstance(random, Mapping):
        by_level: dict[int, Sequence[str]] = {}
        for key, names in random.items():
            if key in group:
                k = group.index(key)
            elif key in factors:
                k = factors.index(key)
            else:
                raise ModelSpecError(
                    f"random names the grouping column '{key}', which is not in group "
                    f"({', '.join(group)}); use one of those names as the key."
                )
            by_level[k] = [names] if isinstance(names, str) else names
    else:
        by_level = dict.fromkeys(range(len(group)), random)
    for names in by_level.values():
        if not isinstance(names, Sequence) or isinstance(names, str):
            raise ArgumentError(
                "random must list coefficients of the level-1 equation, e.g. ['Intercept', 'x'] "
                f"(or a dict of such lists by grouping column), got {names!r}."
            )
    out = []
    for k, factor in enumerate(factors):
        chosen = {_coefficient(n, level1, text, "random") for n in by_level.get(k, ())}
        out.append((factor, tuple(t for t in level1 if t in chosen)))
    return tuple(out)


def parse_levels(
    level1: str,
    level2: Mapping[str, str] | None = None,
    *,
    random: RandomInput = (INTERCEPT,),
    group: str | Sequence[str],
    correlated: bool = True,
) -> LevelSpec:
    """Read a model written as level-1 and level-2 equations.

    Parameters
    ----------
    level1 : str
        The level-1 equation as a formula without group terms: ``"mAch ~ 1 + cses"``
        (``"y ~ 0 + x"`` has no intercept; binomial: ``"k | trials(n) ~ x"``).
    level2 : dict, optional
        Level-2 equation of each level-1 coefficient by its name (``"Intercept"`` or the level-1
        term): ``{"Intercept": "~ 1 + meanses", "cses": "~ 1 + meanses"}``. Coefficients left out
        are constants (``"~ 1"``).
    random : list of str or dict, default ``["Intercept"]``
        Coefficients that vary randomly across groups; with three levels, a dict by grouping
        column chooses them per level.
    group : str or list of str
        Grouping column(s), outermost level first (``"school"``; ``["school", "class"]``).
    correlated : bool, default True
        Whether coefficients varying across the same groups are correlated (``|``) or
        independent (``||``). It only matters when two or more coefficients vary.

    Returns
    -------
    LevelSpec

    Raises
    ------
    FormulaSyntaxError
        For an equation that does not parse (with a caret under the offending character).
    ModelSpecError
        For a coefficient named in ``level2`` or ``random`` that is not in the level-1 equation,
        a group term in an equation, a coefficient with neither a fixed nor a random part, or a
        term that would enter the model twice.

    Examples
    --------
    >>> levels = parse_levels(
    ...     "mAch ~ 1 + cses",
    ...     {"Intercept": "~ meanses + sector", "cses": "~ meanses + sector"},
    ...     random=["Intercept", "cses"],
    ...     group="school",
    ... )
    >>> levels.formula
    'mAch ~ 1 + cses + meanses + sector + cses:meanses + cses:sector + (1 + cses | school)'
    >>> levels.to_model_spec() == parse_formula(
    ...     "mAch ~ cses * (meanses + sector) + (1 + cses | school)")
    True
    >>> parse_levels("y ~ 1", random=["Intercept"], group="school/class").formula
    'y ~ 1 + (1 | school) + (1 | school:class)'
    """
    spec1 = _level1(level1)
    terms1 = spec1.fixed.terms
    names = _group(group)
    equations: dict[str, tuple[str, ...]] = {}
    if level2 is not None and not isinstance(level2, Mapping):
        raise ArgumentError(
            "level2 must be a dict of level-2 equations by coefficient, e.g. "
            f"{{'Intercept': '~ 1 + w'}}, got {type(level2).__name__}."
        )
    if not isinstance(correlated, bool):
        raise ArgumentError(f"correlated must be True or False, got {correlated!r}.")
    for name, text in (level2 or {}).items():
        key = _coefficient(name, terms1, level1, "level2")
        if key in equations:
            raise ModelSpecError(
                f"level2 has two equations for {_names([key])} (keys written differently); keep "
                "one."
            )
        equations[key] = _equation(str(name), text)
    randoms = _random(random, terms1, level1, names)
    varying = {c for _, coefficients in randoms for c in coefficients}
    eqs = tuple(Level2Equation(t, equations.get(t, ("1",))) for t in terms1)
    for eq in eqs:
        if not eq.terms and eq.coefficient not in varying:
            raise ModelSpecError(
                f"The level-2 equation of {_names([eq.coefficient])} has no term and the "
                f"coefficient does not vary randomly: it is 0 and {eq.name} drops out. Give it a "
                "term ('~ 1'), list it in random=, or remove it from the level-1 equation."
            )
    levels = LevelSpec(
        response=spec1.fixed.response,
        trials=spec1.fixed.trials,
        level1=terms1,
        equations=eqs,
        group=names,
        random=randoms,
        correlated=bool(correlated),
        offsets=spec1.fixed.offsets,
    )
    _check_duplicates(levels)
    return levels


def _check_duplicates(levels: LevelSpec) -> None:
    """A term produced by two equations would silently become one coefficient: refuse it."""
    seen: dict[object, str] = {}
    for eq in levels.equations:
        for term, product in zip(eq.terms, eq.fixed_terms, strict=True):
            where = (
                f"the level-1 term '{eq.name}'"
                if term == "1"
                else f"'{term}' in the equation of {_names([eq.coefficient])}"
            )
            parsed = list(Formula(f"0 + {product}")) if product != "1" else ["1"]
            for key in parsed:
                if key in seen:
                    raise ModelSpecError(
                        f"The term '{product}' enters the model twice: from {seen[key]} and from "
                        f"{where}. Keep one of them."
                    )
                seen[key] = where
