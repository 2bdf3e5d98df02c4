"""Prior predictive check: what the priors say about the response before seeing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hierbayes.build import response_name
from hierbayes.errors import SummaryError
from hierbayes.plots.layout import COLORS, facet_grid

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["plot_prior_predictive"]

_BINS = 60


def _factor_codes(model: Model, factor: str | None) -> tuple[str, np.ndarray, int]:
    blocks = model.design.blocks
    if not blocks:
        raise SummaryError("This model has no grouping factor, so it has no group means to plot.")
    factors = list(dict.fromkeys(b.factor for b in blocks))
    chosen = factors[0] if factor is None else factor
    for block in blocks:
        if block.factor == chosen:
            return chosen, block.codes, len(block.levels)
    raise SummaryError(f"Unknown factor {factor!r}; this model's factors are {', '.join(factors)}.")


def _range(ax: Axes, lo: float, hi: float) -> None:
    ax.axvspan(lo, hi, color=COLORS["data"], alpha=0.18, lw=0)


def _legend(ax: Axes, name: str, what: str, n: int) -> None:
    ax.legend(
        handles=[
            Line2D([], [], color=COLORS["predicted"], lw=2, label=f"prior predictive ({n} draws)"),
            Line2D([], [], color=COLORS["observed"], lw=2, label=f"observed {what}"),
            Patch(color=COLORS["data"], alpha=0.3, label="observed range"),
        ],
        fontsize=8,
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
    )


def _panel(ax: Axes, simulated: np.ndarray, observed: np.ndarray, name: str, what: str) -> None:
    """Histogram of all simulated values against the observed values and their range."""
    lo = min(float(np.quantile(simulated, 0.005)), float(observed.min()))
    hi = max(float(np.quantile(simulated, 0.995)), float(observed.max()))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, _BINS + 1)
    inside = simulated[(simulated >= lo) & (simulated <= hi)]
    ax.hist(inside, edges, density=True, color=COLORS["predicted"], alpha=0.55)
    ax.hist(observed, edges, density=True, histtype="step", color=COLORS["observed"], lw=1.8)
    _range(ax, float(observed.min()), float(observed.max()))
    share = float(np.mean((simulated >= observed.min()) & (simulated <= observed.max())))
    ax.set_xlabel(what)
    ax.set_title(f"{share:.0%} of simulated values inside the observed range", fontsize=9, pad=22)
    ax.set_ylabel("density")


def plot_prior_predictive(
    model: Model,
    prior: xr.DataTree | None = None,
    *,
    factor: str | None = None,
    draws: int = 500,
    random_seed: int | None = 1,
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """The prior predictive distribution of the response and of the group means.

    Left: the response values simulated from the priors (all draws together) against the
    observed response (outline) and its range (shaded). Right: the simulated means of each group
    of ``factor`` against the observed group means. Priors that put most of their mass far
    outside the observed range (a negative reaction time, a mean score of 10,000) show here
    before any fit.

    Parameters
    ----------
    model : Model
    prior : DataTree, optional
        The result of :meth:`hierbayes.Model.prior_predictive` (drawn with ``draws`` and
        ``random_seed`` when omitted).
    factor : str, optional
        Grouping factor of the group means (default: the model's first).
    draws : int
        Number of prior draws when ``prior`` is omitted.
    random_seed : int, optional
        Seed of those draws.
    figsize : (float, float), optional
        Figure size in inches.

    Returns
    -------
    (Figure, ndarray of Axes)

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> fig, axes = m.plot_prior_predictive(draws=100)
    >>> len(axes)
    2
    """
    if prior is None:
        prior = model.prior_predictive(draws, random_seed=random_seed)
    name = response_name(model.design)
    try:
        yrep = np.asarray(prior["prior_predictive"][name].values, dtype=float)
    except KeyError as err:
        raise SummaryError(
            "prior= must be the DataTree that Model.prior_predictive() returns "
            f"(a prior_predictive group with '{name}')."
        ) from err
    yrep = yrep.reshape(-1, yrep.shape[-1])
    design = model.design
    trials = np.ones(design.n_obs) if design.trials is None else design.trials
    what = "proportion" if design.family.needs_trials else name
    y = design.y / trials
    panels = 2 if design.blocks else 1
    fig, axes = facet_grid(
        panels, ncols=panels, panel_size=(5.0, 3.4), figsize=figsize, sharex=False, sharey=False
    )
    _panel(axes[0], (yrep / trials).ravel(), y, name, what)
    _legend(axes[0], name, what, yrep.shape[0])
    if panels == 2:
        chosen, codes, J = _factor_codes(model, factor)
        totals = np.bincount(codes, weights=trials, minlength=J)
        observed = np.bincount(codes, weights=design.y, minlength=J) / totals
        simulated = np.stack([np.bincount(codes, weights=r, minlength=J) / totals for r in yrep])
        _panel(axes[1], simulated.ravel(), observed, name, f"mean {what} per {chosen}")
    fig.tight_layout()
    return fig, axes
