"""Which group terms the compiled kernel samples sheared, at their slopes' centre, and the way
back from the sampled coordinates to the effects (see :mod:`hierbayes.density.shear`).

A term is sheared when it has an all-ones intercept first and at least one continuous slope
(more than two distinct values) whose centre lies more than :data:`SHEAR_AT` SDs from 0; those
slopes' columns are centred (at the fixed column's mean when the slope is also a fixed effect,
so that hierarchical centring holds its fixed slope without a shift of the intercept; else at
their own mean, weighted by the likelihood weights). A 0/1 column is not sheared (its 0 is a
level of the data). Only sampled terms are: not when any factor is integrated out (those paths
read ``L`` themselves), nor the terms of an own parameter's linear predictor, nor terms with a
parameter-expanded coefficient.

Nor a slope that a fixed term interacts with a group-level predictor (``Time * Diet`` with
``(1 + Time | Chick)``, Diet constant within chicks): that fixed column is ``z v_j`` (``v_j``
the group's value), and at the centre ``z v_j = (z - x̄) v_j + x̄ v_j``, so its coefficient
moves every group's value at the centre by ``x̄ v_j`` (at 0 it moves nothing): each such fixed
slope is tied to all groups' effects and mixes slowly (:func:`group_level_interaction`).

Why a threshold of 1 SD: the data inform each group's value near the centre, so the correlation
they induce between a group's intercept at 0 and its slope is about ``x̄ / sqrt(x̄² + s²)``: 0.71
at 1 SD, 0.95 at 3 SDs (MASS's OME, Loud 35-65: 5 SDs). Below 1 SD NUTS moves along it freely,
and the sampler's coordinates stay those of the model as written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hierbayes.design import Design, GroupBlock
from hierbayes.design.weights import column_means

__all__ = [
    "SHEAR_AT",
    "centred_columns",
    "covariance_at_zero",
    "group_level_interaction",
    "shear_centres",
    "sheared_factor",
    "unshear",
]

SHEAR_AT = 1.0
"""A slope whose centre is more than this many SDs from 0 is sampled at its centre."""

_INTEGRATED = ("marginal", "laplace", "agq")
_SAMPLED = ("centered", "noncentered")


def shear_centres(
    design: Design, parameterization: dict[str, tuple[str, ...]], means: np.ndarray
) -> dict[str, np.ndarray]:
    """The centre of each coefficient (0: not sheared) of each sheared term, by term name.

    ``means`` are the fixed slope columns' means (``X``'s columns other than the intercept),
    as :func:`hierbayes.density.layout.centred_fixed_design` gives them.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"y": rng.normal(size=40), "age": np.tile([8.0, 10, 12, 14], 10),
    ...                   "g": np.repeat(list("abcdefghij"), 4)})
    >>> design = make_design(parse_formula("y ~ age + (1 + age | g)"), d)
    >>> shear_centres(design, {"g": ("noncentered", "noncentered")}, np.array([11.0]))
    {'g': array([ 0., 11.])}
    >>> d["age"] = d["age"] - 11
    >>> design = make_design(parse_formula("y ~ age + (1 + age | g)"), d)
    >>> shear_centres(design, {"g": ("noncentered", "noncentered")}, np.array([0.0]))
    {}
    """
    if any(how and how[0] in _INTEGRATED for how in parameterization.values()):
        return {}
    slopes = [j for j, c in enumerate(design.fixed_columns) if c != "Intercept"]
    out = {}
    for block in design.blocks:
        how = parameterization[block.name]
        q = len(block.columns)
        if q < 2 or block.columns[0] != "Intercept" or not np.all(block.Z[:, 0] == 1.0):
            continue
        if any(h not in _SAMPLED for h in how):
            continue
        centre = np.zeros(q)
        for k in range(1, q):
            z = np.asarray(block.Z[:, k], dtype=float)
            spread = float(np.std(z))
            if len(np.unique(z)) <= 2 or not spread > 0:
                continue
            same = [a for a, j in enumerate(slopes) if np.array_equal(design.X[:, j], z)]
            own = float(column_means(z[:, None], design.weights)[0])
            mean = float(means[same[0]]) if same and means[same[0]] != 0.0 else own
            if abs(mean) > SHEAR_AT * spread and not group_level_interaction(design, block, k):
                centre[k] = mean
        if np.any(centre != 0.0):
            out[block.name] = centre
    return out


def group_level_interaction(design: Design, block: GroupBlock, k: int) -> bool:
    """Whether a fixed column is ``block``'s column ``k`` times a value constant within each
    group that is not the same for all groups (an interaction of the slope with a group-level
    predictor): such a term is not sheared (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> d = pd.DataFrame({"y": np.arange(12.0), "t": np.tile([8.0, 10, 12], 4),
    ...                   "g": np.repeat(list("abcd"), 3), "diet": np.repeat(list("xxyy"), 3)})
    >>> design = make_design(parse_formula("y ~ t * diet + (1 + t | g)"), d)
    >>> group_level_interaction(design, design.blocks[0], 1)
    True
    >>> design = make_design(parse_formula("y ~ t + diet + (1 + t | g)"), d)
    >>> group_level_interaction(design, design.blocks[0], 1)
    False
    """
    z = np.asarray(block.Z[:, k], dtype=float)
    nonzero = z != 0.0
    for j, name in enumerate(design.fixed_columns):
        x = np.asarray(design.X[:, j], dtype=float)
        if name == "Intercept" or np.array_equal(x, z) or np.any(x[~nonzero] != 0.0):
            continue
        ratio = np.where(nonzero, x / np.where(nonzero, z, 1.0), np.nan)
        values = pd.Series(ratio).groupby(block.codes).agg(["min", "max"])
        values = values.dropna()
        if len(values) < 2 or not np.allclose(values["min"], values["max"], rtol=1e-12, atol=0):
            continue
        if not np.allclose(values["min"], values["min"].iloc[0]):
            return True
    return False


def centred_columns(block: GroupBlock, centre: np.ndarray | None) -> np.ndarray:
    """The term's design columns as the kernel reads them: sheared columns minus their centre.

    Examples
    --------
    >>> class B:
    ...     Z = np.array([[1.0, 10.0], [1.0, 12.0]])
    >>> centred_columns(B, np.array([0.0, 11.0])).tolist()
    [[1.0, -1.0], [1.0, 1.0]]
    """
    Z = np.asarray(block.Z, dtype=float)
    return Z if centre is None else Z - centre[None, :]


def sheared_factor(L: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """``M = chol(A L L' A')`` (S, q, q) for factors ``L`` (S, q, q) and ``A = I + e_1
    centre'``: the factor of the sampled coordinates' covariance.

    Examples
    --------
    >>> L = np.array([[[2.0, 0.0], [0.3, 0.5]]])
    >>> M = sheared_factor(L, np.array([0.0, 10.0]))
    >>> A = np.array([[1.0, 10.0], [0.0, 1.0]])
    >>> bool(np.allclose(M[0] @ M[0].T, A @ L[0] @ L[0].T @ A.T))
    True
    """
    S = np.array(L, dtype=float, copy=True)
    S[:, 0, :] += np.einsum("k,skj->sj", centre, L)
    return np.linalg.cholesky(S @ np.swapaxes(S, 1, 2))


def unshear(c: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Effects ``b = A⁻¹ c`` (S, J, q) from the sampled coordinates ``c`` (S, J, q): the
    intercept at 0 is the value at the centre minus the centre times the slopes.

    Examples
    --------
    >>> unshear(np.array([[[5.0, 0.5]]]), np.array([0.0, 10.0])).tolist()
    [[[0.0, 0.5]]]
    """
    b = np.array(c, dtype=float, copy=True)
    b[:, :, 0] -= c @ centre
    return b


def covariance_at_zero(Lc: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SDs (S, q) and the correlation's Cholesky factor (S, q, q) of ``Σ = A⁻¹ Σ' A⁻ᵀ`` from
    the factors ``Lc`` (S, q, q) of ``Σ'``, the covariance at the centre that a correlated
    sheared term samples.

    Examples
    --------
    >>> A = np.array([[1.0, 10.0], [0.0, 1.0]])
    >>> L = np.array([[2.0, 0.0], [0.3, 0.5]])
    >>> sd, C = covariance_at_zero(np.linalg.cholesky(A @ L @ L.T @ A.T)[None], np.array([0, 10.0]))
    >>> bool(np.allclose(sd[0, :, None] * C[0], L))
    True
    """
    R = np.array(Lc, dtype=float, copy=True)
    R[:, 0, :] -= np.einsum("k,skj->sj", centre, Lc)
    sigma = R @ np.swapaxes(R, 1, 2)
    sd = np.sqrt(np.einsum("sii->si", sigma))
    return sd, np.linalg.cholesky(sigma / (sd[:, :, None] * sd[:, None, :]))
