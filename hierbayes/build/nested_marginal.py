"""Gaussian likelihood with the effects of a chain of nested factors integrated out jointly.

When the grouping factors of a gaussian model nest (pupils in schools in authorities, written
``(1 | authority/school)`` or as separate terms on factors that nest, with varying slopes at any
level), all their effects can be integrated out at once and exactly. The marginal likelihood
factorises over the top level's groups and is computed bottom-up from per-group sufficient
statistics: each group's effects are integrated out given its ancestors' (Woodbury identity and
matrix determinant lemma), which leaves statistics of its ancestors' columns that add up in its
parent. See :mod:`hierbayes.density.nested_marginal` for the algebra; this module holds the
structure (:class:`NestedDesign`, :func:`nested_chain`) and the PyMC version of the likelihood.

Sampling then sees only the fixed effects and the variance parameters: no funnel at any level,
however weakly the data inform it, and a gradient costs about ``Σ groups · q³`` whatever the
number of rows. The effects are drawn afterwards from their exact conditional posterior, top level
first (:mod:`hierbayes.conditional_nested`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from hierbayes.build.marginal import (
    MARGINAL_POTENTIAL,
    FactorDesign,
    centred_residual_sums,
    factor_design,
)
from hierbayes.design import Design

__all__ = ["NestedDesign", "add_nested_likelihood", "nested_chain"]


@dataclass(frozen=True)
class NestedDesign:
    """Grouping factors that nest, top level first, all their terms integrated out together.

    Attributes
    ----------
    levels : tuple of FactorDesign
        One per factor, the top level (fewest groups) first.
    parents : tuple of ndarray
        For each level below the top, each group's parent group in the level above.
    """

    levels: tuple[FactorDesign, ...]
    parents: tuple[np.ndarray, ...]

    @property
    def depth(self) -> int:
        """Number of levels."""
        return len(self.levels)

    @property
    def X(self) -> np.ndarray:
        """Every level's design columns side by side, the bottom level first (n x d)."""
        return np.concatenate([f.Z for f in reversed(self.levels)], axis=1)

    @property
    def leaves(self) -> FactorDesign:
        """The bottom level."""
        return self.levels[-1]

    def columns(self) -> dict[str, int]:
        """First column of each group term in :attr:`X`."""
        out: dict[str, int] = {}
        col = 0
        for factor in reversed(self.levels):
            for block in factor.blocks:
                out[block.name] = col
                col += len(block.columns)
        return out

    def leaf_cross(self, other: np.ndarray) -> np.ndarray:
        """Per bottom-level group ``X_g' other_g`` for an n x k matrix -> (J, d, k)."""
        X = self.X
        leaves = self.leaves
        d, k = X.shape[1], other.shape[1]
        products = (X[:, :, None] * other[:, None, :]).reshape(len(X), d * k)
        out = np.empty((leaves.n_groups, d * k))
        for c in range(d * k):
            out[:, c] = np.bincount(leaves.codes, weights=products[:, c], minlength=leaves.n_groups)
        return out.reshape(leaves.n_groups, d, k)

    def tree(self) -> np.ndarray:
        """The int64 tree of :mod:`hierbayes.density.nested_marginal`: depth, groups and
        coefficients per level, then each lower level's parents."""
        head = [self.depth, *(f.n_groups for f in self.levels), *(f.q for f in self.levels)]
        return np.concatenate([np.array(head, dtype=np.int64), *self.parents]).astype(np.int64)


def _nests(child: np.ndarray, jc: int, parent: np.ndarray, jp: int) -> bool:
    """Whether every group of ``child`` lies inside one group of ``parent``."""
    return bool(np.unique(child.astype(np.int64) * jp + parent).size == jc)


