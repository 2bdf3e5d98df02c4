"""Which coefficient each population effect and each group effect belongs to, level by level.

A fitted design knows its columns (``cses:meanses``) but not which variables are group-level. This
module reads that from the model: a variable is at level 2 (or 3) when it came from a level-2 table
or was declared group-level (``level2=``; every level-2 equation of ``Model.from_levels``), or when
its values (or its main-effect column) are constant within every group of that level. A variable
whose coefficient varies across groups of a level is below that level. Each column of a term is
then split into its parts at each level: ``cses:meanses`` is ``cses`` at level 1 and ``meanses`` at
level 2, the cross-level interaction ``γ_11`` that explains the ``cses`` slope by ``meanses``.

Levels are defined when the grouping factors are nested in one another (two or three levels). Other
models (crossed factors, more levels, no groups) get a flat structure: every column is a level-1
predictor and every group effect a deviation by its factor.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from hierbayes.design import Design, GroupBlock
from hierbayes.families import Family
from hierbayes.spec.formula import split_top_level
from hierbayes.spec.variables import column_names

__all__ = [
    "CONSTANT",
    "MAX_LEVELS",
    "BlockInfo",
    "FixedEntry",
    "LevelStructure",
    "RandomEntry",
    "level_structure",
]

CONSTANT = "1"
"""The part of a column at a level where it has no predictor (the intercept of an equation)."""

MAX_LEVELS = 3
"""Level equations are written for up to three levels (observations, and two nested factors)."""


@dataclass(frozen=True)
class FixedEntry:
    """A population-level column and its part at each level (``"1"`` where it has none)."""

    column: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class RandomEntry:
    """A varying coefficient of a group block: the coefficient path it deviates (levels below its
    own) and its level (2 or 3; 0 in a flat structure)."""

    block: str
    column: str
    level: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class BlockInfo:
    """A group block: name, grouping factor, level, varying columns and whether correlated."""

    name: str
    factor: str
    label: str
    level: int
    columns: tuple[str, ...]
    correlated: bool


@dataclass(frozen=True)
class LevelStructure:
    """The model's coefficients arranged by level (see :func:`level_structure`).

    Attributes
    ----------
    response, trials, family
        The response expression, binomial trials column and family.
    hierarchical : bool
        ``True`` when the grouping factors nest (level equations exist).
    levels : tuple of str
        Display name of each upper level, innermost first (``("class", "school")``); in a flat
        structure, of each distinct grouping factor.
    fixed : tuple of FixedEntry
        One per population-level column, in design order.
    random : tuple of RandomEntry
        One per varying column of each block, in design order.
    blocks : tuple of BlockInfo
    offsets : tuple of str
        Expressions of the model's offsets (coefficient 1 in the linear predictor).
    """

    response: str
    trials: str | None
    family: Family
    hierarchical: bool
    levels: tuple[str, ...]
    fixed: tuple[FixedEntry, ...]
    random: tuple[RandomEntry, ...]
    blocks: tuple[BlockInfo, ...]
    offsets: tuple[str, ...] = ()

    @property
    def depth(self) -> int:
        """Number of levels, observations included (1 in a flat structure)."""
        return 1 + len(self.levels) if self.hierarchical else 1

    def numbers(self) -> dict[tuple[str, ...], int]:
        """Index of every coefficient path within its parent's equation.

        ``"1"`` is 0; other predictors are numbered 1, 2, ... in order of first appearance among
        the population-level columns, then the group effects (Raudenbush & Bryk number each
        equation's predictors from 1; the intercept of each equation is 0).
        """
        numbers: dict[tuple[str, ...], int] = {}
        counters: dict[tuple[str, ...], int] = {}
        paths = [e.path for e in self.fixed] + [e.path for e in self.random]
        for path in paths:
            for d in range(1, len(path) + 1):
                prefix = path[:d]
                if prefix in numbers:
                    continue
                if prefix[-1] == CONSTANT:
                    numbers[prefix] = 0
                else:
                    counters[prefix[:-1]] = counters.get(prefix[:-1], 0) + 1
                    numbers[prefix] = counters[prefix[:-1]]
        return numbers


def _variables(factor: str) -> set[str]:
    try:
        return set(column_names(factor))
    except Exception:  # a factor formulaic printed but cannot re-read: treat it as its own name
        return {factor}


def _term_factors(term: object) -> list[str]:
    return [str(f.expr) for f in term.factors if str(f.expr) != CONSTANT]  # type: ignore[attr-defined]


def _constant_within(values: np.ndarray, codes: np.ndarray, n_groups: int) -> bool:
    low = np.full(n_groups, np.inf)
    high = np.full(n_groups, -np.inf)
    for column in np.atleast_2d(values.T):
        low[:] = np.inf
        high[:] = -np.inf
        np.minimum.at(low, codes, column)
        np.maximum.at(high, codes, column)
        if not np.all(high - low <= 1e-12 * np.maximum(1.0, np.abs(high))):
            return False
    return True


def _chain(design: Design) -> list[GroupBlock] | None:
    """One representative block per grouping factor, innermost first, if the factors nest."""
    by_factor: dict[str, tuple[int, GroupBlock]] = {}
    for k, block in enumerate(design.blocks):
        by_factor.setdefault(block.factor, (k, block))
    ordered = sorted(by_factor.values(), key=lambda kb: (-len(kb[1].levels), -kb[0]))
    chain = [block for _, block in ordered]
    for fine, coarse in itertools.pairwise(chain):
        pairs = np.unique(np.stack([fine.codes, coarse.codes]), axis=1)
        if pairs.shape[1] != len(fine.levels):
            return None
    return chain


def _labels(chain: list[GroupBlock]) -> dict[str, str]:
    """Display name of each level: ``class`` for ``school:class`` below ``school``."""
    labels = {}
    for k, block in enumerate(chain):
        outer = chain[k + 1].term.factor if k + 1 < len(chain) else ()
        own = block.term.factor
        rest = own[len(outer) :] if outer and own[: len(outer)] == outer else own
        labels[block.factor] = ":".join(rest)
    return labels


def level_structure(design: Design, *, flat: bool = False) -> LevelStructure:
    """Arrange the columns of ``design`` by level (``flat=True``: all at level 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 6], "x": [0.0, 1, 0, 1, 1, 0],
    ...                    "w": [0.5, 0.5, 0.7, 0.7, 0.9, 0.9], "g": [1, 1, 2, 2, 3, 3]})
    >>> s = level_structure(make_design(parse_formula("y ~ x * w + (1 + x | g)"), df))
    >>> [(e.column, e.path) for e in s.fixed]
    [('Intercept', ('1', '1')), ('x', ('x', '1')), ('w', ('1', 'w')), ('x:w', ('x', 'w'))]
    """
    spec = design.spec
    chain = _chain(design) if design.blocks else None
    hierarchical = chain is not None and len(chain) + 1 <= MAX_LEVELS
    if flat or not hierarchical:
        return _flat(design)
    assert chain is not None
    level_of_factor = {block.factor: k + 2 for k, block in enumerate(chain)}
    depth = len(chain) + 1
    labels = _labels(chain)
    classify = _classifier(design, chain, level_of_factor, labels)

    fixed = []
    for structure in design.fixed_formulaic_spec.structure:
        factors = _term_factors(structure.term)
        for column in structure.columns:
            if str(column) not in design.fixed_columns:  # an ordinal model's intercept
                continue
            fixed.append(FixedEntry(str(column), _path(column, factors, classify, depth)))
    random = []
    blocks = []
    for block in design.blocks:
        level = level_of_factor[block.factor]
        blocks.append(
            BlockInfo(
                block.name,
                block.factor,
                labels[block.factor],
                level,
                block.columns,
                block.correlated,
            )
        )
        for structure in block.formulaic_spec.structure:
            factors = _term_factors(structure.term)
            for column in structure.columns:
                path = _path(column, factors, classify, level - 1)
                random.append(RandomEntry(block.name, str(column), level, path))
    return LevelStructure(
        response=spec.response,
        trials=design.spec.fixed.trials,
        offsets=design.spec.fixed.offsets,
        family=design.family,
        hierarchical=True,
        levels=tuple(labels[b.factor] for b in chain),
        fixed=tuple(fixed),
        random=tuple(random),
        blocks=tuple(blocks),
    )


def _path(column: object, factors: list[str], classify, depth: int) -> tuple[str, ...]:
    parts: list[list[str]] = [[] for _ in range(depth)]
    pieces = split_top_level(str(column))
    if not factors:
        return (CONSTANT,) * depth
    if len(pieces) != len(factors):
        pieces, factors = [str(column)], [factors[0]]
        levels = [1]
    else:
        levels = [min(classify(f), depth) for f in factors]
    for piece, level in zip(pieces, levels, strict=True):
        parts[level - 1].append(piece)
    return tuple(":".join(p) if p else CONSTANT for p in parts)


def _classifier(
    design: Design,
    chain: list[GroupBlock],
    level_of_factor: dict[str, int],
    labels: dict[str, str],
):
    """A function: formulaic factor expression -> its level (1, 2 or 3)."""
    declared: dict[str, int] = {}
    for block in chain:
        level = level_of_factor[block.factor]
        for key in {block.factor, block.term.factor[-1], labels[block.factor]}:
            for column in design.level2_columns.get(key, ()):
                declared[column] = max(declared.get(column, 1), level)
    main_effects: dict[str, np.ndarray] = {}
    for structure in design.fixed_formulaic_spec.structure:
        factors = _term_factors(structure.term)
        if len(factors) == 1:
            index = [design.fixed_columns.index(str(c)) for c in structure.columns]
            main_effects[factors[0]] = design.X[:, index]
    caps: dict[str, int] = {}
    for block in design.blocks:
        for structure in block.formulaic_spec.structure:
            for factor in _term_factors(structure.term):
                level = level_of_factor[block.factor] - 1
                caps[factor] = min(caps.get(factor, level), level)

    data = getattr(design, "data", None)
    cache: dict[str, int] = {}

    def variable_level(name: str) -> int:
        level = declared.get(name, 1)
        if data is not None and name in data.columns and len(data) == design.n_obs:
            values = data[name].reset_index(drop=True)
            for block in chain:
                counts = values.groupby(block.codes).nunique(dropna=False)
                if (counts <= 1).all():
                    level = max(level, level_of_factor[block.factor])
        return level

    def classify(factor: str) -> int:
        if factor in cache:
            return cache[factor]
        variables = _variables(factor)
        level = min((variable_level(v) for v in variables), default=1)
        if factor in main_effects:
            for block in chain:
                if _constant_within(main_effects[factor], block.codes, len(block.levels)):
                    level = max(level, level_of_factor[block.factor])
        level = min(level, caps.get(factor, len(chain) + 1))
        cache[factor] = level
        return level

    return classify


def _flat(design: Design) -> LevelStructure:
    factors = list(dict.fromkeys(block.factor for block in design.blocks))
    fixed = [FixedEntry(c, (CONSTANT if c == "Intercept" else c,)) for c in design.fixed_columns]
    random = []
    blocks = []
    for block in design.blocks:
        blocks.append(
            BlockInfo(block.name, block.factor, block.factor, 0, block.columns, block.correlated)
        )
        for column in block.columns:
            path = (CONSTANT if column == "Intercept" else column,)
            random.append(RandomEntry(block.name, column, 0, path))
    return LevelStructure(
        response=design.spec.response,
        trials=design.spec.fixed.trials,
        offsets=design.spec.fixed.offsets,
        family=design.family,
        hierarchical=False,
        levels=tuple(factors),
        fixed=tuple(fixed),
        random=tuple(random),
        blocks=tuple(blocks),
    )
