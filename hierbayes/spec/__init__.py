"""Model specification: pure description of a multilevel model, no data and no PyMC."""

from hierbayes.spec.formula import parse_formula
from hierbayes.spec.levels import Level2Equation, LevelSpec, parse_levels
from hierbayes.spec.safety import check_formula
from hierbayes.spec.terms import FixedTerms, GroupTerm, ModelSpec

__all__ = [
    "FixedTerms",
    "GroupTerm",
    "Level2Equation",
    "LevelSpec",
    "ModelSpec",
    "check_formula",
    "parse_formula",
    "parse_levels",
]
