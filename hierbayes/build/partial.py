"""Partially centred group effects: one weight ``λ_j`` in [0, 1] per group of a one-coefficient
term, from the data (Papaspiliopoulos, Roberts & Sköld 2003, 2007).

For a gaussian likelihood that gives group ``j`` precision ``I_j`` about its effect and a
between-group variance ``τ²``, the free value ``v_j`` with ``u_j = s^(1 - λ_j) v_j`` (``s = τ``)
is a posteriori independent of ``s`` when ``λ_j = τ² I_j / (1 + τ² I_j)``: ``λ = 1`` is the
centred form, right when the group's data dominate (``τ² I_j ≫ 1``), ``λ = 0`` the non-centred
one, right when the population distribution does. Where a factor's groups straddle
``τ² I_j ≈ 1`` (guImmun's 1,595 mothers, two thirds with one child, one bernoulli row giving
``I ≤ 1/4`` against ``τ² ≈ 5``) neither whole-factor choice suits most groups; each group then
gets its own weight. ``τ²`` and ``I_j`` are those of the centred/non-centred rule
(:mod:`hierbayes.build.glm_choice`): a population GLM's Fisher information, divided by the
working residuals' dispersion ``φ ≥ 1``, and the method-of-moments between-group variance.
"""

from __future__ import annotations

import numpy as np

from hierbayes.build import glm_choice as gc
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError

__all__ = ["PARTIAL", "check_partial", "group_weights", "information_ratios"]

PARTIAL = "partial"


def information_ratios(
    design: Design, block: GroupBlock, tau2: float | None = None
) -> np.ndarray | None:
    """``τ² I_j`` of each group of a one-coefficient term (J), or None where the population fit
    fails or fewer than three groups give an estimate of their own. ``tau2`` in place of the
    method-of-moments estimate (e.g. the posterior mode's,
    :func:`hierbayes.density.partial_layout.mode_variance`).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    ...              hb.datasets.load("verbagg"), family="bernoulli")
    >>> r = information_ratios(m.design, m.design.blocks[0])
    >>> bool(np.median(r) > 1)   # a respondent's 24 answers pin down their effect
    True
    """
    if len(block.columns) != 1:
        return None
    # the population fit's weights and the group estimates, as the choice computed them
    weights, found = gc._population_weights(design), gc._design_group_estimates(design, block)
    if weights is None or found is None:
        return None
    w = weights[1]
    estimates, sampling = found
    usable = ~np.isnan(estimates[:, 0])
    if usable.sum() < 3:
        return None
    J = len(block.levels)
    info = np.bincount(block.codes, weights=w * block.Z[:, 0] ** 2, minlength=J)
    # the sampling variances are φ / I_j: recover the dispersion φ from them
    phi = float(np.median(sampling[usable, 0] * info[usable]))
    above = gc._parent_codes(design, block, 0)
    if tau2 is None:
        tau2 = gc._within_variance(
            estimates[usable, 0], sampling[usable, 0], None if above is None else above[usable]
        )
    return tau2 * info / max(phi, 1.0)


def group_weights(design: Design, block: GroupBlock, tau2: float | None = None) -> np.ndarray:
    """Each group's weight ``λ_j = τ² I_j / (1 + τ² I_j)`` (J; all 0, non-centred, where
    :func:`information_ratios` gives none).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    ...              hb.datasets.load("verbagg"), family="bernoulli")
    >>> lam = group_weights(m.design, m.design.blocks[1])   # 24 items, 316 answers each
    >>> bool(0.85 < lam.min() and lam.max() < 0.95)   # mostly centred (auto centres them)
    True
    """
    ratios = information_ratios(design, block, tau2)
    if ratios is None:
        return np.zeros(len(block.levels))
    return ratios / (1.0 + ratios)


def check_partial(design: Design, block: GroupBlock, resolved: list[str]) -> None:
    """A :class:`~hierbayes.errors.ModelSpecError` when ``"partial"`` is asked of a term with
    more than one coefficient (only one-coefficient terms take per-group weights).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (Days | Subject)", hb.datasets.load("sleepstudy"))
    >>> check_partial(m.design, m.design.blocks[0], ["partial", "centered"])
    Traceback (most recent call last):
    ...
    hierbayes.errors.ModelSpecError: parameterization 'partial' ...
    """
    if PARTIAL in resolved and len(block.columns) != 1:
        raise ModelSpecError(
            f"parameterization 'partial' for '{block.name}' weighs each group's one "
            f"coefficient, but the term has {len(block.columns)} ({list(block.columns)}). "
            "Use it on a varying intercept or a single varying slope, e.g. (1 | "
            f"{block.factor}), or choose 'centered'/'noncentered' for this term."
        )
