"""Formulas of distributional parameters: ``sigma="~ treatment + (1 | g)"``.

The log of the residual SD gets its own linear predictor, as brms's ``bf(y ~ ..., sigma ~ ...)``.
Its formula has no response (the parameter is not observed): it is written ``"~ ..."`` and parsed
as the right-hand side of a model formula, with the same whitelist (:mod:`hierbayes.spec.safety`:
nothing is evaluated), the same group-term syntax and the same checks.
"""

from __future__ import annotations

from hierbayes.errors import FormulaSyntaxError, ModelSpecError
from hierbayes.spec.formula import parse_formula
from hierbayes.spec.terms import ModelSpec

__all__ = ["DPARS", "parse_dpar_formula"]

# distributional parameters that take a formula: name -> what it is, for messages
DPARS = {"sigma": "the residual SD"}


def parse_dpar_formula(formula: str, name: str = "sigma") -> ModelSpec:
    """Parse the one-sided formula of distributional parameter ``name``.

    Parameters
    ----------
    formula : str
        ``"~ x + (1 | g)"``: fixed and group terms of ``log(sigma)``, in the syntax of model
        formulas (no response, no offset).
    name : str
        The parameter, ``"sigma"``.

    Returns
    -------
    ModelSpec
        With ``name`` as its (placeholder) response; ``formula`` is the text as given.

    Raises
    ------
    FormulaSyntaxError
        For text before ``~`` (the parameter has no response), a missing ``~`` or anything the
        model formulas do not accept.
    ModelSpecError
        For an offset in the formula.

    Examples
    --------
    >>> spec = parse_dpar_formula("~ treatment + (1 | school)")
    >>> spec.fixed.terms, [str(g) for g in spec.groups]
    (('1', 'treatment'), ['(1 | school)'])
    >>> parse_dpar_formula("~ 1").fixed.terms
    ('1',)
    """
    if name not in DPARS:
        raise ModelSpecError(
            f"No formula can be given for {name!r}; formulas are taken for {sorted(DPARS)}."
        )
    if not isinstance(formula, str):
        raise FormulaSyntaxError(
            f"The {name} formula must be a string such as '~ x + (1 | g)', got "
            f"{type(formula).__name__}."
        )
    text = formula.strip()
    if "~" not in text:
        raise FormulaSyntaxError(
            f"Expected '~' at the start of the {name} formula, as in '~ x + (1 | g)'.",
            formula,
            len(formula) - len(formula.lstrip()),
        )
    lhs = text[: text.index("~")]
    if lhs.strip():
        raise FormulaSyntaxError(
            f"The {name} formula has no response: {DPARS[name]} is modelled, not observed. "
            f"Write '~ {text[text.index('~') + 1 :].strip()}' (without '{lhs.strip()}').",
            formula,
            formula.index(lhs.strip()),
        )
    spec = parse_formula(f"{name} {text}")
    if spec.fixed.offsets:
        raise ModelSpecError(
            f"The {name} formula {formula!r} has an offset; offsets apply to the mean's formula."
        )
    return ModelSpec(spec.fixed, spec.groups, formula=text)
