"""Prior draws and log prior densities of log σ's linear predictor (``sigma="~ ..."``).

The parameter's coefficients and group effects are drawn and scored by the mean's own functions
(:func:`hierbayes.predict.prior.prior_draws`, :func:`~hierbayes.predict.prior.log_prior`)
applied to the view of the design whose fixed part and blocks are the parameter's
(:func:`hierbayes.predict.dpar.dpar_view`), with the priors renamed to the view's names
(``sigma_Intercept`` -> ``Intercept``, ``b|sigma_x`` -> ``b|x``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from hierbayes.build import FIXED_DIM
from hierbayes.design import Design
from hierbayes.predict.dpar import dpar_view
from hierbayes.priors import Prior

__all__ = ["dpar_log_prior", "dpar_prior_draws", "dpar_prior_rows"]


def _view_priors(design: Design, priors: dict[str, Prior]) -> dict[str, Prior]:
    dpar = design.dpar
    assert dpar is not None
    out = {}
    for column, label in zip(dpar.fixed_columns, dpar.labels, strict=True):
        if column == "Intercept":
            out["Intercept"] = priors[label]
        else:
            out[f"b|{column}"] = priors[f"b|{label}"]
    for block in dpar.blocks:
        for kind in ("sd", "cor"):
            if f"{kind}|{block.name}" in priors:
                out[f"{kind}|{block.name}"] = priors[f"{kind}|{block.name}"]
    return out


def _to_view(design: Design, draws: xr.Dataset) -> xr.Dataset:
    """``draws`` with ``b_sigma`` as the view's ``b`` (by its formulaic column names)."""
    dpar = design.dpar
    assert dpar is not None
    b = draws[f"b_{dpar.name}"].sel({dpar.term_dim: list(dpar.labels)})
    b = b.rename({dpar.term_dim: FIXED_DIM}).assign_coords({FIXED_DIM: list(dpar.fixed_columns)})
    return draws.drop_vars(["b", FIXED_DIM], errors="ignore").assign(b=b)


def dpar_prior_draws(
    design: Design, priors: dict[str, Prior], n: int, rng: np.random.Generator
) -> xr.Dataset:
    """Prior draws of ``b_sigma`` (``sigma_term``) and the ``sd|``, ``cor|``, ``u|`` of the
    parameter's group terms, labelled as the posterior is."""
    from hierbayes.predict.prior import prior_draws

    dpar = design.dpar
    assert dpar is not None
    draws = prior_draws(dpar_view(design), _view_priors(design, priors), n, rng)
    b = draws["b"].rename({FIXED_DIM: dpar.term_dim})
    b = b.assign_coords({dpar.term_dim: list(dpar.labels)})
    return draws.drop_vars(["b", FIXED_DIM]).assign({f"b_{dpar.name}": b})


def dpar_log_prior(
    design: Design, priors: dict[str, Prior], draws: xr.Dataset
) -> dict[str, np.ndarray]:
    """Log prior density of each draw of the parameter's coefficients and SDs, by prior name."""
    from hierbayes.predict.prior import log_prior

    dpar = design.dpar
    assert dpar is not None
    scored = log_prior(dpar_view(design), _view_priors(design, priors), _to_view(design, draws))
    names = {"Intercept": f"{dpar.name}_Intercept"}
    names |= {f"b|{c}": f"b|{dpar.name}_{c}" for c in dpar.fixed_columns}
    return {names.get(str(k), str(k)): np.asarray(v.values) for k, v in scored.items()}


def dpar_prior_rows(design: Design, draws: xr.Dataset) -> np.ndarray:
    """``σ`` of every training row at every prior draw, shape (draws, n)."""
    from hierbayes.predict.prior import _linear_predictor

    view = dpar_view(design)
    return np.exp(_linear_predictor(view, _to_view(design, draws)))
