"""Model specification: pure description of a multilevel model, no data and no PyMC."""

from hierbayes.spec.formula import parse_formula
from hierbayes.spec.terms import FixedTerms, GroupTerm, ModelSpec

__all__ = ["FixedTerms", "GroupTerm", "ModelSpec", "parse_formula"]
