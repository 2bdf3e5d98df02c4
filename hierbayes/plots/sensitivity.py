"""Plot of power-scaling sensitivity: prior against likelihood sensitivity per parameter."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hierbayes.summaries.sensitivity import CONFLICT, WEAK_LIKELIHOOD, sensitivity

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["plot_sensitivity"]

_COLORS = {CONFLICT: "C3", WEAK_LIKELIHOOD: "C1", "-": "C0"}


def plot_sensitivity(
    fit: Fit,
    *,
    threshold: float = 0.05,
    alphas: tuple[float, float] = (0.99, 1.01),
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, np.ndarray]:
    """Prior and likelihood power-scaling sensitivity of each population parameter, as dots on
    one row per parameter, with the threshold as a dashed line; a parameter's row is coloured
    by its diagnosis (red: prior-data conflict, orange: strong prior / weak likelihood).

    Parameters
    ----------
    fit : Fit
    threshold : float
        Sensitivity at or above which the prior (likelihood) counts as informative (0.05, as
        priorsense); drawn as the dashed line.
    alphas : (float, float)
        Powers around 1 at which the derivative is taken.
    figsize : (float, float), optional
        Figure size in inches (default: 5.5 wide, 0.32 high per parameter).

    Returns
    -------
    (Figure, ndarray of Axes)
        One panel; the table it draws is :func:`hierbayes.summaries.sensitivity.sensitivity`.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fig, axes = fit.plot_sensitivity()  # doctest: +SKIP
    """
    table = sensitivity(fit, threshold=threshold, alphas=alphas)
    n = len(table)
    fig, ax = plt.subplots(figsize=figsize or (5.5, 0.9 + 0.32 * n))
    ys = np.arange(n)[::-1]
    for y, (_, row) in zip(ys, table.iterrows(), strict=True):
        color = _COLORS.get(row["diagnosis"], "C0")
        ax.hlines(
            y,
            min(row["prior"], row["likelihood"]),
            max(row["prior"], row["likelihood"]),
            color=color,
            lw=1,
            alpha=0.5,
        )
        ax.scatter(row["prior"], y, marker="o", color=color, zorder=3)
        ax.scatter(row["likelihood"], y, marker="s", facecolor="white", edgecolor=color, zorder=3)
    ax.axvline(threshold, color="0.3", ls="--", lw=1)
    ax.set_yticks(ys, [str(p) for p in table.index])
    ax.set_xlabel("power-scaling sensitivity")
    ax.scatter([], [], marker="o", color="0.3", label="prior")
    ax.scatter([], [], marker="s", facecolor="white", edgecolor="0.3", label="likelihood")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    counts = table["diagnosis"].value_counts()
    flagged = [
        f"{kind} (red): {counts[kind]}" if kind == CONFLICT else f"{kind}: {counts[kind]}"
        for kind in (CONFLICT, WEAK_LIKELIHOOD)
        if kind in counts
    ]
    title = "; ".join(flagged) if flagged else "nothing flagged"
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig, np.array([ax])
