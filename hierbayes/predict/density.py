"""Log predictive density of new observations, with new groups' effects integrated out.

For row ``i`` of new data the pointwise log predictive density is

    elpd_i = log( 1/S Σ_s p(y_i | θ_s) ),    p(y_i | θ_s) = ∫ p(y_i | θ_s, u) N(u | 0, T_s) du,

where rows of groups the model was fitted to keep their fitted effects (no integral) and the
integral runs over the effects of groups it has not seen. For gaussian models the integral is
exact: ``y_i ~ Normal(x_i b + (known effects), sqrt(σ² + Σ z_i' T z_i))``, summing over the group
terms whose label is new. For other families it is estimated by Monte Carlo with
``n_effect_draws`` draws of the new effects per posterior draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from hierbayes.design import Design
from hierbayes.errors import ArgumentError, DataError
from hierbayes.predict.draws import PosteriorDraws, posterior_draws
from hierbayes.predict.encode import Encoded, encode
from hierbayes.predict.predict import linear_predictor
from hierbayes.predict.response import log_density
from hierbayes.validate import check_count

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["log_predictive_density"]


def _known_and_variance(
    draws: PosteriorDraws, design: Design, encoded: Encoded
) -> tuple[np.ndarray, np.ndarray]:
    """Linear predictor without new groups' effects, and the variance those effects add."""
    eta = np.einsum("cdp,np->cdn", draws.b, encoded.X)
    variance = np.zeros_like(eta)
    for block, rows in zip(design.blocks, encoded.blocks, strict=True):
        lookup = {label: j for j, label in enumerate(block.levels)}
        codes = np.array([lookup.get(label, -1) for label in rows.labels], dtype=np.int64)
        known = codes >= 0
        u = draws.u[block.name]
        for k in range(len(block.columns)):
            eta[:, :, known] += rows.Z[known, k] * u[:, :, codes[known], k]
        if (~known).any():
            sd = draws.sd[block.name]
            cor = draws.cor[block.name]
            if cor is None:
                cor = np.broadcast_to(np.eye(sd.shape[-1]), (*sd.shape, sd.shape[-1]))
            T = sd[..., :, None] * cor * sd[..., None, :]
            Zn = rows.Z[~known]
            variance[:, :, ~known] += np.einsum("nk,cdkl,nl->cdn", Zn, T, Zn)
    return eta, variance


def log_predictive_density(
    fit: Fit,
    newdata: pd.DataFrame,
    *,
    level2: Mapping[str, pd.DataFrame] | None = None,
    method: Literal["auto", "exact", "mc"] = "auto",
    n_effect_draws: int = 20,
    random_seed: int | np.random.Generator | None = None,
) -> pd.Series:
    """Pointwise log predictive density of the rows of ``newdata`` (see the module docstring).

    Parameters
    ----------
    fit : Fit
    newdata : DataFrame
        Rows with the response, the predictors and the grouping factors. Groups the model has not
        seen are new groups.
    level2 : dict, optional
        ``{factor: one-row-per-group table}`` for new groups' level-2 predictors.
    method : {"auto", "exact", "mc"}
        ``"exact"`` integrates new groups' effects analytically (gaussian only), ``"mc"`` by Monte
        Carlo; ``"auto"`` picks exact for gaussian models.
    n_effect_draws : int
        Monte Carlo draws of new groups' effects per posterior draw.
    random_seed : int or numpy.random.Generator, optional

    Returns
    -------
    Series
        ``elpd_i`` indexed by ``newdata``'s index.
    """
    design = fit.design
    gaussian = design.family.name == "gaussian"
    if method == "auto":
        method = "exact" if gaussian else "mc"
    if method not in ("exact", "mc"):
        raise ArgumentError(f"method must be 'auto', 'exact' or 'mc', got {method!r}.")
    if method == "exact" and not gaussian:
        raise DataError(
            f"The exact integral over new groups' effects needs a gaussian model, not "
            f"{design.family.name}; use method='mc'."
        )
    encoded = encode(
        design, newdata, level2=level2, response=True, trials=design.family.needs_trials
    )
    y = encoded.y
    assert y is not None
    draws = posterior_draws(fit)
    n_samples = int(np.prod(draws.shape))
    sigma = None if draws.sigma is None else draws.sigma[:, :, None]
    if method == "exact":
        eta, variance = _known_and_variance(draws, design, encoded)
        assert sigma is not None
        logp = log_density(design.family, y, eta, sigma=np.sqrt(sigma**2 + variance))
        total = logsumexp(logp.reshape(n_samples, -1), axis=0)
        count = n_samples
    else:
        n_effect_draws = check_count("n_effect_draws", n_effect_draws)
        rng = np.random.default_rng(random_seed)
        total = np.full(encoded.n_obs, -np.inf)
        for _ in range(n_effect_draws):
            eta = linear_predictor(draws, design, encoded, "new", rng)
            own = {name: value[:, :, None] for name, value in draws.params.items()}
            logp = log_density(design.family, y, eta, params=own, trials=encoded.trials)
            total = np.logaddexp(total, logsumexp(logp.reshape(n_samples, -1), axis=0))
        count = n_samples * n_effect_draws
    return pd.Series(total - np.log(count), index=encoded.index, name="elpd")
