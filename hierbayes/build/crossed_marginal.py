"""Gaussian likelihood with the varying intercepts of crossed factors integrated out jointly.

With every group term a varying intercept (``(1 | pupil) + (1 | school)``), the effects of all
factors can be integrated out together: the factor with the most groups ("A") has a diagonal
block in lme4's ``Λ'Z'ZΛ + σ² I``, so eliminating it leaves a dense Schur complement onto the
other factors' groups ("B", ``m`` of them), formed from the sufficient statistics of the data in
``Σ_g (partners of g)²`` flops and factorised in ``m³ / 3`` (see
:mod:`hierbayes.density.crossed_marginal` for the algebra). Only the fixed effects, the SDs and
σ are sampled; the effects are drawn afterwards from their exact joint conditional posterior
(:mod:`hierbayes.conditional_crossed`).

That is cheap while ``m`` is small (80 schools) and slow when it is not (InstEval: 1,142
lecturers and departments, a dense 1,142² factorisation per gradient). ``"auto"`` chooses between
it and integrating out one factor while sampling the others' effects
(:mod:`hierbayes.build.marginal`) by a cost model from the structure: flops per gradient of each
option times the leapfrog steps NUTS is expected to take in its dimension
(:func:`crossed_costs`).

Why a Schur complement rather than a general sparse Cholesky (CHOLMOD through scikit-sparse):
with intercepts only, A's block is diagonal, so the elimination order that puts A first has no
fill inside A and the whole fill lands in the (dense) B block; a sparse factorisation with a
fill-reducing ordering finds the same factor, at the cost of a compiled dependency that needs
the SuiteSparse system library (scikit-sparse builds from source against it). The gradient
needs only the diagonal of the inverse, which the Schur form gives directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from hierbayes.build.marginal import centred_residual_sums
from hierbayes.design import Design, GroupBlock

__all__ = [
    "CrossedDesign",
    "add_crossed_likelihood",
    "crossed_costs",
    "crossed_design",
    "prefer_crossed",
]


@dataclass(frozen=True)
class CrossedDesign:
    """Crossed factors with one varying intercept each, the one with the most groups first.

    Attributes
    ----------
    blocks : tuple of GroupBlock
        One intercept-only term per factor; ``blocks[0]`` is "A", the others "B".
    columns : ndarray of int, shape (n, F)
        Each row's column of ``Z = [Z_A, Z_B]`` in each factor (A's codes, then B's offset).
    n_a : int
        Groups of A.
    m : int
        Groups of the other factors together.
    """

    blocks: tuple[GroupBlock, ...]
    columns: np.ndarray
    n_a: int
    m: int

    @property
    def k(self) -> int:
        """Columns of ``Z``: every integrated-out effect."""
        return self.n_a + self.m

    def cross(self, other: np.ndarray) -> np.ndarray:
        """``Z' other`` for an n x c matrix -> (k, c)."""
        out = np.zeros((self.k, other.shape[1]))
        for f in range(self.columns.shape[1]):
            for c in range(other.shape[1]):
                out[:, c] += np.bincount(self.columns[:, f], weights=other[:, c], minlength=self.k)
        return out

    def structure(self, covs: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The int64 structure and float64 statistics of
        :mod:`hierbayes.density.crossed_marginal`; ``covs``: each block's covariance index."""
        JA, m = self.n_a, self.m
        cols = self.columns
        n_a = np.bincount(cols[:, 0], minlength=JA).astype(float)
        keys = np.concatenate([cols[:, 0] * m + (cols[:, f] - JA) for f in range(1, cols.shape[1])])
        pairs, counts = np.unique(keys, return_counts=True)
        ptr = np.searchsorted(pairs // m, np.arange(JA + 1))
        SBB = np.zeros(m * m)
        for f1 in range(1, cols.shape[1]):
            for f2 in range(1, cols.shape[1]):
                SBB += np.bincount((cols[:, f1] - JA) * m + cols[:, f2] - JA, minlength=m * m)
        colcov = np.concatenate(
            [np.full(len(b.levels), covs[f]) for f, b in enumerate(self.blocks) if f > 0]
        )
        head = np.array([JA, m, covs[0], len(pairs)])
        struct = np.concatenate([head, colcov, ptr, pairs % m]).astype(np.int64)
        stats = np.concatenate([n_a, counts.astype(float), SBB])
        return np.ascontiguousarray(struct), np.ascontiguousarray(stats)

    def partner_squares(self) -> int:
        """``Σ_g (partners of g)²``: the flops of one Schur complement, over 2."""
        _, counts = np.unique(
            np.unique(
                np.concatenate(
                    [
                        self.columns[:, 0] * self.m + self.columns[:, f] - self.n_a
                        for f in range(1, self.columns.shape[1])
                    ]
                )
            )
            // self.m,
            return_counts=True,
        )
        return int((counts.astype(np.int64) ** 2).sum())


def crossed_design(design: Design, names: list[str] | None = None) -> CrossedDesign | None:
    """The group terms ``names`` (all when None) as crossed varying intercepts, or None.

    Every term of the model must be among them, a plain varying intercept (``(1 | g)``), one per
    factor, with at least two factors; the model gaussian without weights or a varying σ.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": range(6), "p": list("abcabd"), "s": list("xxxyyy")})
    >>> c = crossed_design(make_design(parse_formula("y ~ 1 + (1 | s) + (1 | p)"), df))
    >>> [b.name for b in c.blocks], c.n_a, c.m, c.columns[:, 1].tolist()
    (['p', 's'], 4, 2, [4, 4, 4, 5, 5, 5])
    """
    blocks = list(design.blocks)
    if (
        design.family.name != "gaussian"
        or design.weights is not None
        or design.dpar is not None
        or len(blocks) < 2
        or (names is not None and any(b.name not in names for b in blocks))
        or len({b.factor for b in blocks}) != len(blocks)
        or any(b.columns != ("Intercept",) or not np.all(b.Z[:, 0] == 1.0) for b in blocks)
    ):
        return None
    order = sorted(range(len(blocks)), key=lambda i: -len(blocks[i].levels))
    ordered = tuple(blocks[i] for i in order)
    n_a = len(ordered[0].levels)
    columns = np.empty((design.n_obs, len(ordered)), dtype=np.int64)
    offset = 0
    for f, block in enumerate(ordered):
        columns[:, f] = block.codes + offset
        offset += len(block.levels)
    return CrossedDesign(ordered, columns, n_a, offset - n_a)


def _steps(dim: int) -> float:
    """Leapfrog steps NUTS is expected to take per draw in ``dim`` dimensions (``~ d^¼``)."""
    return 4.0 * dim**0.25


def crossed_costs(design: Design, crossed: CrossedDesign) -> dict[str, float]:
    """Expected flops per draw of integrating the crossed factors out jointly (``"joint"``) and
    of integrating out one and sampling the others' effects (``"one"``).

    Joint: ``4 Σ_g (partners of g)² + m³`` per gradient (forming the Schur complement and the
    diagonal of its inverse, factorising and inverting it) in ``p + F + 1`` dimensions. One
    factor: about ``4 n (p + F)`` per gradient (the rows' linear predictor and its reverse pass),
    in a dimension grown by the sampled effects (all groups but those of the fewest-group
    factor, which :func:`~hierbayes.build.model.auto_marginal_factor` integrates out).
    """
    p = design.X.shape[1]
    nf = len(crossed.blocks)
    joint = (4.0 * crossed.partner_squares() + float(crossed.m) ** 3) * _steps(p + nf + 1)
    sampled = crossed.k - min(len(b.levels) for b in crossed.blocks)
    one = 4.0 * design.n_obs * (p + nf) * _steps(p + nf + 1 + sampled)
    return {"joint": joint, "one": one}


def prefer_crossed(design: Design) -> bool:
    """Whether ``"auto"`` integrates out every factor jointly (crossed intercepts only, and the
    cheaper option by :func:`crossed_costs`)."""
    crossed = crossed_design(design)
    if crossed is None:
        return False
    costs = crossed_costs(design, crossed)
    return costs["joint"] <= costs["one"]


def add_crossed_likelihood(
    design: Design,
    crossed: CrossedDesign,
    sds: dict[str, Any],
    sigma: Any,
    theta: Any,
    W: np.ndarray,
) -> Any:
    """Add the joint marginal log-likelihood of the crossed factors as the potential
    ``marginal_loglik`` (dense in B, vectorised over A; see the module notes).

    Parameters
    ----------
    crossed : CrossedDesign
    sds : dict
        The SD of each integrated-out term (a scalar tensor), by term name.
    sigma : tensor
    theta : tensor or None
        Fixed-effect parameters, with ``W @ theta`` the fixed part of the linear predictor.
    W : ndarray, shape (n, p)
    """
    y = np.asarray(design.y, dtype=float) - design.offset_or_zero
    n = len(y)
    sigma2 = sigma**2
    rr, t = centred_residual_sums(y, W, theta, crossed.cross)
    JA, m = crossed.n_a, crossed.m
    cols = crossed.columns
    P = np.zeros((JA, m))  # n_gh, dense
    SBB = np.zeros((m, m))
    for f in range(1, cols.shape[1]):
        np.add.at(P, (cols[:, 0], cols[:, f] - JA), 1.0)
        for f2 in range(1, cols.shape[1]):
            np.add.at(SBB, (cols[:, f] - JA, cols[:, f2] - JA), 1.0)
    n_a = np.bincount(cols[:, 0], minlength=JA).astype(float)
    lam_a = sds[crossed.blocks[0].name]
    lam_b = pt.concatenate(
        [pt.repeat(sds[b.name].reshape((1,)), len(b.levels)) for b in crossed.blocks[1:]]
    )
    d = sigma2 + lam_a**2 * n_a
    c = lam_a**2 / d
    T = SBB - pt.dot(P.T * c, P)
    C = sigma2 * pt.eye(m) + lam_b[:, None] * T * lam_b[None, :]
    tA, tB = t[:JA], t[JA:]
    zB = lam_b * (tB - pt.dot(P.T, c * tA))
    Ch = pt.linalg.cholesky(C)
    aB = pt.linalg.solve(C, zB, assume_a="pos")
    aA = lam_a * (tA - pt.dot(P, lam_b * aB)) / d
    quad = (lam_a * tA * aA).sum() + (lam_b * tB * aB).sum()
    logdet = pt.log(d).sum() + 2.0 * pt.log(pt.diagonal(Ch)).sum()
    k = crossed.k
    loglik = -0.5 * (
        n * np.log(2.0 * np.pi) + (n - k) * pt.log(sigma2) + logdet + (rr - quad) / sigma2
    )
    return pm.Potential("marginal_loglik", loglik)
