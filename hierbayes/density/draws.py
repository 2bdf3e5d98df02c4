"""From unconstrained draws of ``x`` to the named, labelled variables of a hierbayes posterior.

The variables and their dimensions are those of the PyMC model of :mod:`hierbayes.build` with
the same parameterisation: ``Intercept_c`` and ``beta`` (sampled), ``b`` (by ``term``),
``sd|<term>``, ``chol_cor|<term>`` and ``cor|<term>``, ``z|<term>`` / ``u|<term>`` /
``u|<term>|<coefficient>`` (sampled effects), ``u|<term>`` (by group and coefficient) and
``sigma``. Effects of an integrated-out factor are added afterwards by
:func:`hierbayes.conditional.complete_marginal`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import expit

from hierbayes.build.groups import group_dim
from hierbayes.build.model import CUTPOINT_DIM, FIXED_DIM
from hierbayes.density.cutpoints import ordered_values
from hierbayes.density.dpar_draws import dpar_dims, dpar_named_draws
from hierbayes.density.dpar_layout import dpar_blocks
from hierbayes.density.expanded_draws import SAMPLED_ONLY, expanded_variables, signed_scales
from hierbayes.density.layout import BlockLayout, Layout
from hierbayes.density.pairs_layout import unrotate
from hierbayes.density.partial_layout import partial_effects
from hierbayes.density.shear_layout import covariance_at_zero, sheared_factor, unshear

__all__ = ["correlation_factor", "named_draws", "posterior_dataset"]


def correlation_factor(rows: np.ndarray, q: int) -> np.ndarray:
    """Cholesky factors ``C`` (S, q, q) of correlation matrices from their free rows (S, m).

    Row ``i`` of ``C`` is ``(x_i, 1) / |(x_i, 1)|`` with ``x_i`` the next ``i`` free values.

    Examples
    --------
    >>> correlation_factor(np.array([[0.0], [1.0]]), 2).round(3).tolist()
    [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.707, 0.707]]]
    """
    S = rows.shape[0]
    C = np.zeros((S, q, q))
    C[:, 0, 0] = 1.0
    for i in range(1, q):
        start = i * (i - 1) // 2
        a = np.concatenate([rows[:, start : start + i], np.ones((S, 1))], axis=1)
        C[:, i, : i + 1] = a / np.linalg.norm(a, axis=1, keepdims=True)
    return C


def unit_diagonal(R: np.ndarray) -> np.ndarray:
    """Correlation matrices (S, q, q) with their diagonal set to exactly 1 (``C Cᵀ`` leaves it
    within rounding of 1, which would make a constant look like a varying draw).

    Examples
    --------
    >>> unit_diagonal(np.array([[[1.0 + 2e-16, 0.5], [0.5, 1.0 - 1e-16]]]))[0].tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    idx = np.arange(R.shape[-1])
    R[..., idx, idx] = 1.0
    return R


def _effects(bl: BlockLayout, X: np.ndarray, L: np.ndarray) -> tuple[dict, np.ndarray]:
    """The sampled effect variables of one block and ``u`` (S, J, q)."""
    block = bl.block
    assert bl.effects is not None
    q, J = len(block.columns), len(block.levels)
    raw = X[:, bl.effects].reshape(len(X), q, J).transpose(0, 2, 1)  # (S, J, q)
    if bl.intercept_shift:
        raw = raw.copy()
        # sampled as u + the fixed terms they hold (hierbayes.density.centring)
        for a, (c, k) in enumerate(zip(bl.shift_columns, bl.shift_coefficients, strict=True)):
            raw[:, :, k] -= X[:, c, None] * bl.shift_values[None, :, a]
    u = np.empty_like(raw)
    zeta = np.empty_like(raw[:, :, : q - 1])  # the standardised effects the later columns need
    for k, how in enumerate(bl.choice):
        # the first column has no earlier ones (m = 0): skip the empty product
        m = np.einsum("sl,sjl->sj", L[:, k, :k], zeta[:, :, :k]) if k else None
        lkk = L[:, k, k][:, None]
        if how == "partial":  # one coefficient, u = sd^(1 - λ) v (density.partial_layout)
            partial_effects(raw[:, :, k], np.log(lkk[:, 0]), bl.weights, out=u[:, :, k])
        elif how == "centered":
            u[:, :, k] = raw[:, :, k]
            if k < q - 1:
                zeta[:, :, k] = (raw[:, :, k] - m if k else raw[:, :, k]) / lkk
        else:
            if k < q - 1:
                zeta[:, :, k] = raw[:, :, k]
            np.multiply(lkk, raw[:, :, k], out=u[:, :, k])
            if k:
                u[:, :, k] += m
    name = block.name
    out: dict[str, np.ndarray] = {}
    if bl.choice == ("partial",):  # z = u / sd (the sampled v are neither)
        out[f"z|{name}"] = u / L[:, None, :, 0]
    elif all(c != "centered" for c in bl.choice):  # non-centred or expanded
        out[f"z|{name}"] = raw
    elif all(c == "centered" for c in bl.choice):
        out[f"u|{name}"] = raw
    else:
        nc = [k for k, c in enumerate(bl.choice) if c != "centered"]
        out[f"z|{name}"] = raw[:, :, nc]
        for k, c in enumerate(bl.choice):
            if c == "centered":
                out[f"u|{name}|{block.columns[k]}"] = raw[:, :, k]
    out[f"u|{name}"] = u
    return out, u