def nested_chain(design: Design, names: list[str] | None = None) -> NestedDesign | None:
    """The factors of the group terms ``names`` (all terms when None) as a nested chain, or None.

    A chain has at least two factors, each with more groups than the one above and fewer than
    rows, every group inside one group of the factor above; the terms of one factor must share
    their groups.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": range(12), "a": list("aabb") * 3, "s": list("pqrs") * 3})
    >>> chain = nested_chain(make_design(parse_formula("y ~ 1 + (1 | a/s)"), df))
    >>> [f.n_groups for f in chain.levels], chain.parents[0].tolist()
    ([2, 4], [0, 0, 1, 1])
    """
    blocks = [b for b in design.blocks if names is None or b.name in names]
    factors: dict[str, list[str]] = {}
    for block in blocks:
        factors.setdefault(block.factor, []).append(block.name)
    if len(factors) < 2:
        return None
    levels = []
    for terms in factors.values():
        first = next(b for b in blocks if b.name == terms[0])
        if any(
            not np.array_equal(b.codes, first.codes) for b in blocks if b.factor == first.factor
        ):
            return None
        levels.append(factor_design(design, terms))
    levels.sort(key=lambda f: f.n_groups)
    parents = []
    for upper, lower in itertools.pairwise(levels):
        if not upper.n_groups < lower.n_groups < design.n_obs:
            return None
        if not _nests(lower.codes, lower.n_groups, upper.codes, upper.n_groups):
            return None
        parent = np.zeros(lower.n_groups, dtype=np.int64)
        parent[lower.codes] = upper.codes
        present = np.bincount(lower.codes, minlength=lower.n_groups) > 0
        if not present.all():
            return None
        parents.append(parent)
    return NestedDesign(tuple(levels), tuple(parents))


def _block_diag(chols: list[Any]) -> Any:
    return chols[0] if len(chols) == 1 else pt.linalg.block_diag(*chols)


def add_nested_likelihood(
    design: Design,
    nested: NestedDesign,
    chols: dict[str, Any],
    sigma: Any,
    theta: Any,
    W: np.ndarray,
) -> Any:
    """Add the joint marginal log-likelihood of the nested chain as the potential
    ``marginal_loglik`` (see the module notes).

    Parameters
    ----------
    nested : NestedDesign
    chols : dict
        Cholesky factor of the covariance of each integrated-out term, by term name.
    sigma : tensor
        Residual SD.
    theta : tensor or None
        Fixed-effect parameters, with ``W @ theta`` the fixed part of the linear predictor.
    W : ndarray, shape (n, p)
    """
    y = np.asarray(design.y, dtype=float) - design.offset_or_zero
    n = len(y)
    sigma2 = sigma**2
    rr, t = centred_residual_sums(y, W, theta, nested.leaf_cross)
    S = pt.as_tensor(nested.leaf_cross(nested.X))
    logdet: Any = 0.0
    quad: Any = 0.0
    for depth in range(nested.depth - 1, -1, -1):
        factor = nested.levels[depth]
        q = factor.q
        L = _block_diag([chols[b.name] for b in factor.blocks])
        S11, S21, S22 = S[:, :q, :q], S[:, q:, :q], S[:, q:, q:]
        t1, t2 = t[:, :q], t[:, q:]
        M = pt.einsum("ka,jkl,lb->jab", L, S11, L) + sigma2 * pt.eye(q)
        C = pt.linalg.cholesky(M)
        logdet = logdet + 2.0 * pt.log(pt.diagonal(C, axis1=-2, axis2=-1)).sum()
        Minv = pt.linalg.inv(M)
        K = pt.einsum("ak,jkl,bl->jab", L, Minv, L)
        a = pt.einsum("jab,jb->ja", K, t1)
        quad = quad + (t1 * a).sum()
        if depth == 0:
            break
        upper = nested.levels[depth - 1].n_groups
        e = S22.shape[1]
        parent = nested.parents[depth - 1]
        S_red = S22 - pt.einsum("jfa,jab,jgb->jfg", S21, K, S21)
        t_red = t2 - pt.einsum("jfa,ja->jf", S21, a)
        S = pt.inc_subtensor(pt.zeros((upper, e, e))[parent], S_red)
        t = pt.inc_subtensor(pt.zeros((upper, e))[parent], t_red)
    n_effects = sum(f.n_groups * f.q for f in nested.levels)
    loglik = -0.5 * (
        n * np.log(2.0 * np.pi) + (n - n_effects) * pt.log(sigma2) + logdet + (rr - quad) / sigma2
    )
    return pm.Potential(MARGINAL_POTENTIAL, loglik)
