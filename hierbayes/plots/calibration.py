"""The SBC plot: ECDF difference of PIT values with simultaneous bands (Säilynoja et al. 2022)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from arviz_stats.ecdf_utils import ecdf_pit
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from hierbayes.errors import SummaryError
from hierbayes.plots.layout import facet_grid

__all__ = ["ecdf_band", "plot_sbc"]


def ecdf_band(n: int, prob: float = 0.95, *, n_simulations: int = 1000) -> pd.DataFrame:
    """Simultaneous ``prob`` band of the ECDF difference of ``n`` uniform values.

    The band holds the whole ECDF of ``n`` independent uniform values with probability ``prob``
    (simulated, as arviz-stats's ``ecdf_pit``).

    Returns
    -------
    DataFrame
        ``x``, ``lower`` and ``upper`` (ECDF minus ``x``).

    Examples
    --------
    >>> band = ecdf_band(100)
    >>> bool((band["lower"] <= 0).all() and (band["upper"] >= 0).all())
    True
    """
    rng = np.random.default_rng(214)
    x, _, lower, upper = ecdf_pit(np.linspace(0, 1, n), prob, n_simulations, rng=rng)
    return pd.DataFrame({"x": x, "lower": lower - x, "upper": upper - x})


def plot_sbc(
    ranks: pd.DataFrame, *, prob: float = 0.95, ncols: int | None = None, note: str = ""
) -> tuple[Figure, np.ndarray]:
    """One panel per parameter: ECDF(PIT) - PIT with its simultaneous band.

    A calibrated posterior keeps the line inside the grey band; a line above it in the middle
    means posteriors too wide (true values near the centre too often), below it too narrow or
    shifted; a tilt toward one side means a bias.

    Parameters
    ----------
    ranks : DataFrame
        With ``parameter`` and ``pit`` columns (:attr:`hierbayes.studies.SBC.ranks`).
    prob : float
        Probability of the simultaneous band.
    ncols : int, optional
        Panels per row.
    note : str
        A line under the title, e.g. how many replicates were left out.

    Returns
    -------
    (Figure, ndarray of Axes)
    """
    if not len(ranks):
        raise SummaryError(
            "No SBC ranks to plot: every replicate failed or did not converge (see "
            "result.failures and result.nonconverged)."
        )
    names = list(dict.fromkeys(ranks["parameter"]))
    fig, axes = facet_grid(len(names), ncols=ncols)
    bands: dict[int, pd.DataFrame] = {}
    for ax, name in zip(axes, names, strict=True):
        pit = np.sort(ranks.loc[ranks["parameter"] == name, "pit"].to_numpy())
        n = pit.size
        band = bands.setdefault(n, ecdf_band(n, prob))
        _panel(ax, pit, band, name)
    for ax in axes[-min(len(axes), ncols or 4) :]:
        ax.set_xlabel("PIT (fractional rank)")
    for ax in axes[:: ncols or min(4, len(names))]:
        ax.set_ylabel("ECDF − PIT")
    title = f"SBC: ECDF difference with {prob:.0%} simultaneous bands"
    fig.suptitle(title + (f"\n{note}" if note else ""))
    fig.tight_layout()
    return fig, axes


def _panel(ax: Axes, pit: np.ndarray, band: pd.DataFrame, name: str) -> None:
    ax.fill_between(band["x"], band["lower"], band["upper"], step="post", color="0.85", lw=0)
    x = np.concatenate(([0.0], pit, [1.0]))
    ecdf = np.concatenate(([0.0], np.arange(1, pit.size + 1) / pit.size, [1.0]))
    ax.step(x, ecdf - x, where="post", color="C0", lw=1.2)
    ax.axhline(0.0, color="0.4", lw=0.6)
    ax.set_title(name, fontsize=9)
    ax.set_xlim(0, 1)
