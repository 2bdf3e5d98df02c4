"""Symbols of a model in Raudenbush & Bryk's or Gelman & Hill's notation.

``"rb"`` (Raudenbush & Bryk): level-1 coefficients ``β_pj`` (``π_pjk`` with three levels, whose
level-2 coefficients are ``β_pqk``), population effects ``γ``, group deviations ``u`` (``r`` at
level 2 and ``u`` at level 3 with three levels), their covariance matrix ``T`` with elements ``τ``,
level-1 residual ``r_ij`` (``e_ijk``) with variance ``σ²``. Each equation numbers its predictors
from 1 in order of appearance; 0 is its intercept.

``"gh"`` (Gelman & Hill): ``y_i = α_j[i] + β_j[i]·x_i + ε_i``; group coefficients ``α_j``, ``β_j``
(``β_1j``, ``β_2j`` for several slopes) with means ``μ_α`` or group-level regressions
``γ_0^α + γ_1^α·w_j``, SDs ``σ_α``, correlations ``ρ_αβ``, residual SD ``σ_y``.

Models without nested levels (crossed factors, more than three levels, no groups; and Gelman &
Hill's notation with more than one grouping factor) are written flat: ``y_i = γ_0 + γ_1·x_i +
u_0,j[i]^(g) + r_i`` (Raudenbush & Bryk letters) or ``β`` and ``η`` (Gelman & Hill letters).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from hierbayes.design import Design
from hierbayes.equations.math import M, escape, join, square, sym, var
from hierbayes.equations.structure import (
    CONSTANT,
    FixedEntry,
    LevelStructure,
    RandomEntry,
    level_structure,
)
from hierbayes.errors import ArgumentError

__all__ = ["NOTATIONS", "FixedLabel", "Notation", "get_notation"]

NOTATIONS = ("rb", "gh")

ALPHA = M("α", r"\alpha")
BETA = M("β", r"\beta")
GAMMA = M("γ", r"\gamma")
PI = M("π", r"\pi")
MU = M("μ", r"\mu")
ETA = M("η", r"\eta")
RHO = M("ρ", r"\rho")
SIGMA = M("σ", r"\sigma")
TAU = M("τ", r"\tau")
EPS = M("ε", r"\varepsilon")
U = M("u", "u")
R = M("r", "r")
E = M("e", "e")
DOT = M("·", r"\,")


@dataclass(frozen=True)
class FixedLabel:
    """What a population-level column means in level terms."""

    column: str
    symbol: M
    explains: str
    predictor: str
    order: tuple[int, ...]

    @property
    def label(self) -> str:
        """``"γ_11: cses slope ~ meanses"``."""
        text = f"{self.symbol.text}: {self.explains}"
        return text if self.predictor == CONSTANT else f"{text} ~ {self.predictor}"


def _digits(numbers: list[int]) -> str:
    return ("," if any(n >= 10 for n in numbers) else "").join(str(n) for n in numbers)


def _sub(index: str, groups: str) -> str:
    if index and groups and "," in index:
        return f"{index},{groups}"
    return index + groups


def sqrt(x: M) -> M:
    """``√x``."""
    return M(f"√{x.text}", rf"\sqrt{{{x.latex}}}")


class Notation(ABC):
    """Symbols of one model in one notation (base class: numbering and labels)."""

    name = ""

    def __init__(self, structure: LevelStructure):
        self.structure = structure
        self.numbers = structure.numbers()

    # -- numbering ------------------------------------------------------------------------
    def key(self, path: tuple[str, ...]) -> tuple[int, ...]:
        """Sort key of a coefficient path: its indices."""
        return tuple(self.numbers[path[: d + 1]] for d in range(len(path)))

    def index(self, path: tuple[str, ...]) -> str:
        """Subscript of a path: ``"11"``, or ``"1,12"`` when an index has two digits."""
        return _digits(list(self.key(path)))

    # -- labels ---------------------------------------------------------------------------
    def fixed_label(self, entry: FixedEntry) -> FixedLabel:
        """Symbol, explained coefficient and predictor of a population-level column."""
        first = entry.path[0]
        explains = "intercept" if first == CONSTANT else f"{first} slope"
        upper = [p for p in entry.path[1:] if p != CONSTANT]
        predictor = " × ".join(upper) if upper else CONSTANT
        return FixedLabel(
            entry.column, self.fixed_symbol(entry), explains, predictor, self.key(entry.path)
        )

    def fixed_labels(self) -> list[FixedLabel]:
        """Labels of all population-level columns, in the order of the equations."""
        return sorted((self.fixed_label(e) for e in self.structure.fixed), key=lambda f: f.order)

    def entry(self, block: str, column: str) -> RandomEntry:
        """The group-effect entry of ``column`` in ``block``."""
        for e in self.structure.random:
            if e.block == block and e.column == column:
                return e
        raise KeyError(f"No varying coefficient {column!r} in group term {block!r}.")

    def correlated(self, a: RandomEntry, b: RandomEntry) -> bool:
        """Whether two group effects have a free correlation."""
        if a.block != b.block:
            return False
        return next(x.correlated for x in self.structure.blocks if x.name == a.block)

    # -- provided by each notation ---------------------------------------------------------
    @abstractmethod
    def fixed_symbol(self, entry: FixedEntry) -> M:
        """Symbol of a population-level column: ``γ_11``, ``γ_1^β``, ``μ_α``."""

    @abstractmethod
    def deviation(self, entry: RandomEntry, combined: bool = False) -> M:
        """Symbol of a group deviation: ``u_1j`` (``η_j[i]^β`` in a combined equation)."""

    @abstractmethod
    def variance(self, entry: RandomEntry) -> M:
        """Variance of a group deviation: ``τ_11``, ``σ_β²``."""

    @abstractmethod
    def covariance(self, a: RandomEntry, b: RandomEntry) -> M:
        """Covariance of two group deviations: ``τ_01``, ``ρ_αβ·σ_α·σ_β``."""

    @abstractmethod
    def sd(self, entry: RandomEntry) -> M:
        """SD of a group deviation: ``√τ_11``, ``σ_β``."""

    @abstractmethod
    def correlation(self, a: RandomEntry, b: RandomEntry) -> M:
        """Correlation of two group deviations: ``τ_01/√(τ_00·τ_11)``, ``ρ_αβ``."""

    residual = M("r", "r")
    residual_sd = SIGMA
    residual_variance = M("σ²", r"\sigma^2")


class RBNotation(Notation):
    """Raudenbush & Bryk, two or three nested levels."""

    name = "rb"

    def __init__(self, structure: LevelStructure):
        super().__init__(structure)
        self.depth = structure.depth
        if self.depth == 2:
            self.letters = {1: BETA, 2: GAMMA}
            self.deviations = {2: U}
            self.matrices = {2: M("", "")}
            self.residual = R
        else:
            self.letters = {1: PI, 2: BETA, 3: GAMMA}
            self.deviations = {2: R, 3: U}
            self.matrices = {2: PI, 3: BETA}
            self.residual = E

    def groups(self, level: int) -> str:
        """Subscript letters of a quantity at ``level`` and above: ``"ij"``, ``"jk"``, ``"k"``."""
        letters = "ijk"[: self.depth]
        return letters[level - 1 :] if level <= self.depth else ""

    def predictor(self, name: str, level: int) -> M:
        """A predictor at its level: ``cses_ij``, ``meanses_j``."""
        return var(name, self.groups(level))

    def coefficient(self, path: tuple[str, ...]) -> M:
        """Symbol of the coefficient at the end of ``path``: ``β_1j``, ``γ_11``."""
        depth = len(path)
        return sym(self.letters[depth], _sub(self.index(path), self.groups(depth + 1)))

    def fixed_symbol(self, entry: FixedEntry) -> M:
        return self.coefficient(entry.path)

    def deviation(self, entry: RandomEntry, combined: bool = False) -> M:
        return sym(
            self.deviations[entry.level], _sub(self.index(entry.path), self.groups(entry.level))
        )

    def matrix_name(self, level: int) -> M:
        """``T`` (``T_π``, ``T_β`` with three levels)."""
        return sym(M("T", "T"), self.matrices[level])

    def covariance(self, a: RandomEntry, b: RandomEntry) -> M:
        i, j = self.index(a.path), self.index(b.path)
        pair = i + j if len(i) == 1 and len(j) == 1 else f"{i},{j}"
        return sym(TAU, self.matrices[a.level] + pair)

    def variance(self, entry: RandomEntry) -> M:
        return self.covariance(entry, entry)

    def sd(self, entry: RandomEntry) -> M:
        return sqrt(self.variance(entry))

    def correlation(self, a: RandomEntry, b: RandomEntry) -> M:
        cov, va, vb = self.covariance(a, b), self.variance(a), self.variance(b)
        return M(
            f"{cov.text}/√({va.text}·{vb.text})",
            rf"\frac{{{cov.latex}}}{{\sqrt{{{va.latex}{vb.latex}}}}}",
        )


class GHNotation(Notation):
    """Gelman & Hill, one grouping factor."""

    name = "gh"
    residual = M("ε", r"\varepsilon")
    residual_sd = sym(SIGMA, "y")
    residual_variance = square(sym(SIGMA, "y"))

    def __init__(self, structure: LevelStructure):
        super().__init__(structure)
        firsts = {e.path[0] for e in (*structure.fixed, *structure.random)}
        self.slopes = len(firsts - {CONSTANT})
        self.varying_paths = {e.path[:1] for e in structure.random} | {
            e.path[:1] for e in structure.fixed if e.path[1] != CONSTANT
        }

    def base(self, path: tuple[str, ...], group: str = "") -> M:
        """``α``, ``β`` or ``β_p``, with a group subscript when given: ``α_j[i]``, ``β_1,j``."""
        if path[0] == CONSTANT:
            return sym(ALPHA, group)
        if self.slopes == 1:
            return sym(BETA, group)
        number = self.index(path[:1])
        return sym(BETA, f"{number},{group}" if group else number)

    def inner(self, path: tuple[str, ...]) -> M:
        """The coefficient as a sub- or superscript: ``α``, ``β``, ``β1`` (``\\beta_1``)."""
        base = self.base(path)
        return M(base.text.replace("_", ""), base.latex)

    def varies(self, path: tuple[str, ...]) -> bool:
        """Whether a level-1 coefficient differs between groups (randomly or by predictors)."""
        return path[:1] in self.varying_paths

    def coefficient(self, path: tuple[str, ...], group: str = "j[i]") -> M:
        """A level-1 coefficient as it appears in the level-1 equation."""
        return self.base(path, group if self.varies(path) else "")

    def fixed_symbol(self, entry: FixedEntry) -> M:
        path = entry.path[:1]
        if not self.varies(path):
            return self.base(path)
        siblings = [e for e in self.structure.fixed if e.path[:1] == path]
        if all(e.path[1] == CONSTANT for e in siblings):
            return sym(MU, self.inner(path))
        return sym(GAMMA, str(self.numbers[entry.path]), self.inner(path))

    def deviation(self, entry: RandomEntry, combined: bool = False) -> M:
        return sym(ETA, "j[i]" if combined else "j", self.inner(entry.path))

    def sd(self, entry: RandomEntry) -> M:
        return sym(SIGMA, self.inner(entry.path))

    def variance(self, entry: RandomEntry) -> M:
        return square(self.sd(entry))

    def correlation(self, a: RandomEntry, b: RandomEntry) -> M:
        return sym(RHO, self.inner(a.path) + self.inner(b.path))

    def covariance(self, a: RandomEntry, b: RandomEntry) -> M:
        return join([self.correlation(a, b), self.sd(a), self.sd(b)], DOT)


class FlatNotation(Notation):
    """Models without nested levels, in Raudenbush & Bryk's or Gelman & Hill's letters."""

    def __init__(self, structure: LevelStructure, name: str):
        super().__init__(structure)
        self.name = name
        self.rb = name == "rb"
        factors = list(structure.levels)
        letters = "jklmnopq"
        self.letters = {
            f: letters[k] if k < len(letters) else f"j{k}" for k, f in enumerate(factors)
        }
        self.block_factor = {b.name: b.factor for b in structure.blocks}
        if not self.rb:
            self.residual = GHNotation.residual
            self.residual_sd = GHNotation.residual_sd
            self.residual_variance = GHNotation.residual_variance

    def letter(self, entry: RandomEntry) -> str:
        """Index letter of the entry's grouping factor."""
        return self.letters[self.block_factor[entry.block]]

    def fixed_symbol(self, entry: FixedEntry) -> M:
        return sym(GAMMA if self.rb else BETA, self.index(entry.path))

    def _sup(self, entry: RandomEntry) -> M:
        return M(f"({entry.block})", rf"(\text{{{escape(entry.block)}}})")

    def deviation(self, entry: RandomEntry, combined: bool = False) -> M:
        group = self.letter(entry) + ("[i]" if combined else "")
        return sym(U if self.rb else ETA, f"{self.index(entry.path)},{group}", self._sup(entry))

    def covariance(self, a: RandomEntry, b: RandomEntry) -> M:
        if not self.rb:
            return join([self.correlation(a, b), self.sd(a), self.sd(b)], DOT)
        i, j = self.index(a.path), self.index(b.path)
        pair = i + j if len(i) == 1 and len(j) == 1 else f"{i},{j}"
        return sym(TAU, pair, self._sup(a))

    def variance(self, entry: RandomEntry) -> M:
        if self.rb:
            return self.covariance(entry, entry)
        return square(self.sd(entry))

    def sd(self, entry: RandomEntry) -> M:
        if self.rb:
            return sqrt(self.variance(entry))
        return sym(SIGMA, self.index(entry.path), self._sup(entry))

    def correlation(self, a: RandomEntry, b: RandomEntry) -> M:
        if self.rb:
            cov, va, vb = self.covariance(a, b), self.variance(a), self.variance(b)
            return M(
                f"{cov.text}/√({va.text}·{vb.text})",
                rf"\frac{{{cov.latex}}}{{\sqrt{{{va.latex}{vb.latex}}}}}",
            )
        return sym(RHO, self.index(a.path) + self.index(b.path), self._sup(a))


def get_notation(design: Design, notation: str) -> Notation:
    """The symbols of ``design``'s model in ``notation``.

    Level equations are used where they exist: nested factors, up to three levels with
    Raudenbush & Bryk, one grouping factor with Gelman & Hill; other models are written flat.

    Raises
    ------
    ValueError
        For an unknown notation.
    """
    if not isinstance(notation, str) or notation not in NOTATIONS:
        raise ArgumentError(
            f"Unknown notation {notation!r}: use 'rb' (Raudenbush & Bryk) or 'gh' (Gelman & Hill)."
        )
    structure = level_structure(design)
    if structure.hierarchical and notation == "rb":
        return RBNotation(structure)
    if structure.hierarchical and structure.depth == 2:
        return GHNotation(structure)
    return FlatNotation(level_structure(design, flat=True), notation)
