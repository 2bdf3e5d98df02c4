"""Posterior predictive checks: the distribution of the response, and group by group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import xarray as xr
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy.stats import gaussian_kde

from hierbayes.errors import SummaryError
from hierbayes.plots.layout import COLORS, facet_grid
from hierbayes.summaries.posterior import factor_blocks, predictive_draws
from hierbayes.summaries.stats import DEFAULT_PROB

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["frequency_rows", "plot_ppc"]

_KINDS = ("density", "group_means")
_GRID = 200
_MAX_BARS = 40
_MAX_TICK_LABELS = 40


def _interval(values: np.ndarray, prob: float) -> np.ndarray:
    """HDI over the first axis, shape (2, ...)."""
    da = xr.DataArray(
        values[None], dims=("chain", "draw", *[f"d{i}" for i in range(values.ndim - 1)])
    )
    hdi = az.hdi(da, prob=prob)
    return np.stack([hdi.sel(ci_bound="lower").values, hdi.sel(ci_bound="upper").values])


def frequency_rows(weights: np.ndarray | None) -> np.ndarray | None:
    """With whole-number likelihood weights (frequency weights), each row repeated its weight's
    number of times: the rows of the expanded data set (``None`` otherwise).

    Examples
    --------
    >>> frequency_rows(np.array([2.0, 0.0, 1.0])).tolist()
    [0, 0, 2]
    >>> frequency_rows(np.array([0.5, 1.0])) is None
    True
    """
    if weights is None or not np.all(np.round(weights) == weights):
        return None
    return np.repeat(np.arange(weights.size), weights.astype(np.int64))


def _density(
    ax: Axes, y: np.ndarray, yrep: np.ndarray, name: str, w: np.ndarray | None = None
) -> None:
    lo = min(y.min(), np.quantile(yrep, 0.001))
    hi = max(y.max(), np.quantile(yrep, 0.999))
    grid = np.linspace(lo, hi, _GRID)
    for rep in yrep:
        kde = gaussian_kde(rep, weights=w)
        ax.plot(grid, kde(grid), color=COLORS["predicted"], alpha=0.15, lw=0.8)
    ax.plot(grid, gaussian_kde(y, weights=w)(grid), color=COLORS["observed"], lw=2)
    ax.set_xlabel(name)
    ax.set_ylabel("density")
    ax.legend(
        handles=[
            Line2D([], [], color=COLORS["observed"], lw=2, label=f"observed {name}"),
            Line2D(
                [],
                [],
                color=COLORS["predicted"],
                alpha=0.5,
                label=f"replicated ({len(yrep)} draws)",
            ),
        ],
        fontsize=8,
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
    )


def _counts(
    ax: Axes,
    y: np.ndarray,
    yrep: np.ndarray,
    name: str,
    prob: float,
    w: np.ndarray | None = None,
    levels: tuple[str, ...] | None = None,
) -> None:
    top = int(max(y.max(), np.quantile(yrep, 0.995)))
    if levels is not None:  # an ordinal response: its categories 1..K, labelled
        edges = np.arange(1, len(levels) + 2) - 0.5
    elif top + 1 <= _MAX_BARS:
        edges = np.arange(top + 2) - 0.5
    else:
        edges = np.linspace(-0.5, top + 0.5, _MAX_BARS + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    total = y.size if w is None else w.sum()
    observed = np.histogram(y, edges, weights=w)[0] / total
    replicated = np.stack([np.histogram(rep, edges, weights=w)[0] / total for rep in yrep])
    interval = _interval(replicated, prob)
    ax.bar(centers, observed, width=0.8 * width, color=COLORS["data"], alpha=0.6)
    ax.vlines(centers, interval[0], interval[1], color=COLORS["predicted"], lw=2)
    ax.scatter(centers, replicated.mean(axis=0), color=COLORS["predicted"], s=16, zorder=3)
    ax.set_xlabel(name)
    if levels is not None:
        ax.set_xticks(centers, list(levels))
    ax.set_ylabel("proportion of observations")
    observed = Patch(color=COLORS["data"], alpha=0.6, label=f"observed {name}")
    _legend(ax, observed, len(yrep), prob, lw=2)


def _group_means(
    ax: Axes,
    fit: Fit,
    yrep: np.ndarray,
    factor: str | None,
    prob: float,
    rows: np.ndarray | None = None,
    w: np.ndarray | None = None,
) -> None:
    design = fit.design
    fb = factor_blocks(design, factor)
    J = len(fb.levels)
    take = slice(None) if rows is None else rows
    codes, y = fb.codes[take], design.y[take]
    trials = np.ones(y.size) if design.trials is None else design.trials[take]
    w = np.ones(y.size) if w is None else w
    totals = np.bincount(codes, weights=w * trials, minlength=J)
    observed = np.bincount(codes, weights=w * y, minlength=J) / totals
    replicated = np.stack(
        [np.bincount(codes, weights=w * rep, minlength=J) / totals for rep in yrep]
    )
    interval = _interval(replicated, prob)
    order = np.argsort(observed, kind="stable")
    xs = np.arange(J)
    ax.vlines(
        xs, interval[0, order], interval[1, order], color=COLORS["predicted"], lw=1.5, alpha=0.6
    )
    ax.scatter(xs, replicated.mean(axis=0)[order], color=COLORS["predicted"], s=12, zorder=3)
    ax.scatter(xs, observed[order], color=COLORS["observed"], s=14, marker="D", zorder=4)
    if J <= _MAX_TICK_LABELS:
        ax.set_xticks(xs, [fb.levels[j] for j in order], rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
    what = "proportion" if design.trials is not None else "mean"
    ax.set_xlabel(f"{fb.factor}, sorted by observed {what}")
    ax.set_ylabel(f"group {what} of {design.spec.response}")
    observed = Line2D([], [], ls="", marker="D", color=COLORS["observed"], label=f"observed {what}")
    _legend(ax, observed, len(yrep), prob, lw=1.5)


def _legend(ax: Axes, observed: Artist, n_draws: int, prob: float, *, lw: float) -> None:
    """The legend above a panel: the observed statistic, and the replicated ones' mean and HDI."""
    replicated = Line2D(
        [],
        [],
        color=COLORS["predicted"],
        marker="o",
        lw=lw,
        label=f"replicated: mean and {prob:.0%} HDI ({n_draws} draws)",
    )
    ax.legend(
        handles=[observed, replicated],
        fontsize=8,
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
    )


