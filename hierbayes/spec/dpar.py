"""Formulas of distributional parameters: ``sigma="~ treatment + (1 | g)"``.

The log of the residual SD (or of the dispersion: the ``shape`` of negativebinomial and gamma,
the precision ``phi`` of beta) gets its own linear predictor, as brms's
``bf(y ~ ..., sigma ~ ...)`` (``shape ~ ...``, ``phi ~ ...``). The keyword is the family's own
parameter's name, as in brms; each family says which one takes a formula
(:attr:`hierbayes.families.Family.dpar`).
Its formula has no response (the parameter is not observed): it is written ``"~ ..."`` and parsed
as the right-hand side of a model formula, with the same whitelist (:mod:`hierbayes.spec.safety`:
nothing is evaluated), the same group-term syntax and the same checks.
"""

from __future__ import annotations

from hierbayes.errors import FormulaSyntaxError, ModelSpecError
from hierbayes.spec.formula import parse_formula
from hierbayes.spec.terms import ModelSpec

__all__ = ["DPARS", "dpar_formula", "parse_dpar_formula"]

# distributional parameters that take a formula: name -> what it is, for messages
DPARS = {
    "sigma": "the residual SD",
    "shape": "the shape (dispersion)",
    "phi": "the precision phi",
}


def dpar_formula(**formulas: str | None) -> ModelSpec | None:
    """The parsed formula of the one distributional parameter given (``None`` when none is).

    Parameters
    ----------
    **formulas
        The keywords of :class:`hierbayes.Model` that take a distributional formula
        (``sigma=``, ``shape=``, ``phi=``), ``None`` where not given. Whether the family has
        the parameter is checked with the data (:func:`hierbayes.design.dpar.check_dpar_family`).

    Raises
    ------
    ModelSpecError
        When more than one is given: a family has one dispersion parameter.

    Examples
    --------
    >>> dpar_formula(sigma=None, shape="~ x").fixed.response
    'shape'
    >>> dpar_formula(sigma=None, shape=None) is None
    True
    """
    given = {name: text for name, text in formulas.items() if text is not None}
    if len(given) > 1:
        raise ModelSpecError(
            f"Formulas given for {' and '.join(sorted(given))}: a model takes one formula for "
            "its family's dispersion parameter (sigma= for gaussian, student_t and lognormal, "
            "shape= for negativebinomial and gamma, phi= for beta). Keep one."
        )
    if not given:
        return None
    ((name, text),) = given.items()
    return parse_dpar_formula(text, name)


def parse_dpar_formula(formula: str, name: str = "sigma") -> ModelSpec:
    """Parse the one-sided formula of distributional parameter ``name``.

    Parameters
    ----------
    formula : str
        ``"~ x + (1 | g)"``: fixed and group terms of ``log(sigma)``, in the syntax of model
        formulas (no response, no offset).
    name : str
        The parameter: ``"sigma"``, ``"shape"`` or ``"phi"``.

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
    >>> parse_dpar_formula("~ mined", "shape").fixed.response
    'shape'
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
