"""Whether ``auto`` partially centres a one-coefficient group term (:mod:`hierbayes.build.partial`).

A term that the centred/non-centred rule (:mod:`hierbayes.build.glm_choice`) leaves non-centred
is partially centred when, for a family other than the gaussian,

* most of its groups hold one or two rows (the median), some more than one, and
* the groups' weights ``λ_j = τ² I_j / (1 + τ² I_j)`` at the posterior mode's ``τ²``
  (:func:`hierbayes.density.partial_layout.mode_variance`, default priors) have a median in
  ``[LOW, HIGH]``: the range where the weights were measured to help (guImmun's mothers, median
  ``λ`` about 0.2) and not to trap chains near ``sd = 0`` (larger ``τ²`` and weights did).
"""

from __future__ import annotations

import numpy as np

from hierbayes.build.partial import PARTIAL, group_weights
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import HierbayesError

__all__ = ["HIGH", "LOW", "auto_partial"]

LOW, HIGH = 0.1, 0.35
_FEW_ROWS = 2


def auto_partial(design: Design, block: GroupBlock) -> tuple[str, ...] | None:
    """``("partial",)`` where the rule in the module docstring holds, else None.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    ...              hb.datasets.load("verbagg"), family="bernoulli")
    >>> auto_partial(m.design, m.design.blocks[0]) is None   # 24 answers a respondent
    True
    """
    if design.family.name == "gaussian" or len(block.columns) != 1:
        return None
    rows = np.bincount(block.codes, minlength=len(block.levels))
    if np.median(rows) > _FEW_ROWS or rows.max() < 2:
        return None
    from hierbayes.density.partial_layout import mode_variance  # density imports build
    from hierbayes.priors import resolve_priors

    try:
        priors = resolve_priors(design, None)[0]
        tau2 = mode_variance(design, priors, block)
    except (HierbayesError, ArithmeticError, np.linalg.LinAlgError):  # no usable mode: keep
        return None  # the measured safe choice
    if tau2 is None:
        return None
    weights = group_weights(design, block, tau2)
    return (PARTIAL,) if LOW <= float(np.median(weights)) <= HIGH else None
