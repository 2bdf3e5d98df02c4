"""The named draws of an own parameter's linear predictor (``sigma="~ ..."``), as the PyMC model
of :mod:`hierbayes.build.dpar` stores them: ``<name>_Intercept_c`` and ``b|<name>_<x>`` (sampled),
``beta_<name>`` (by ``<name>_slope_term``) and ``b_<name>`` (by ``<name>_term``). Its group terms'
variables are named as the mean's (:mod:`hierbayes.density.draws`).
"""

from __future__ import annotations

import numpy as np

from hierbayes.density.dpar_layout import DparLayout

__all__ = ["dpar_dims", "dpar_named_draws"]


def dpar_named_draws(dpar: DparLayout, X: np.ndarray) -> dict[str, np.ndarray]:
    """The sub-model's coefficients at each row of ``X`` (S, n_dim), each shaped (S, ...).

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.density.layout import make_layout
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"),
    ...              sigma="~ Days")
    >>> layout = make_layout(m.design, m.prior_values, m.parameterization)
    >>> x = np.zeros((1, layout.n_dim))
    >>> x[0, layout.dpar.theta] = [3.0, 0.1]   # log σ at mean Days (4.5), slope
    >>> draws = dpar_named_draws(layout.dpar, x)
    >>> sorted(draws), draws["b_sigma"].round(2).tolist()
    (['b_sigma', 'beta_sigma', 'b|sigma_Days', 'sigma_Intercept_c'], [[2.55, 0.1]])
    """
    name = dpar.name
    theta = X[:, dpar.theta]
    beta = theta[:, 1:] if dpar.has_intercept else theta
    out: dict[str, np.ndarray] = {}
    slopes = [c for c in dpar.fixed_columns if c != "Intercept"]
    for k, column in enumerate(slopes):
        out[f"b|{name}_{column}"] = beta[:, k]
    if slopes:
        out[f"beta_{name}"] = beta
    if dpar.has_intercept:
        out[f"{name}_Intercept_c"] = theta[:, 0]
    b = np.empty_like(theta)
    k = 0
    for j, column in enumerate(dpar.fixed_columns):
        if column == "Intercept":
            b[:, j] = theta[:, 0] - beta @ dpar.means
        else:
            b[:, j] = beta[:, k]
            k += 1
    out[f"b_{name}"] = b
    return out


def dpar_dims(dpar: DparLayout) -> dict[str, tuple[tuple[str, ...], dict[str, list[str]]]]:
    """Dimensions and coordinates of the variables of :func:`dpar_named_draws`."""
    name = dpar.name
    slopes = [c for c in dpar.fixed_columns if c != "Intercept"]
    slope_dim, term_dim = f"{name}_slope_term", f"{name}_term"
    dims: dict[str, tuple[tuple[str, ...], dict[str, list[str]]]] = {
        f"{name}_Intercept_c": ((), {}),
        f"beta_{name}": ((slope_dim,), {slope_dim: [f"{name}_{c}" for c in slopes]}),
        f"b_{name}": ((term_dim,), {term_dim: [f"{name}_{c}" for c in dpar.fixed_columns]}),
    }
    for column in slopes:
        dims[f"b|{name}_{column}"] = ((), {})
    return dims
