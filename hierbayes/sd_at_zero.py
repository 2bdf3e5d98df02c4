"""Whether a group SD's posterior piles up at zero: the rule behind the note of
:func:`hierbayes.diagnostics.check_convergence`.

An SD piles up at zero when its posterior density at 0 is close to the density at its mode: the
posterior is highest at (or right next to) the boundary, the Bayesian counterpart of lme4's
singular fit (a variance estimated as 0). The density is a Gaussian kernel estimate reflected at
0 (so the boundary does not halve it), binned on [0, 99.5th percentile].

Why not a quantile ratio (the 10th percentile below 0.3 of the median, the earlier rule): a
well-identified SD with a long left tail fails it. Bacteria's ``(1 + week || ID)`` intercept SD
(posterior median 1.07 on the logit scale, mode near it) has q10/q50 = 0.28, so the earlier rule
fired, while its density at 0 is 0.5 of its mode's. The posteriors of simulated SDs of 0 (8 or 30
groups) and of SDs of 0.3 to 0.5 whose data cannot tell them from 0 have a density at 0 of 0.95
to 1.0 of the mode's, SDs of 1 with 20 or 50 groups 0.000, SDs of 0.3 with 5 groups that the data
do pin down 0.1 to 0.3 (4000-12000 draws each; ``benchmarks/sd_at_zero_draws.py``). :data:`AT_ZERO`
= 0.8 sits in the gap between 0.6 (the largest ratio of a posterior whose mode is away from 0 in
those runs) and 0.95.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

__all__ = ["AT_ZERO", "density_ratio_at_zero", "piles_up_at_zero"]

AT_ZERO = 0.8
_BINS = 256


def density_ratio_at_zero(draws: np.ndarray) -> float:
    """Posterior density at 0 over the density at the mode, from draws of a positive quantity.

    A Gaussian kernel estimate (Silverman's bandwidth) reflected at 0, so that a density that is
    flat at the boundary is not halved there.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> round(density_ratio_at_zero(np.abs(rng.normal(0, 1, 4000))), 2)  # half-normal: mode at 0
    1.0
    >>> density_ratio_at_zero(rng.gamma(20, 0.05, 4000)) < 0.01  # well away from 0
    True
    """
    x = np.asarray(draws, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if x.size < 10:
        return float("nan")
    top = float(np.quantile(x, 0.995))
    if not top > 0:
        return 1.0  # every draw at 0
    counts, _ = np.histogram(x, bins=_BINS, range=(0.0, top))
    q25, q75 = np.quantile(x, [0.25, 0.75])
    spread = min(float(np.std(x)), float(q75 - q25) / 1.349) or float(np.std(x))
    bandwidth = 0.9 * spread * x.size ** (-0.2)
    # mode="reflect" mirrors the counts about the edge at 0: the reflection estimator
    density = gaussian_filter1d(counts.astype(float), bandwidth / (top / _BINS), mode="reflect")
    return float(density[0] / density.max()) if density.max() > 0 else float("nan")


def piles_up_at_zero(draws: np.ndarray) -> bool:
    """Whether the posterior density at 0 is at least :data:`AT_ZERO` of the mode's.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> piles_up_at_zero(np.abs(rng.normal(0, 0.2, 4000)))
    True
    >>> piles_up_at_zero(rng.lognormal(0.0, 0.3, 4000))
    False
    """
    return bool(density_ratio_at_zero(draws) >= AT_ZERO)
