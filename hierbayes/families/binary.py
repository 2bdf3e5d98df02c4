"""Bernoulli and binomial with a link other than logit: the Python side shared by their modules.

:mod:`hierbayes.families.probit` and :mod:`hierbayes.families.cloglog` hold the compiled row
functions and the :class:`~hierbayes.families.Family` records; :func:`variant` builds a record
from the logit family's (its response check, constant and priors are the same) with this
module's link-generic likelihood, simulator and log density.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from scipy.special import gammaln

from hierbayes.families import links
from hierbayes.families.base import Family, need

__all__ = ["variant"]


def _likelihood(
    link: str, name: str, eta: Any, y: np.ndarray, trials: Any, params: Any, dims: str
) -> Any:
    import pymc as pm

    logit_p = links.pytensor_logit_p(link, eta)
    if trials is None:
        return pm.Bernoulli(name, logit_p=logit_p, observed=y.astype(np.int64), dims=dims)
    n = np.asarray(trials).astype(np.int64)
    return pm.Binomial(name, n=n, logit_p=logit_p, observed=y.astype(np.int64), dims=dims)


def _sample(
    link: str,
    binomial: bool,
    eta: np.ndarray,
    rng: np.random.Generator,
    params: Mapping[str, Any],
    trials: Any,
) -> np.ndarray:
    n: Any = 1
    if binomial:
        n = np.broadcast_to(need(trials, "the number of trials", "binomial"), np.shape(eta))
        n = n.astype(np.int64)
    return rng.binomial(n, links.inverse_link(link, eta)).astype(np.int64)


def _log_density(
    link: str,
    binomial: bool,
    y: np.ndarray,
    eta: np.ndarray,
    params: Mapping[str, Any],
    trials: Any,
) -> np.ndarray:
    a, b = links.log_cdf(link, eta)
    y = np.asarray(y, dtype=float)
    n = need(trials, "the number of trials", "binomial") if binomial else 1.0
    m = n - y
    with np.errstate(invalid="ignore"):
        out = np.where(y != 0, y * a, 0.0) + np.where(m != 0, m * b, 0.0)
    if binomial:
        out = out + gammaln(n + 1) - gammaln(y + 1) - gammaln(m + 1)
    return out


def variant(base: Family, link: str, code: int) -> Family:
    """``base`` (the logit bernoulli or binomial family) with ``link`` and kernel ``code``.

    Examples
    --------
    >>> from hierbayes.families import bernoulli
    >>> fam = variant(bernoulli.FAMILY, "probit", 11)
    >>> fam.name, fam.link, float(fam.inverse_link(np.array([0.0]))[0])
    ('bernoulli', 'probit', 0.5)
    """
    binomial = base.needs_trials
    return replace(
        base,
        link=link,
        code=code,
        inverse_link=partial(links.inverse_link, link),
        likelihood=partial(_likelihood, link),
        sample=partial(_sample, link, binomial),
        log_density=partial(_log_density, link, binomial),
        latent_variance=links.latent_variance(link),
    )
