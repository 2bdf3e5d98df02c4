"""Group-level effects of one group term, in every parameterisation.

All conversions between parameterisations live here:

* ``noncentered``: ``z ~ Normal(0, 1)``, ``u = z @ L.T`` (correlated) or ``u = z * sd``.
* ``centered``: ``u ~ MvNormal(0, chol=L)`` (correlated) or ``u ~ Normal(0, sd)``.

``L`` is the Cholesky factor of the covariance ``T = diag(sd) Ω diag(sd)`` with ``Ω ~ LKJ(eta)``.
"""

from __future__ import annotations

from typing import Any, Literal

import pymc as pm

from hierbayes.build.priors import prior_dist, prior_rv
from hierbayes.design import GroupBlock
from hierbayes.errors import ModelSpecError
from hierbayes.priors import Prior

__all__ = ["PARAMETERIZATIONS", "Parameterization", "add_group_effects", "group_dim"]

Parameterization = Literal["noncentered", "centered"]
PARAMETERIZATIONS: tuple[str, ...] = ("noncentered", "centered")
_RESERVED = {"obs", "term", "chain", "draw"}


def group_dim(block: GroupBlock) -> str:
    """Name of the dimension that holds the group labels of ``block``."""
    return f"{block.factor}__group" if block.factor in _RESERVED else block.factor


def add_group_effects(
    block: GroupBlock, priors: dict[str, Prior], parameterization: str
) -> Any:
    """Add the SDs, correlations and group effects of ``block``; return ``u`` (J x q).

    Variables created (``b`` = block name): ``sd|b`` (dims: term), ``cor|b`` (term x term, for
    correlated blocks), ``u|b`` (group x term: each group's deviation from the population), and
    ``z|b`` (standardised deviations, non-centred only).
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ModelSpecError(
            f"Unknown parameterization {parameterization!r} for '{block.name}'; choose one of "
            f"{', '.join(PARAMETERIZATIONS)}."
        )
    name, term_dim, gdim = block.name, block.term_dim, group_dim(block)
    q = len(block.columns)
    sd_prior = priors[f"sd|{name}"]
    if block.correlated:
        eta = float(priors[f"cor|{name}"].kwargs["eta"])
        sd_dist = prior_dist(f"sd|{name}", sd_prior, shape=q)
        chol, corr, sds = pm.LKJCholeskyCov(
            f"chol|{name}", eta=eta, n=q, sd_dist=sd_dist, compute_corr=True, store_in_trace=False
        )
        pm.Deterministic(f"sd|{name}", sds, dims=term_dim)
        pm.Deterministic(f"cor|{name}", corr, dims=(term_dim, f"{term_dim}_bis"))
        if parameterization == "noncentered":
            z = pm.Normal(f"z|{name}", 0.0, 1.0, dims=(gdim, term_dim))
            u = pm.Deterministic(f"u|{name}", z @ chol.T, dims=(gdim, term_dim))
        else:
            u = pm.MvNormal(f"u|{name}", mu=0.0, chol=chol, dims=(gdim, term_dim))
        return u
    sd = prior_rv(f"sd|{name}", sd_prior, dims=term_dim, shape=q)
    if parameterization == "noncentered":
        z = pm.Normal(f"z|{name}", 0.0, 1.0, dims=(gdim, term_dim))
        return pm.Deterministic(f"u|{name}", z * sd, dims=(gdim, term_dim))
    return pm.Normal(f"u|{name}", 0.0, sd, dims=(gdim, term_dim))
