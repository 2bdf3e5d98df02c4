"""Default priors of a distributional parameter's linear predictor (``sigma="~ ..."``,
``shape="~ ..."``, ``phi="~ ..."``).

The residual SD's own prior (``sigma``: HalfStudentT(3, s) with ``s`` the response's SD) becomes
priors on the log scale, where ``log σ_i = X_σ b_σ + Z_σ u_σ`` lives: brms's ``student_t(3, 0,
2.5)`` for ``sigma_Intercept``, centred at ``log s`` (hierbayes scales defaults to the data); the
slopes ``b|sigma_<x>`` Normal(0, 2.5 / sd(x)) (the rule of the mean's slopes, with 1 as the scale
of log σ: a change of x by one SD moves σ by a factor e^2.5 at most a priori); the SDs of group
effects ``sd|sigma_<factor>`` HalfNormal(1) (HalfNormal(1 / sd(z)) for a varying slope): groups'
residual SDs within a factor of about e² of one another a priori; correlations LKJ(2).

A shape (negativebinomial, gamma) or precision (beta) has no data scale (its own default is
brms's Gamma(0.01, 0.01)): its ``shape_Intercept`` (``phi_Intercept``) gets brms's default for an
intercept of a distributional parameter on the log link, ``student_t(3, 0, 2.5)``; slopes and
group SDs as for σ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hierbayes.families.base import round_scale, weighted_sd

if TYPE_CHECKING:
    from hierbayes.design import Design
    from hierbayes.priors import Prior

__all__ = ["dpar_default_priors"]


def dpar_default_priors(
    design: Design, priors: dict[str, tuple[Prior, str]]
) -> dict[str, tuple[Prior, str]]:
    """``priors`` (the model's defaults) with the parameter's own prior replaced by the priors
    of its linear predictor.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"),
    ...              sigma="~ Days + (1 | Subject)")
    >>> list(m.priors.index)
    ['Intercept', 'b|Days', 'sd|Subject', 'sigma_Intercept', 'b|sigma_Days', 'sd|sigma_Subject']
    >>> m.prior_values["sigma_Intercept"]
    StudentT(mu=4.031, nu=3, sigma=2.5)
    """
    from hierbayes.priors import Prior

    dpar = design.dpar
    if dpar is None:
        return priors
    w = design.weights
    own, _ = priors.pop(dpar.name)
    # a residual SD's prior is scaled to the data (HalfStudentT(3, s)): log σ is centred at log s;
    # a shape or precision (Gamma(0.01, 0.01)) has no scale: brms's student_t(3, 0, 2.5)
    scale = float(own.kwargs.get("sigma", 1.0)) if dpar.name == "sigma" else 1.0
    centre = float(np.log(scale)) if scale > 0 else 0.0
    for j, column in enumerate(dpar.fixed_columns):
        label = f"{dpar.name}_{column}"
        if column == "Intercept":
            priors[label] = (
                Prior("StudentT", nu=3.0, mu=round_scale(centre), sigma=2.5),
                f"log of {_what(dpar.name)} (at the means of its predictors)",
            )
        else:
            priors[f"b|{label}"] = (
                Prior("Normal", mu=0.0, sigma=round_scale(2.5 / weighted_sd(dpar.X[:, j], w))),
                f"effect of {column} on log {dpar.name}",
            )
    for block in dpar.blocks:
        scales = [
            1.0 if c == "Intercept" else 1.0 / weighted_sd(block.Z[:, k], w)
            for k, c in enumerate(block.columns)
        ]
        sd: float | list[float] = [round_scale(s) for s in scales]
        if len(scales) == 1:
            sd = sd[0]
        terms = ", ".join(f"{dpar.name}_{c}" for c in block.columns)
        priors[f"sd|{block.name}"] = (
            Prior("HalfNormal", sigma=sd),
            f"SD of {terms} across {block.factor} (log scale)",
        )
        if block.correlated:
            priors[f"cor|{block.name}"] = (
                Prior("LKJ", eta=2.0),
                f"correlations of {terms} across {block.factor}",
            )
    return priors


def _what(name: str) -> str:
    return {"sigma": "the residual SD", "shape": "the shape", "phi": "the precision phi"}.get(
        name, name
    )