def named_draws(layout: Layout, X: np.ndarray) -> dict[str, np.ndarray]:
    """The model's variables at each row of ``X`` (S, n_dim), each shaped (S, ...)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    X = unrotate(layout.arrays, X)  # rotated pairs of nested effects (density.pairs)
    S = len(X)
    theta = X[:, layout.theta]
    out: dict[str, np.ndarray] = {}
    beta = theta[:, 1:] if layout.has_intercept else theta
    if beta.shape[1]:
        out["beta"] = beta
    if layout.has_intercept:
        out["Intercept_c"] = theta[:, 0]
    b = np.empty_like(theta)
    k = 0
    for j, column in enumerate(layout.fixed_columns):
        if column == "Intercept":
            b[:, j] = theta[:, 0] - beta @ layout.means
        else:
            b[:, j] = beta[:, k]
            k += 1
    out["b"] = b
    if layout.dpar is not None:  # sigma="~ ...": its coefficients (hierbayes.density.dpar_draws)
        out.update(dpar_named_draws(layout.dpar, X))
    for bl in (*layout.blocks, *dpar_blocks(layout)):
        name, q = bl.block.name, len(bl.block.columns)
        scale, sign = signed_scales(X[:, bl.sd], bl.choice)  # exp(log sd), or s (expanded)
        out[f"sd|{name}"] = np.abs(scale)
        if bl.corr is not None:
            C = correlation_factor(X[:, bl.corr], q)
            out[f"chol_cor|{name}"] = C
            out[f"cor|{name}"] = unit_diagonal(C @ np.swapaxes(C, 1, 2))
        else:
            C = np.broadcast_to(np.eye(q), (S, q, q))
        if bl.effects is not None:
            L = scale[:, :, None] * C
            if bl.centre is not None and bl.corr is not None:  # Σ at the centre (density.shear)
                sd0, C0 = covariance_at_zero(L, bl.centre)
                out[f"sd|{name}"], out[f"chol_cor|{name}"] = sd0, C0
                out[f"cor|{name}"] = unit_diagonal(C0 @ np.swapaxes(C0, 1, 2))
            elif bl.centre is not None:  # sampled at the slopes' centre (density.shear)
                L = sheared_factor(L, bl.centre)
            effects, _ = _effects(bl, X, L)
            if bl.centre is not None:
                effects[f"u|{name}"] = unshear(effects[f"u|{name}"], bl.centre)
            out.update(effects)
            if "expanded" in bl.choice:  # z = u / sd; the sampled s and z (density.expanded)
                out.update(expanded_variables(name, X[:, bl.sd], out[f"z|{name}"], sign))
    for name, at in layout.family_params.items():
        out[name] = expit(X[:, at]) if name in layout.logit_params else np.exp(X[:, at])
    if layout.cutpoints is not None:  # at the predictors' means, then as the model is written
        out["cutpoints_c"] = ordered_values(X[:, layout.cutpoints])
        out["cutpoints"] = out["cutpoints_c"] + (beta @ layout.means)[:, None]
    return out


def posterior_dataset(layout: Layout, X: np.ndarray, obs_index: object = None) -> xr.Dataset:
    """The posterior as a labelled Dataset from draws ``X`` (chain, draw, n_dim)."""
    chains, draws = X.shape[:2]
    values = named_draws(layout, X.reshape(chains * draws, -1))
    values = {k: v for k, v in values.items() if not k.startswith(SAMPLED_ONLY)}
    fixed = list(layout.fixed_columns)
    slopes = [c for c in fixed if c != "Intercept"]
    dims: dict[str, tuple[tuple[str, ...], dict[str, list[str]]]] = {
        "beta": (("slope_term",), {"slope_term": slopes}),
        "Intercept_c": ((), {}),
        "b": ((FIXED_DIM,), {FIXED_DIM: fixed}),
        **{name: ((), {}) for name in layout.family_params},
        **{
            name: ((CUTPOINT_DIM,), {CUTPOINT_DIM: list(layout.cutpoint_labels)})
            for name in ("cutpoints", "cutpoints_c")
        },
    }
    dims.update(dpar_dims(layout.dpar) if layout.dpar is not None else {})
    for bl in (*layout.blocks, *dpar_blocks(layout)):
        block = bl.block
        name, tdim, gdim = block.name, block.term_dim, group_dim(block)
        terms, labels = list(block.columns), list(block.levels)
        both = {tdim: terms, f"{tdim}_bis": terms}
        dims[f"sd|{name}"] = ((tdim,), {tdim: terms})
        dims[f"chol_cor|{name}"] = ((tdim, f"{tdim}_bis"), both)
        dims[f"cor|{name}"] = ((tdim, f"{tdim}_bis"), both)
        dims[f"u|{name}"] = ((gdim, tdim), {gdim: labels, tdim: terms})
        nc = [c for c, how in zip(terms, bl.choice, strict=True) if how != "centered"]
        if len(nc) == len(terms):
            dims[f"z|{name}"] = ((gdim, tdim), {gdim: labels, tdim: terms})
        else:
            dims[f"z|{name}"] = ((gdim, f"{tdim}_z"), {gdim: labels, f"{tdim}_z": nc})
        for column in terms:
            dims[f"u|{name}|{column}"] = ((gdim,), {gdim: labels})
    data = {}
    for name, value in values.items():
        var_dims, coords = dims[name]
        data[name] = xr.DataArray(
            value.reshape(chains, draws, *value.shape[1:]),
            dims=("chain", "draw", *var_dims),
            coords={d: np.array(v, dtype=object) for d, v in coords.items()},
        )
    frame = xr.Dataset(coords={"chain": np.arange(chains), "draw": np.arange(draws)})
    return frame.assign(data)
