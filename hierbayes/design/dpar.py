"""The design of a distributional parameter's linear predictor: ``log σ_i = X_σ b_σ + Z_σ u_σ``
(``log φ_i`` for a shape or precision).

A second fixed design and its own group blocks, built like the mean's
(:func:`hierbayes.design.make_design`) from the parameter's formula
(:func:`hierbayes.spec.dpar.parse_dpar_formula`). Group terms on the same factor as the mean's
keep separate, uncorrelated effects, as brms does without its ``|ID|`` syntax. Block names carry
the parameter's prefix (``sigma_school``) and so do coefficient labels in tables
(``sigma_Intercept``, brms's names).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from formulaic import ModelSpec as FormulaicSpec

from hierbayes.errors import DataError, FamilyError, MissingColumnError
from hierbayes.families import Family
from hierbayes.spec import ModelSpec

__all__ = ["DparDesign", "check_dpar_family", "dpar_variables", "make_dpar_design"]


@dataclass(frozen=True, eq=False)
class DparDesign:
    """Design of the linear predictor of distributional parameter ``name`` (on the log scale).

    Attributes
    ----------
    name : str
        The parameter: ``"sigma"``, ``"shape"`` or ``"phi"`` (the family's
        :attr:`~hierbayes.families.Family.dpar`).
    spec : ModelSpec
        Its parsed formula (the parameter's name as placeholder response).
    X : ndarray, shape (n, p)
    fixed_columns : tuple of str
        Formulaic's column names (``"Intercept"``, ``"treatment"``).
    blocks : tuple of GroupBlock
        Group terms, named ``<name>_<factor>`` (``.2``, ... for a factor's further terms).
    fixed_formulaic_spec : formulaic.ModelSpec
        Encoding state of ``X``, for new data.
    """

    name: str
    spec: ModelSpec
    X: np.ndarray
    fixed_columns: tuple[str, ...]
    blocks: tuple
    fixed_formulaic_spec: FormulaicSpec

    @property
    def labels(self) -> tuple[str, ...]:
        """Coefficient labels as in brms: ``("sigma_Intercept", "sigma_treatment")``."""
        return tuple(f"{self.name}_{c}" for c in self.fixed_columns)

    @property
    def term_dim(self) -> str:
        """Dimension of the fixed coefficients in the draws (``sigma_term``)."""
        return f"{self.name}_term"


def check_dpar_family(family: Family, name: str, formula: str = "~ x + (1 | g)") -> None:
    """A :class:`FamilyError` unless ``name`` is the family's distributional parameter
    (:attr:`~hierbayes.families.Family.dpar`), naming the one it has.

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> check_dpar_family(get_family("negativebinomial"), "shape")
    >>> check_dpar_family(get_family("negativebinomial"), "sigma")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FamilyError: The negativebinomial family has no parameter sigma, ... shape...
    >>> check_dpar_family(get_family("poisson"), "sigma")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FamilyError: The poisson family has no parameter sigma ...
    """
    if family.dpar == name:
        return
    if family.dpar is not None:
        raise FamilyError(
            f"The {family.name} family has no parameter {name}, so {name}= cannot model it: its "
            f"dispersion parameter is {family.dpar}. Write {family.dpar}='{formula}' "
            f"(the log of {family.dpar} gets the linear predictor, as brms's "
            f"bf(y ~ ..., {family.dpar} ~ ...))."
        )
    raise FamilyError(
        f"The {family.name} family has no parameter {name} (its own parameters: "
        f"{', '.join(family.params) or 'none'}), so {name}= cannot model it. A formula for "
        "a dispersion parameter applies to gaussian, student_t and lognormal (sigma=), "
        "negativebinomial and gamma (shape=) and beta (phi=)."
    )


def dpar_variables(spec: ModelSpec) -> list[str]:
    """Data columns the parameter's formula uses (its placeholder response left out)."""
    from hierbayes.design.design import required_variables

    return [v for v in required_variables(spec) if v != spec.fixed.response]


def check_dpar_columns(spec: ModelSpec, data: pd.DataFrame) -> None:
    """A :class:`MissingColumnError` naming a column of the parameter's formula not in ``data``."""
    available = [str(c) for c in data.columns]
    for column in dpar_variables(spec):
        if column not in data.columns:
            close = difflib.get_close_matches(column, available, n=3)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise MissingColumnError(
                f"Column '{column}' used in the {spec.fixed.response} formula "
                f"'{spec.formula}' is not in the data.{hint}"
            )


def make_dpar_design(spec: ModelSpec, data: pd.DataFrame) -> DparDesign:
    """Encode ``data`` (rows as the mean's design) for the parameter's formula ``spec``.

    Examples
    --------
    >>> from hierbayes.spec.dpar import parse_dpar_formula
    >>> df = pd.DataFrame({"t": [0.0, 1.0, 0.0, 1.0], "g": ["a", "a", "b", "b"]})
    >>> d = make_dpar_design(parse_dpar_formula("~ t + (1 | g)"), df)
    >>> d.labels, d.blocks[0].name, d.blocks[0].codes.tolist()
    (('sigma_Intercept', 'sigma_t'), 'sigma_g', [0, 0, 1, 1])
    """
    from hierbayes.design.design import GroupBlock, _check_rank, _group_codes, _matrix

    name = spec.fixed.response
    what = f"the {name} formula"
    X, columns, fixed_spec = _matrix(spec.fixed.expr, data, what)
    try:
        _check_rank(X, columns)
    except DataError as err:
        raise DataError(f"In {what}: {err}") from err
    blocks = []
    seen: dict[str, int] = {}
    for group in spec.groups:
        seen[group.factor_name] = seen.get(group.factor_name, 0) + 1
        count = seen[group.factor_name]
        block_name = f"{name}_{group.factor_name}" + ("" if count == 1 else f".{count}")
        Z, z_columns, z_spec = _matrix(group.expr, data, f"the group term {group} of {what}")
        codes, levels = _group_codes(data, group.factor)
        if len(levels) < 2:
            raise DataError(
                f"Grouping factor '{group.factor_name}' of {what} has a single level "
                f"({levels[0]!r}): a group-level variance needs at least two groups. Drop the term."
            )
        blocks.append(
            GroupBlock(block_name, group.factor_name, group, z_columns, Z, codes, levels, z_spec)
        )
    return DparDesign(name, spec, X, columns, tuple(blocks), fixed_spec)
