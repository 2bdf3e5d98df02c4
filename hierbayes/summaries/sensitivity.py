"""``fit.sensitivity()``: prior and likelihood power-scaling sensitivity (Kallioinen et al. 2024).

Raising the prior (or the likelihood) to a power ``α`` near 1 and watching how much the
posterior of each parameter moves tells whether the prior (or the data) informs it. The
posterior under ``p(θ)^α`` is reached without refitting, by Pareto-smoothed importance
weights ``p(θ)^(α-1)`` on the draws; the sensitivity is the derivative of the cumulative
Jensen–Shannon distance between the scaled and the original posterior at ``α = 1``
(arviz-stats's ``psense``). The log prior of each draw comes from the prior table
(:func:`hierbayes.predict.prior.log_prior`, stored in a ``log_prior`` group): the priors of
the population effects, SDs, correlations and sigma, not the population distribution of the
group effects, as brms's ``lprior``. The likelihood is the pointwise log-likelihood given the
group effects.

Diagnosis, as the priorsense R package words it (threshold 0.05 by default):

* prior and likelihood sensitivity both at or above the threshold: ``"prior-data conflict"``;
* prior sensitivity above and likelihood sensitivity below it: ``"strong prior / weak
  likelihood"``;
* otherwise ``"-"``.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.build import FIXED_DIM
from hierbayes.errors import SummaryError

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["CONFLICT", "WEAK_LIKELIHOOD", "log_prior_tree", "sensitivity"]

CONFLICT = "prior-data conflict"
WEAK_LIKELIHOOD = "strong prior / weak likelihood"


def log_prior_tree(fit: Fit) -> xr.DataTree:
    """A copy of ``fit.idata`` with a ``log_prior`` group (one variable per prior, per draw)
    and the pointwise log-likelihood (computed when the fit did not store it)."""
    from hierbayes.loglik import pointwise_log_likelihood
    from hierbayes.predict.prior import log_prior

    idata = fit.idata
    if "log_likelihood" not in idata.children:
        idata = pointwise_log_likelihood(idata, fit.design)
    else:
        idata = idata.copy()
    posterior = idata["posterior"].to_dataset()
    idata["log_prior"] = xr.DataTree(log_prior(fit.design, fit.model.prior_values, posterior))
    return idata


def _population(fit: Fit, posterior: xr.Dataset) -> xr.Dataset:
    """Every population-level parameter as its own (chain, draw) variable, named as the tables
    name them."""
    design = fit.design
    out: dict[str, xr.DataArray] = {}
    for term in design.fixed_columns:
        out[term] = posterior["b"].sel({FIXED_DIM: term}, drop=True)
    for block in design.blocks:
        sd = posterior[f"sd|{block.name}"]
        for coef in block.columns:
            out[f"sd|{block.name}[{coef}]"] = sd.sel({block.term_dim: coef}, drop=True)
        name = f"cor|{block.name}"
        if block.correlated and name in posterior:
            tdim = block.term_dim
            for i, a in enumerate(block.columns):
                for c in block.columns[i + 1 :]:
                    out[f"{name}[{a},{c}]"] = posterior[name].sel(
                        {tdim: a, f"{tdim}_bis": c}, drop=True
                    )
    if "sigma" in posterior:
        out["sigma"] = posterior["sigma"]
    return xr.Dataset(out)


def _diagnose(prior: float, likelihood: float, threshold: float) -> str:
    if prior >= threshold and likelihood >= threshold:
        return CONFLICT
    if prior >= threshold > likelihood:
        return WEAK_LIKELIHOOD
    return "-"


def sensitivity(
    fit: Fit, *, threshold: float = 0.05, alphas: tuple[float, float] = (0.99, 1.01)
) -> pd.DataFrame:
    """Prior and likelihood power-scaling sensitivity of every population-level parameter.

    Parameters
    ----------
    fit : Fit
    threshold : float
        Sensitivity at or above which the prior (likelihood) counts as informative (0.05, as
        priorsense).
    alphas : (float, float)
        Powers around 1 at which the derivative is taken.

    Returns
    -------
    DataFrame
        Index ``parameter`` (``Intercept``, fixed terms, ``sd|<term>[<coef>]``,
        ``cor|<term>[<a>,<b>]``, ``sigma``); columns ``prior``, ``likelihood`` (the
        sensitivities) and ``diagnosis`` (see the module notes).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.sensitivity()  # doctest: +SKIP
    """
    from arviz_stats import psense

    if not 0 < threshold:
        raise SummaryError(f"threshold must be positive, got {threshold!r}.")
    if not (0 < alphas[0] < 1 < alphas[1]):
        raise SummaryError(f"alphas must bracket 1, e.g. (0.99, 1.01); got {alphas!r}.")
    idata = log_prior_tree(fit)
    parameters = _population(fit, idata["posterior"].to_dataset())
    tree = xr.DataTree.from_dict(
        {
            "posterior": parameters,
            "log_prior": idata["log_prior"].to_dataset(),
            "log_likelihood": idata["log_likelihood"].to_dataset(),
        }
    )
    quiet = logging.getLogger("arviz_stats")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = {
                group: psense(tree, group=group, alphas=alphas) for group in ("prior", "likelihood")
            }
    finally:
        quiet.setLevel(level)
    rows = []
    for name in parameters.data_vars:
        prior = float(np.asarray(scores["prior"][name]))
        likelihood = float(np.asarray(scores["likelihood"][name]))
        rows.append(
            {
                "parameter": str(name),
                "prior": prior,
                "likelihood": likelihood,
                "diagnosis": _diagnose(prior, likelihood, threshold),
            }
        )
    return pd.DataFrame(rows).set_index("parameter")
