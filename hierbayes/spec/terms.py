"""Frozen, pure-Python description of a multilevel model: what the formula says, nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FixedTerms", "GroupTerm", "ModelSpec"]


@dataclass(frozen=True)
class FixedTerms:
    """The response and the population-level (fixed) part of a model.

    Parameters
    ----------
    response : str
        Expression of the response, e.g. ``"mAch"`` or ``"np.log(y)"``.
    terms : tuple of str
        Canonical term list of the fixed part as formulaic expands it, e.g.
        ``("1", "cses", "meanses", "cses:meanses")``. ``"1"`` is the intercept.
    trials : str or None
        Column with the number of binomial trials (from ``y | trials(n) ~ ...``).
    offsets : tuple of str
        Expressions of the offsets, added to the linear predictor with a fixed coefficient of 1
        (``offset(np.log(expected))`` in the formula gives ``"np.log(expected)"``).

    Examples
    --------
    >>> FixedTerms("y", ("1", "x")).expr
    '1 + x'
    """

    response: str
    terms: tuple[str, ...]
    trials: str | None = None
    offsets: tuple[str, ...] = ()

    @property
    def expr(self) -> str:
        """The right-hand side as a formula string (``"0"`` when it has no term)."""
        if not self.terms:
            return "0"
        expr = " + ".join(self.terms)
        return expr if "1" in self.terms else "0 + " + expr

    @property
    def has_intercept(self) -> bool:
        """Whether the fixed part has an intercept."""
        return "1" in self.terms


@dataclass(frozen=True)
class GroupTerm:
    """One parenthesised group-level term such as ``(1 + cses | school)``.

    Parameters
    ----------
    terms : tuple of str
        Canonical terms whose coefficients vary by group, ``"1"`` for the intercept.
    factor : tuple of str
        Grouping variables; more than one means their interaction (``g1:g2``).
    correlated : bool
        ``True`` for ``|`` (a full covariance matrix), ``False`` for ``||`` (independent SDs).

    Examples
    --------
    >>> t = GroupTerm(("1", "cses"), ("school",), True)
    >>> t.factor_name, t.expr, str(t)
    ('school', '1 + cses', '(1 + cses | school)')
    """

    terms: tuple[str, ...]
    factor: tuple[str, ...]
    correlated: bool = True

    @property
    def factor_name(self) -> str:
        """The grouping factor as written in a formula: ``"school"`` or ``"g1:g2"``."""
        return ":".join(self.factor)

    @property
    def expr(self) -> str:
        """The varying-coefficient expression, e.g. ``"1 + cses"`` or ``"0 + cses"``."""
        expr = " + ".join(self.terms)
        return expr if "1" in self.terms else "0 + " + expr

    @property
    def has_intercept(self) -> bool:
        """Whether the intercept varies by group in this term."""
        return "1" in self.terms

    def __str__(self) -> str:
        bar = "|" if self.correlated else "||"
        return f"({self.expr} {bar} {self.factor_name})"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed multilevel model: a fixed part and zero or more group-level terms.

    Two specs are equal when they describe the same model with its terms in the same order, however
    it was written (implicit or explicit intercepts, ``a*b`` or ``a + b + a:b``, ``(x | g)`` or
    ``(1 + x | g)``, a formula or level equations); the order matters because it fixes the order of
    the design's columns. The original formula text is kept for display but takes no part in
    comparisons.

    Examples
    --------
    >>> from hierbayes.spec import parse_formula
    >>> parse_formula("y ~ x + (x | g)") == parse_formula("y ~ 1 + x + (1 + x | g)")
    True
    """

    fixed: FixedTerms
    groups: tuple[GroupTerm, ...] = ()
    formula: str = field(default="", compare=False)

    @property
    def response(self) -> str:
        """Expression of the response variable."""
        return self.fixed.response

    @property
    def factors(self) -> tuple[str, ...]:
        """Distinct grouping factor names, in order of appearance."""
        return tuple(dict.fromkeys(g.factor_name for g in self.groups))

    def __str__(self) -> str:
        lhs = self.fixed.response
        if self.fixed.trials is not None:
            lhs = f"{lhs} | trials({self.fixed.trials})"
        offsets = [f"offset({o})" for o in self.fixed.offsets]
        rhs = " + ".join([self.fixed.expr, *offsets, *(str(g) for g in self.groups)])
        return f"{lhs} ~ {rhs}"
