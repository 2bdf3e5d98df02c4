"""Level equations: write any model as level-1 / level-2 equations, and label results that way.

:func:`equations` renders a model (built from a formula or from level equations) in Raudenbush &
Bryk's or Gelman & Hill's notation; :func:`fixef_by_level` and :func:`varcorr_labelled` label a
fit's tables with the same symbols (``γ_11: cses slope ~ meanses``, ``τ_00``, ``σ²``).
"""

from hierbayes.equations.notation import NOTATIONS, FixedLabel, get_notation
from hierbayes.equations.render import FORMS, Equations, Section, equations
from hierbayes.equations.structure import LevelStructure, level_structure
from hierbayes.equations.tables import fixef_by_level, varcorr_labelled

__all__ = [
    "FORMS",
    "NOTATIONS",
    "Equations",
    "FixedLabel",
    "LevelStructure",
    "Section",
    "equations",
    "fixef_by_level",
    "get_notation",
    "level_structure",
    "varcorr_labelled",
]
