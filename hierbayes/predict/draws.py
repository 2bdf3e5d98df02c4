"""Posterior draws as plain arrays, selected by label, and draws of new groups' effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from hierbayes.build import FIXED_DIM, group_dim

if TYPE_CHECKING:
    from hierbayes.design import Design
    from hierbayes.fit import Fit

__all__ = ["PosteriorDraws", "draws_of", "new_group_effects", "posterior_draws"]


@dataclass(frozen=True)
class PosteriorDraws:
    """The draws a prediction needs, as arrays with leading dims (chain, draw).

    Attributes
    ----------
    chain, draw : ndarray
        Coordinate values of the chains and draws.
    b : ndarray, shape (C, D, p)
        Fixed effects, in the order of ``design.fixed_columns``.
    u : dict
        Block name -> group effects, shape (C, D, J, q), groups in the order of ``block.levels``
        and coefficients in the order of ``block.columns``.
    sd : dict
        Block name -> SDs of the group effects, shape (C, D, q).
    cor : dict
        Block name -> correlation matrices, shape (C, D, q, q), or ``None`` for blocks without
        correlations.
    sigma : ndarray or None
        Residual SD, shape (C, D), for families that have one.
    params : dict
        The family's own parameters (``sigma``, ...) by name, shape (C, D) each.
    """

    chain: np.ndarray
    draw: np.ndarray
    b: np.ndarray
    u: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]
    cor: dict[str, np.ndarray | None]
    sigma: np.ndarray | None
    params: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(number of chains, draws per chain)."""
        return int(self.chain.size), int(self.draw.size)


def _values(da: xr.DataArray, *dims: str) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw", *dims).values, dtype=float)


def _extra(da: xr.DataArray) -> list[str]:
    """The dimensions of a variable besides chain and draw (a family's cut-points)."""
    return [str(d) for d in da.dims if d not in ("chain", "draw")]


def posterior_draws(fit: Fit) -> PosteriorDraws:
    """Extract the fit's posterior draws, selecting every coordinate by its label."""
    return draws_of(fit.idata["posterior"].to_dataset(), fit.design)


def draws_of(
    posterior: xr.Dataset,
    design: Design,
    b_name: str = "b",
    b_dim: str = FIXED_DIM,
    b_labels: list[str] | None = None,
) -> PosteriorDraws:
    """The draws of ``design``'s coefficients (``b_name``, labelled ``b_labels`` along ``b_dim``;
    default: ``b`` by ``design.fixed_columns``) and group terms from ``posterior``."""
    labels = list(design.fixed_columns) if b_labels is None else b_labels
    b = posterior[b_name].sel({b_dim: labels})
    u, sd, cor = {}, {}, {}
    for block in design.blocks:
        gdim, tdim = group_dim(block), block.term_dim
        terms = list(block.columns)
        u[block.name] = _values(
            posterior[f"u|{block.name}"].sel({gdim: list(block.levels), tdim: terms}), gdim, tdim
        )
        sd[block.name] = _values(posterior[f"sd|{block.name}"].sel({tdim: terms}), tdim)
        name = f"cor|{block.name}"
        cor[block.name] = (
            _values(posterior[name].sel({tdim: terms, f"{tdim}_bis": terms}), tdim, f"{tdim}_bis")
            if block.correlated and name in posterior
            else None
        )
    sigma = _values(posterior["sigma"]) if "sigma" in posterior else None
    own = design.family.params
    return PosteriorDraws(
        chain=posterior["chain"].values,
        draw=posterior["draw"].values,
        b=_values(b, b_dim),
        u=u,
        sd=sd,
        cor=cor,
        sigma=sigma,
        params={
            name: _values(posterior[name], *_extra(posterior[name]))
            for name in own
            if name in posterior
        },
    )


def _sqrt_cor(cor: np.ndarray) -> np.ndarray:
    """A matrix square root ``A`` with ``A A' = cor`` for a stack of correlation matrices."""
    try:
        return np.linalg.cholesky(cor)
    except np.linalg.LinAlgError:  # a correlation at ±1: fall back to the symmetric root
        values, vectors = np.linalg.eigh(cor)
        return vectors * np.sqrt(np.clip(values, 0.0, None))[..., None, :]


def new_group_effects(
    sd: np.ndarray, cor: np.ndarray | None, n_groups: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw effects of ``n_groups`` new groups from ``N(0, T)``, ``T = diag(sd) cor diag(sd)``.

    Parameters
    ----------
    sd : ndarray, shape (..., q)
        SDs of the group effects, one set per posterior draw.
    cor : ndarray, shape (..., q, q), or None
        Correlation matrices (``None``: independent coefficients).
    n_groups : int
        New groups per posterior draw; each gets its own independent draw.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (..., n_groups, q)
        ``u = diag(sd) L z`` with ``L L' = cor`` and ``z`` standard normal, so that
        ``Cov(u) = T`` draw by draw.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> u = new_group_effects(np.array([2.0, 1.0]), np.array([[1.0, 0.5], [0.5, 1.0]]),
    ...                       200_000, rng)
    >>> np.round(np.cov(u.T), 1).tolist()
    [[4.0, 1.0], [1.0, 1.0]]
    """
    shape = sd.shape[:-1]
    q = sd.shape[-1]
    z = rng.standard_normal((*shape, n_groups, q))
    if cor is not None:
        z = np.einsum("...kl,...jl->...jk", _sqrt_cor(cor), z)
    return z * sd[..., None, :]
