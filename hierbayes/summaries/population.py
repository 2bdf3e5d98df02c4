"""Which population-level (fixed) columns make up each varying coefficient's population value.

In a multilevel model a group's coefficient is its population value plus the group's deviation,
``β_kj = Σ_c w_jkc b_c + u_kj``. The population value includes the group's level-2 predictors: in
``mAch ~ cses * (meanses + sector) + (1 + cses | school)`` school ``j``'s intercept shrinks toward
``γ00 + γ01 meanses_j + γ02 sector_j`` and its ``cses`` slope toward
``γ10 + γ11 meanses_j + γ12 sector_j``. The rule, applied to each fixed column ``c``:

1. ``c`` is a varying coefficient's own column (``cses``): it belongs to that coefficient with
   weight 1.
2. ``c`` is an interaction whose factors include a varying slope's (``cses:meanses`` for the
   ``cses`` slope) and equals, within every group, the slope's column times a value constant
   within the group (``meanses_j``): it belongs to that slope with weight ``meanses_j``.
3. ``c`` is constant within every group (a level-2 predictor such as ``meanses`` or
   ``sector[T.Public]``) and the factor has a varying intercept: it belongs to the intercept with
   weight equal to its value in the group.
4. Otherwise ``c`` varies within groups and is not a varying coefficient's own column (a level-1
   predictor whose effect does not vary, e.g. ``basement`` in ``log_radon ~ basement + uranium +
   (1 | county)``): it belongs to no coefficient. Its effect is common to all groups; the
   no-pooling fit estimates it once from the within-group variation (see
   :mod:`hierbayes.summaries.nopool`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hierbayes.design import Design
from hierbayes.summaries.posterior import FactorBlocks
from hierbayes.summaries.tables import check_aligned

__all__ = ["PopulationMap", "population_map"]

_TOL = 1e-8


@dataclass(frozen=True)
class PopulationMap:
    """How fixed columns combine into each group's population value of each varying coefficient.

    Attributes
    ----------
    terms : tuple of str
        Varying coefficients of the factor.
    weights : ndarray, shape (J, q, p)
        ``population[j, k] = weights[j, k] @ b`` for fixed effects ``b``. ``NaN`` where a group's
        level-2 value cannot be recovered (rule 2 for a group whose slope column is all zero).
    shared : tuple of int
        Indices of the fixed columns that belong to no coefficient (rule 4).
    """

    terms: tuple[str, ...]
    weights: np.ndarray
    shared: tuple[int, ...]

    def population(self, b: np.ndarray) -> np.ndarray:
        """Population values for fixed-effect draws ``b`` (S, p): shape (S, J, q)."""
        return np.einsum("jkp,sp->sjk", self.weights, b)


def _group_values(x: np.ndarray, codes: np.ndarray, J: int) -> np.ndarray | None:
    """The value of ``x`` in each group when it is constant within every group, else ``None``."""
    lo = np.full(J, np.inf)
    hi = np.full(J, -np.inf)
    np.minimum.at(lo, codes, x)
    np.maximum.at(hi, codes, x)
    scale = np.abs(x).max()  # relative: a column's units must not decide its level
    return lo if np.all(hi - lo <= _TOL * scale) else None


def _multiplier(
    x: np.ndarray, z: np.ndarray, codes: np.ndarray, J: int, known: np.ndarray | None
) -> np.ndarray | None:
    """Per-group ``w_j`` with ``x = w_j z`` within every group, else ``None``.

    ``known`` gives candidate values (a fixed column named like the remaining factors of the
    interaction); otherwise ``w_j`` is the least-squares ratio in each group, ``NaN`` in groups
    where ``z`` is all zero.
    """
    if known is None:
        zz = np.bincount(codes, weights=z * z, minlength=J)
        xz = np.bincount(codes, weights=x * z, minlength=J)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(zz > 0, xz / np.where(zz > 0, zz, 1.0), np.nan)
    else:
        w = known
    fitted = np.where(np.isnan(w[codes]), 0.0, w[codes]) * z
    scale = np.abs(x).max()  # relative: a column's units must not decide its level
    return w if np.all(np.abs(x - fitted) <= _TOL * scale) else None


def _remainder(parts: list[str], own: list[str]) -> list[str] | None:
    """Factors of an interaction left after removing a slope's own factors (``None``: not one)."""
    rest = list(parts)
    for factor in own:
        if factor not in rest:
            return None
        rest.remove(factor)
    return rest or None


def population_map(design: Design, fb: FactorBlocks) -> PopulationMap:
    """Apply the rule of this module to the fixed columns of ``design`` for factor ``fb``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> from hierbayes.summaries.posterior import factor_blocks
    >>> radon = hb.datasets.load("radon")
    >>> d = make_design(parse_formula("log_radon ~ basement + uranium + (1 | county)"), radon)
    >>> pm = population_map(d, factor_blocks(d))
    >>> [d.fixed_columns[c] for c in pm.shared]
    ['basement']
    >>> pm.weights.shape
    (85, 1, 3)
    """
    check_aligned(design.fixed_columns, fb.factor, fb.terms)
    X, columns = design.X, design.fixed_columns
    J, q, p = len(fb.levels), len(fb.terms), len(columns)
    codes = fb.codes
    weights = np.zeros((J, q, p))
    shared: list[int] = []
    constant = {c: _group_values(X[:, i], codes, J) for i, c in enumerate(columns)}
    for i, column in enumerate(columns):
        x = X[:, i]
        if column in fb.terms:
            weights[:, fb.terms.index(column), i] = 1.0
            continue
        parts = column.split(":")
        assigned = False
        for k, term in enumerate(fb.terms):
            if term == "Intercept":
                continue
            rest = _remainder(parts, term.split(":"))
            if rest is None:
                continue
            known = constant.get(":".join(rest))
            w = _multiplier(x, fb.Z[:, k], codes, J, known)
            if w is None and known is not None:
                w = _multiplier(x, fb.Z[:, k], codes, J, None)
            if w is not None:
                weights[:, k, i] = w
                assigned = True
                break
        if assigned:
            continue
        if "Intercept" in fb.terms and constant[column] is not None:
            weights[:, fb.terms.index("Intercept"), i] = constant[column]
            continue
        shared.append(i)
    return PopulationMap(fb.terms, weights, tuple(shared))
