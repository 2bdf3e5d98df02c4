"""The parameterisations a group term can be sampled in, by name.

A module of its own, importing nothing, so that the model builder
(:mod:`hierbayes.build.groups`) and the reader of saved fits (:mod:`hierbayes.schema`, which must
not load PyMC) check names against the same list.

Examples
--------
>>> from hierbayes.parameterizations import PARAMETERIZATIONS
>>> "partial" in PARAMETERIZATIONS
True
"""

from __future__ import annotations

__all__ = ["PARAMETERIZATIONS"]

PARAMETERIZATIONS: tuple[str, ...] = (
    "noncentered",
    "centered",
    "marginal",
    "laplace",
    "expanded",
    "agq",
    "partial",
)
