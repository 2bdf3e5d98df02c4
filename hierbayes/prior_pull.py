"""A note when the default ``Gamma(0.01, 0.01)`` prior of a shape pulls its posterior down.

brms's default prior for the gamma's and the negative binomial's ``shape`` (hierbayes's too)
is ``Gamma(0.01, 0.01)``: density ``∝ α^{-0.99} e^{-0.01 α}``. Its log-density falls by 0.01 per
unit of ``α``, which is nothing for a shape of a few units but a lot for very precise data: a
gamma response with a coefficient of variation near 1% has a shape in the thousands, and the
prior then moves the posterior by about ``Var(α | y) × d log p(α) / dα``, with
``d log p / dα = (a - 1) / α - b`` for ``Gamma(a, b)``: several posterior SDs. (nlme's
BodyWeight, ``weight ~ Time * Diet + (1 | Rat)``: posterior mean 2,627 (SD 297) against
glmmTMB's 4,023; 3,940 (SD 454) with ``Gamma(0.01, 1e-6)``.) The note says so and what to set.

Only for the default prior (a user's prior is meant), and only where the data pin the shape
down (posterior SD under :data:`PRECISE` of its mean): where they say little about it, as for
a negative binomial fitted to counts without overdispersion, the prior's rate is what keeps the
posterior finite, and a flatter prior would send the shape off towards infinity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from hierbayes.priors import Prior

__all__ = ["DEFAULT", "PRECISE", "PULL_MAX", "shape_prior_notes"]

PULL_MAX = 0.5
"""Largest shift ``Var(α | y) × d log p / dα`` of a shape, in posterior SDs, left without a note."""
PRECISE = 0.25
"""Largest posterior coefficient of variation of a shape for which the note is given."""
DEFAULT = (0.01, 0.01)
"""The default prior's ``(alpha, beta)``."""


def shape_prior_notes(posterior: xr.Dataset, priors: Mapping[str, object]) -> tuple[str, ...]:
    """A note when the default Gamma prior of ``shape`` moves its posterior by more than
    :data:`PULL_MAX` posterior SDs (``|d log p / dα| × SD(α | y)``, averaged over the draws)
    and the data pin the shape down (SD under :data:`PRECISE` of the mean).

    Parameters
    ----------
    posterior : Dataset
        The posterior draws (``chain``, ``draw``).
    priors : mapping
        The model's priors by name (:attr:`hierbayes.Model.prior_values`).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> draws = xr.Dataset({"shape": (("chain", "draw"), rng.normal(3000, 400, (2, 500)))})
    >>> shape_prior_notes(draws, {"shape": Prior("Gamma", alpha=0.01, beta=0.01)})[0][:46]
    "The prior Gamma(0.01, 0.01) on the family's sh"
    >>> shape_prior_notes(draws, {"shape": Prior("Gamma", alpha=0.01, beta=1e-6)})
    ()
    >>> vague = xr.Dataset({"shape": (("chain", "draw"), rng.gamma(1.5, 60, (2, 500)))})
    >>> shape_prior_notes(vague, {"shape": Prior("Gamma", alpha=0.01, beta=0.01)})
    ()
    """
    prior = priors.get("shape")
    if not isinstance(prior, Prior) or prior.dist != "Gamma" or "shape" not in posterior:
        return ()
    params = dict(prior.params)
    alpha, rate = params.get("alpha"), params.get("beta")
    if alpha is None or rate is None or np.ndim(alpha) or np.ndim(rate):
        return ()
    if (float(alpha), float(rate)) != DEFAULT:
        return ()
    draws = np.asarray(posterior["shape"].values, dtype=float).ravel()
    draws = draws[np.isfinite(draws) & (draws > 0)]
    if draws.size < 2:
        return ()
    mean, sd = float(np.mean(draws)), float(np.std(draws))
    if not sd > 0 or sd >= PRECISE * mean:
        return ()
    slope = (float(alpha) - 1.0) * float(np.mean(1.0 / draws)) - float(rate)
    pull = slope * sd  # in posterior SDs
    if abs(pull) <= PULL_MAX:
        return ()
    direction = "down" if pull < 0 else "up"
    return (
        f"The prior Gamma({float(alpha):g}, {float(rate):g}) on the family's shape pulls it "
        f"{direction}: it moves the posterior by about variance x d log prior / d shape = "
        f"{abs(slope) * sd * sd:,.0f} ({abs(pull):.1f} posterior SDs) from where the data "
        f"put it (posterior mean {mean:,.0f}: the data are very precise). If that is not meant, "
        "set a flatter prior, e.g. priors={'shape': hb.Prior('Gamma', alpha=0.01, beta=1e-6)}.",
    )
