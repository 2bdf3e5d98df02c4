"""Exact conditional draws of the effects of crossed factors integrated out jointly.

Given a posterior draw of the fixed effects, the SDs and σ, the varying intercepts of every
crossed factor (:mod:`hierbayes.build.crossed_marginal`) have a joint gaussian posterior; one
exact draw of all of them per posterior draw (the other factors' groups from their Schur
complement, then each group of the factor with the most groups given them:
:func:`hierbayes.density.crossed_marginal.crossed_draws`) completes the sample, as
:mod:`hierbayes.conditional` does for one factor.
"""

from __future__ import annotations

import numpy as np

from hierbayes.build.crossed_marginal import CrossedDesign
from hierbayes.density.crossed_marginal import crossed_draws
from hierbayes.design import Design
from hierbayes.errors import ModelSpecError
from hierbayes.loglik import chunks

__all__ = ["crossed_effects"]


def crossed_effects(
    b: np.ndarray,
    sigma: np.ndarray,
    sds: dict[str, np.ndarray],
    design: Design,
    crossed: CrossedDesign,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One exact joint conditional draw of every crossed factor's intercepts per posterior draw.

    Parameters
    ----------
    b : ndarray, shape (S, p)
        Fixed effects on the design's columns.
    sigma : ndarray, shape (S,)
    sds : dict
        Each term's SD, (S,), by term name.
    design : Design
    crossed : CrossedDesign
    rng : Generator

    Returns
    -------
    dict
        Term name -> effects ``u`` (S, J, 1).

    Examples
    --------
    With huge SDs next to σ the effects reproduce the cells of a complete two-way table
    (the grand mean, here 0, is unidentified; the differences are):

    >>> import pandas as pd
    >>> from hierbayes.build.crossed_marginal import crossed_design
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1., 2, 11, 12], "a": list("ppqq"), "s": list("xyxy")})
    >>> d = make_design(parse_formula("y ~ 0 + (1 | a) + (1 | s)"), df)
    >>> c = crossed_design(d)
    >>> u = crossed_effects(np.zeros((1, 0)), np.array([1e-3]), {"a": np.array([1e3]),
    ...                     "s": np.array([1e3])}, d, c, np.random.default_rng(0))
    >>> float(np.round(u["a"][0, 1, 0] - u["a"][0, 0, 0], 2))
    10.0
    """
    y = np.asarray(design.y, dtype=float) - design.offset_or_zero  # an offset shifts y
    struct, stats = crossed.structure(list(range(len(crossed.blocks))))
    Zty = crossed.cross(y[:, None])[:, 0]
    ZtX = crossed.cross(design.X)
    lam_cols = [sds[crossed.blocks[0].name][:, None]]
    for block in crossed.blocks[1:]:
        lam_cols.append(np.repeat(sds[block.name][:, None], len(block.levels), axis=1))
    lams = np.ascontiguousarray(np.concatenate(lam_cols, axis=1), dtype=float)
    sigma = np.ascontiguousarray(sigma, dtype=float)
    out = np.empty((len(sigma), crossed.k))
    for part in chunks(len(sigma), 2 * crossed.k):  # t and ε of a few draws at a time
        t = np.ascontiguousarray(Zty[None, :] - b[part] @ ZtX.T)
        eps = rng.standard_normal(t.shape)
        if not crossed_draws(struct, stats, lams[part], sigma[part], t, eps, out[part]):
            raise ModelSpecError(
                "The conditional posterior of the crossed factors' effects is not positive "
                "definite at a posterior draw (an SD or σ underflowed); refit with "
                "parameterization='noncentered'."
            )
    drawn = {}
    start = 0
    for block in crossed.blocks:
        J = len(block.levels)
        drawn[block.name] = out[:, start : start + J, None]
        start += J
    return drawn