def plot_ppc(
    fit: Fit,
    *,
    kind: str = "density",
    factor: str | None = None,
    n_draws: int = 100,
    random_seed: int | None = 0,
    prob: float = DEFAULT_PROB,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """Posterior predictive check: replicated data sets against the observed one.

    ``n_draws`` posterior draws are picked at random and one data set is simulated from each.

    - ``kind="density"``: the distribution of the response. Gaussian: kernel density of the
      observed response (black) over those of the replicates. Bernoulli, binomial and poisson:
      the observed proportion of each count (bars) with the replicates' mean and HDI.
    - ``kind="group_means"``: per group of ``factor``, the observed mean (binomial: the
      proportion of successes) and the replicates' mean and HDI, groups sorted by the observed
      value. Groups whose observed value falls outside their interval are poorly fitted.

    Likelihood weights are read as frequency weights: a row of weight ``w`` counts ``w`` times,
    in the observed data and in the replicates, so that aggregated data give the check of the
    expanded data (whole-number weights: the same figure, each row replicated ``w`` times
    independently; other weights: each row's one replicate weighted by ``w``). brms's
    ``pp_check`` ignores weights, which misrepresents frequency-weighted data.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    kind : {"density", "group_means"}
    factor : str, optional
        Grouping factor of ``"group_means"`` (required when the model has several).
    n_draws : int
        Number of replicated data sets.
    random_seed : int, optional
        Seed of the draw selection and the simulation.
    prob : float
        HDI probability.
    figsize : (float, float), optional

    Returns
    -------
    (Figure, ndarray of Axes)

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_ppc(kind="group_means")  # doctest: +SKIP
    """
    if kind not in _KINDS:
        raise SummaryError(f"kind must be one of {', '.join(map(repr, _KINDS))}, got {kind!r}.")
    if not isinstance(n_draws, int) or n_draws < 1:
        raise SummaryError(f"n_draws must be a positive integer, got {n_draws!r}.")
    if kind == "group_means":
        factor_blocks(fit.design, factor)  # validate before simulating
    design = fit.design
    rows = frequency_rows(design.weights)
    yrep = predictive_draws(fit, n_draws, np.random.default_rng(random_seed), rows=rows)
    y = design.y if rows is None else design.y[rows]
    w = design.weights if rows is None else None  # fractional weights weigh each row
    name = design.spec.response
    if kind == "density":
        fig, axes = facet_grid(
            1, panel_size=(6.0, 4.0), figsize=figsize, sharex=False, sharey=False
        )
        if not design.family.discrete:
            _density(axes[0], y, yrep, name, w)
        else:
            _counts(axes[0], y, yrep, name, prob, w, design.response_levels)
        axes[0].set_title("Posterior predictive check", fontsize=10, pad=24)
    else:
        J = len(factor_blocks(design, factor).levels)
        width = min(max(6.0, 0.14 * J + 2), 14.0)
        fig, axes = facet_grid(
            1, panel_size=(width, 4.0), figsize=figsize, sharex=False, sharey=False
        )
        _group_means(axes[0], fit, yrep, factor, prob, rows, w)
        axes[0].set_title("Posterior predictive check by group", fontsize=10, pad=24)
    fig.tight_layout()
    return fig, axes
