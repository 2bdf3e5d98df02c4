"""The power curve: power and interval width against the number of groups."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from hierbayes.errors import SummaryError

__all__ = ["plot_power"]


def plot_power(
    table: pd.DataFrame, *, target: str = "", prob: float = 0.95, level: float = 0.8
) -> tuple[Figure, np.ndarray]:
    """Two panels: power (with ±2 Monte Carlo SE) and mean interval width against the number
    of groups, one line per number of observations per group; a dashed line at ``level``.

    Parameters
    ----------
    table : DataFrame
        :meth:`hierbayes.studies.power_study.Power.table`.
    target : str
        The effect, for the title.
    prob : float
        The intervals' probability, for the labels.
    level : float
        The power a study aims for (drawn as a reference line).

    Returns
    -------
    (Figure, ndarray of two Axes)
    """
    if not len(table):
        raise SummaryError("No power results to plot: every replicate failed.")
    data = table.reset_index()
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
    for i, (m, part) in enumerate(data.groupby("n_per_group", sort=True)):
        color = f"C{i}"
        label = f"{m} per group"
        axes[0].errorbar(
            part["n_groups"],
            part["power"],
            yerr=2 * part["power_se"],
            marker="o",
            color=color,
            label=label,
            capsize=3,
        )
        axes[1].errorbar(
            part["n_groups"],
            part["width"],
            yerr=2 * part["width_se"].fillna(0),
            marker="o",
            color=color,
            label=label,
            capsize=3,
        )
    axes[0].axhline(level, color="0.4", ls="--", lw=0.8)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].set_ylabel(f"P({prob:.0%} interval excludes null)")
    axes[1].set_ylabel(f"mean width of the {prob:.0%} interval")
    for ax in axes:
        ax.set_xlabel("number of groups")
        ax.set_xticks(sorted(data["n_groups"].unique()))
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Power and precision for {target}" if target else "Power and precision")
    fig.tight_layout()
    return fig, axes
