"""Plot of a hypothesis: the prior and posterior densities of ``d = lhs - rhs`` around 0."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from hierbayes.plots.layout import COLORS, facet_grid
from hierbayes.summaries.hypothesis import (
    hypothesis,
    hypothesis_draws,
    hypothesis_label,
    support_edge,
)

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["plot_hypothesis"]

_GRID = 200


def _density(values: np.ndarray, grid: np.ndarray, edge: float | None) -> np.ndarray:
    """Kernel density on ``grid``, reflected at ``edge`` as the Bayes factor's is."""
    values = values[np.isfinite(values)]
    if values.size < 2 or np.ptp(values) == 0:
        return np.zeros_like(grid)
    kde = stats.gaussian_kde(values)
    out = kde(grid)
    if edge is not None:
        out = np.where(grid < edge, 0.0, out + kde(2 * edge - grid))
    return out


def plot_hypothesis(
    fit: Fit,
    hypotheses: str | Sequence[str],
    *,
    random_seed: int | None = 1,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """Prior and posterior densities of each hypothesis's ``d = lhs - rhs``, as brms's
    ``plot(hypothesis(...))``: the Savage-Dickey Bayes factor of a point hypothesis is the ratio
    of the two curves' heights at 0 (the dashed line); the posterior probability of a one-sided
    hypothesis is the posterior mass on its side of 0.

    Parameters
    ----------
    fit : Fit
    hypotheses : str or list of str
        As :func:`hierbayes.summaries.hypothesis.hypothesis`, e.g. ``"Days > 5"``.
    random_seed : int, optional
        Seeds the prior draws (of the prior density and of a point hypothesis's Bayes factor).
    figsize : (float, float), optional
        Figure size in inches (default: 4.2 x 3.0 per panel, up to three panels a row).

    Returns
    -------
    (Figure, ndarray of Axes)
        One panel per hypothesis, titled with its posterior probability and, for point
        hypotheses, BF01.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_hypothesis(["Days = 0", "Days > 5"])  # doctest: +SKIP
    """
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    table = hypothesis(fit, hypotheses, random_seed=random_seed)
    fig, axes = facet_grid(
        len(hypotheses),
        ncols=min(3, len(hypotheses)),
        panel_size=(4.2, 3.0),
        figsize=figsize,
        sharex=False,
        sharey=False,
    )
    for ax, text, (_, row) in zip(axes, hypotheses, table.iterrows(), strict=True):
        hyp, post, prior = hypothesis_draws(fit, text, random_seed=random_seed)
        edge = support_edge(hyp, fit.design)
        lo, hi = np.quantile(post, [0.001, 0.999])
        width = hi - lo
        lo, hi = min(lo - 0.25 * width, 0.0), max(hi + 0.25 * width, 0.0)
        grid = np.linspace(lo, hi, _GRID)
        ax.plot(grid, _density(post, grid, edge), color=COLORS["partial"], lw=2, label="posterior")
        ax.plot(grid, _density(prior, grid, edge), color=COLORS["data"], lw=1.5, label="prior")
        ax.axvline(0.0, color=COLORS["observed"], ls="--", lw=1)
        title = f"{hypothesis_label(hyp)}\nP = {row['post_prob']:.3f}"
        if hyp.point:
            title += f", BF01 = {row['bf01']:.3g}"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("lhs - rhs")
        ax.set_ylabel("density")
    axes[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig, axes
