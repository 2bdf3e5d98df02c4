"""Exact conditional draws of the effects of a nested chain integrated out jointly.

Given a posterior draw of the fixed effects, the covariance factors and σ, the effects of every
level of a nested chain (:mod:`hierbayes.build.nested_marginal`) have a gaussian posterior that
factorises top-down: the top level's effects given the data, then each level's given its
ancestors' (:func:`hierbayes.density.nested_marginal.nested_draws`). One draw per posterior draw
completes the sample, as :mod:`hierbayes.conditional` does for one factor.
"""

from __future__ import annotations

import numpy as np

from hierbayes.build.nested_marginal import NestedDesign
from hierbayes.density.nested_draws import nested_draws
from hierbayes.density.nested_tree import tree_shape
from hierbayes.design import Design

__all__ = ["effects_from_leaf_sums", "nested_effects"]


def nested_effects(
    b: np.ndarray,
    sigma: np.ndarray,
    chols: dict[str, np.ndarray],
    design: Design,
    nested: NestedDesign,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One exact conditional draw of every integrated-out term's effects per posterior draw.

    Parameters
    ----------
    b : ndarray, shape (S, p)
        Fixed effects on the design's columns.
    sigma : ndarray, shape (S,)
    chols : dict
        Cholesky factor of each term's covariance, (S, q, q), by term name.
    design : Design
    nested : NestedDesign
    rng : Generator

    Returns
    -------
    dict
        Term name -> effects ``u`` (S, J, q).

    Examples
    --------
    With huge SDs next to σ the effects reproduce each group's share of the data:

    >>> import pandas as pd
    >>> from hierbayes.build.nested_marginal import nested_chain
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1., 1, 3, 3, 10, 10, 14, 14], "a": list("aaaabbbb"),
    ...                    "s": list("ppqqrrss")})
    >>> d = make_design(parse_formula("y ~ 0 + (1 | a/s)"), df)
    >>> chain = nested_chain(d)
    >>> L = {blk.name: np.full((1, 1, 1), 1e3) for f in chain.levels for blk in f.blocks}
    >>> u = nested_effects(np.zeros((1, 0)), np.array([1e-4]), L, d, chain,
    ...                    np.random.default_rng(0))
    >>> (u["a"][:, [0, 0, 1, 1]] + u["a:s"]).round(3).tolist()
    [[[1.0], [3.0], [10.0], [14.0]]]
    """
    X = nested.X
    n_leaf = nested.leaves.n_groups
    y = np.asarray(design.y, dtype=float) - design.offset_or_zero  # an offset shifts y
    return effects_from_leaf_sums(
        nested,
        nested.leaf_cross(X),
        nested.leaf_cross(y[:, None]),
        nested.leaf_cross(design.X).reshape(n_leaf * X.shape[1], -1),
        b,
        sigma,
        chols,
        rng,
    )


def effects_from_leaf_sums(
    nested: NestedDesign,
    ztz: np.ndarray,
    zty: np.ndarray,
    ztx: np.ndarray,
    b: np.ndarray,
    sigma: np.ndarray,
    chols: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """:func:`nested_effects` from the leaves' sufficient statistics instead of rows.

    Parameters
    ----------
    nested : NestedDesign
    ztz : ndarray, shape (J, d, d)
        Each leaf's ``Z'Z`` on the chain's columns (``d`` of them, every level's together).
    zty : ndarray, shape (J, d) or (J, d, 1)
        Each leaf's ``Z'y`` (``y`` less any offset).
    ztx : ndarray, shape (J d, p)
        Each leaf's ``Z'X`` with the design's fixed columns, leaves stacked.
    b, sigma, chols, rng
        As :func:`nested_effects`.

    Returns
    -------
    dict
        Term name -> effects ``u`` (S, J_term, q).
    """
    d = ztz.shape[-1]
    S = len(sigma)
    columns = nested.columns()
    LFs = np.zeros((S, d, d))
    for name, col in columns.items():
        q = chols[name].shape[1]
        LFs[:, col : col + q, col : col + q] = chols[name]
    tree = nested.tree()
    D, J, qs, _, col, _, _, _, _, uo = tree_shape(tree)
    eps = rng.standard_normal((S, uo[D]))
    out = np.empty((S, uo[D]))
    nested_draws(
        tree,
        np.ascontiguousarray(ztz, dtype=float).ravel(),
        np.ascontiguousarray(zty, dtype=float).ravel(),
        np.ascontiguousarray(ztx, dtype=float),
        np.ascontiguousarray(b, dtype=float),
        LFs,
        np.ascontiguousarray(sigma, dtype=float),
        eps,
        out,
    )
    drawn = {}
    for level, factor in enumerate(nested.levels):
        values = out[:, uo[level] : uo[level + 1]].reshape(S, J[level], qs[level])
        for block in factor.blocks:
            k = columns[block.name] - col[level]
            drawn[block.name] = values[:, :, k : k + len(block.columns)]
    return drawn
