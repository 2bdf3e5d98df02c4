"""Posterior draws as arrays: the grouping factor of a summary, covariance matrices of the group
effects, and the linear predictor, draw by draw.

Draws are handled as arrays with the chains and draws flattened into one leading axis of length
``S = chains x draws`` (chain-major, as :func:`numpy.reshape` orders them) and turned back into
labelled ``(chain, draw, ...)`` arrays by :func:`unflatten` before they are summarised.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from hierbayes.build import group_dim
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import SummaryError

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = [
    "FactorBlocks",
    "factor_blocks",
    "factor_covariance",
    "flatten",
    "linear_predictor",
    "n_draws",
    "predictive_draws",
    "single_factor",
    "unflatten",
]


class FactorBlocks:
    """The group terms of one grouping factor, seen as one set of varying coefficients.

    Several terms on one factor (``(1 | g) + (0 + x | g)``) are stacked: ``Z`` has one column per
    varying coefficient of any of them and the covariance of the group effects is block-diagonal.

    Attributes
    ----------
    factor : str
    blocks : tuple of GroupBlock
    terms : tuple of str
        Names of the varying coefficients, in the order of ``Z``'s columns.
    Z : ndarray, shape (n, q)
    codes : ndarray of int, shape (n,)
    levels : tuple of str
        Group labels.
    """

    def __init__(self, factor: str, blocks: Sequence[GroupBlock]):
        self.factor = factor
        self.blocks = tuple(blocks)
        self.terms = tuple(t for b in self.blocks for t in b.columns)
        if len(set(self.terms)) != len(self.terms):
            raise SummaryError(
                f"The group terms on '{factor}' repeat a coefficient ({list(self.terms)}); "
                "this summary needs each varying coefficient once per factor."
            )
        self.levels = self.blocks[0].levels

    @cached_property
    def Z(self) -> np.ndarray:
        return np.hstack([b.Z for b in self.blocks])

    @property
    def codes(self) -> np.ndarray:
        return self.blocks[0].codes

    @property
    def counts(self) -> np.ndarray:
        """Number of observations in each group."""
        return self.blocks[0].counts

    def cross(self) -> np.ndarray:
        """``Z'Z`` over every row (q x q); from the sufficient statistics of a model fitted
        from Dask data (:mod:`hierbayes.bigdata`), which keeps no rows."""
        ztz = getattr(self.blocks[0], "factor_ztz", None)
        return ztz if ztz is not None else self.Z.T @ self.Z

    def deviations(self, posterior: xr.Dataset) -> np.ndarray:
        """Group deviations ``u`` as an array of shape (S, J, q)."""
        parts = [
            flatten(posterior[f"u|{b.name}"].transpose("chain", "draw", group_dim(b), b.term_dim))
            for b in self.blocks
        ]
        return np.concatenate(parts, axis=2)


def factor_blocks(design: Design, factor: str | None = None) -> FactorBlocks:
    """The group terms of ``factor`` (default: the model's only grouping factor).

    Raises
    ------
    SummaryError
        When the model has no group terms, ``factor`` is unknown, or it is omitted while the
        model has several grouping factors.
    """
    factors = list(dict.fromkeys(b.factor for b in design.blocks))
    if not factors:
        raise SummaryError("This model has no group-level terms, so it has no groups to summarise.")
    if factor is None:
        if len(factors) > 1:
            raise SummaryError(
                f"This model has several grouping factors ({', '.join(factors)}): choose one with "
                f"factor='{factors[0]}'."
            )
        factor = factors[0]
    if factor not in factors:
        raise SummaryError(
            f"Unknown grouping factor {factor!r}; this model's factors are {', '.join(factors)}."
        )
    return FactorBlocks(factor, [b for b in design.blocks if b.factor == factor])


def single_factor(design: Design, what: str) -> FactorBlocks:
    """The only grouping factor of the model; an error naming ``what`` if there are several.

    No-pooling estimates of one factor's groups are only defined when no other factor's effects
    have to be accounted for, so the pooling summaries need a single grouping factor.
    """
    factors = list(dict.fromkeys(b.factor for b in design.blocks))
    if len(factors) > 1:
        raise SummaryError(
            f"{what} is defined for models with one grouping factor; this model has "
            f"{', '.join(factors)}. With crossed or nested factors a group's own (no-pooling) fit "
            "depends on how the other factor is treated, so it is not computed. Fit a model with "
            "one grouping factor to compare pooling, or use ranef(), coef() and "
            "plot_caterpillar(), which work for every factor."
        )
    return factor_blocks(design)


def flatten(da: xr.DataArray) -> np.ndarray:
    """Values of ``da`` with dims ``(chain, draw, *rest)`` as an array of shape ``(S, *rest)``."""
    da = da.transpose("chain", "draw", ...)
    values = np.asarray(da.values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])


def n_draws(posterior: xr.Dataset) -> tuple[int, int]:
    """Number of chains and of draws per chain."""
    return int(posterior.sizes["chain"]), int(posterior.sizes["draw"])


def unflatten(
    values: np.ndarray,
    posterior: xr.Dataset,
    dims: Sequence[str] = (),
    coords: dict[str, Sequence[object]] | None = None,
) -> xr.DataArray:
    """Inverse of :func:`flatten`: an array of shape ``(S, *rest)`` as ``(chain, draw, *dims)``."""
    chains, draws = n_draws(posterior)
    values = np.asarray(values, dtype=float).reshape(chains, draws, *values.shape[1:])
    all_coords: dict[str, object] = {
        "chain": posterior["chain"].values,
        "draw": posterior["draw"].values,
    }
    all_coords.update(coords or {})
    return xr.DataArray(values, dims=("chain", "draw", *dims), coords=all_coords)


def factor_covariance(posterior: xr.Dataset, fb: FactorBlocks) -> np.ndarray:
    """Covariance ``T`` of a factor's group effects per draw, shape (S, q, q).

    ``T = diag(sd) Ω diag(sd)`` for a correlated term, ``diag(sd²)`` otherwise; several terms on
    one factor give a block-diagonal ``T``.
    """
    mats = []
    for block in fb.blocks:
        sd = flatten(posterior[f"sd|{block.name}"])
        if block.correlated:
            cor = flatten(
                posterior[f"cor|{block.name}"].transpose(
                    "chain", "draw", block.term_dim, f"{block.term_dim}_bis"
                )
            )
            mats.append(sd[:, :, None] * cor * sd[:, None, :])
        else:
            mats.append(np.einsum("sk,kl->skl", sd**2, np.eye(sd.shape[1])))
    S = mats[0].shape[0]
    q = sum(m.shape[1] for m in mats)
    T = np.zeros((S, q, q))
    start = 0
    for m in mats:
        k = m.shape[1]
        T[:, start : start + k, start : start + k] = m
        start += k
    return T


def linear_predictor(
    fit: Fit,
    *,
    groups: bool = True,
    draws: np.ndarray | None = None,
    chunk: int = 250,
) -> Iterator[np.ndarray]:
    """The linear predictor of every observation, in chunks of draws of shape (s, n).

    Parameters
    ----------
    groups : bool
        Include the group effects (``X b + Σ Z u``); ``False`` gives the fixed part ``X b``.
    draws : array of int, optional
        Flat draw indices to use (default: all, in order).
    chunk : int
        Draws per chunk, to bound memory on large data sets.
    """
    posterior = fit.idata["posterior"].to_dataset()
    design = fit.design
    b = flatten(posterior["b"].transpose("chain", "draw", "term"))
    us = {
        block.name: flatten(
            posterior[f"u|{block.name}"].transpose(
                "chain", "draw", group_dim(block), block.term_dim
            )
        )
        for block in design.blocks
    }
    index = np.arange(b.shape[0]) if draws is None else np.asarray(draws)
    for start in range(0, index.size, chunk):
        sel = index[start : start + chunk]
        eta = b[sel] @ design.X.T + design.offset_or_zero
        if groups:
            for block in design.blocks:
                u = us[block.name][sel][:, block.codes, :]  # (s, n, q)
                eta = eta + np.einsum("snq,nq->sn", u, block.Z)
        yield eta


def predictive_draws(
    fit: Fit, size: int, rng: np.random.Generator, rows: np.ndarray | None = None
) -> np.ndarray:
    """Replicated responses from the posterior predictive distribution, shape (size, n).

    ``size`` posterior draws are picked at random without replacement (all of them when there
    are fewer) and one data set is simulated from each by the family: ``Normal(η, σ)``,
    ``Bernoulli(g⁻¹(η))``, ``Binomial(trials, g⁻¹(η))``, ``Poisson(exp η)``, ... ``rows``: the
    rows to simulate, a repeated row getting independent draws (shape (size, len(rows)) then).
    """
    posterior = fit.idata["posterior"].to_dataset()
    design = fit.design
    chains, draws = n_draws(posterior)
    total = chains * draws
    index = np.sort(rng.choice(total, size=min(size, total), replace=False))
    from hierbayes.predict.response import sample_response  # predict imports summaries

    eta = np.concatenate(list(linear_predictor(fit, draws=index)), axis=0)
    own = {n: flatten(posterior[n])[index][:, None] for n in design.family.params if n in posterior}
    if design.dpar is not None:  # sigma="~ ...": each row's σ
        from hierbayes.predict.dpar import dpar_rows

        own[design.dpar.name] = dpar_rows(posterior, design).reshape(total, -1)[index]
    trials = design.trials
    if rows is not None:
        eta, trials = eta[:, rows], None if trials is None else trials[rows]
        if design.dpar is not None:
            own[design.dpar.name] = own[design.dpar.name][:, rows]
    replicated = sample_response(design.family, eta, rng=rng, params=own, trials=trials)
    return replicated.astype(float)
