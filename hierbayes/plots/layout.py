"""Figure layout and style shared by the plots."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from hierbayes.errors import SummaryError

if TYPE_CHECKING:
    from hierbayes.design import Design

__all__ = ["COLORS", "coefficient_label", "facet_grid", "remove_unused"]

#: Colours of the pooling story, the same in every plot.
COLORS = {
    "partial": "C0",
    "no_pool": "C1",
    "population": "0.15",
    "data": "0.55",
    "observed": "black",
    "predicted": "C0",
}


def facet_grid(
    n_panels: int,
    *,
    ncols: int | None = None,
    panel_size: tuple[float, float] = (3.0, 2.6),
    figsize: tuple[float, float] | None = None,
    sharex: bool = True,
    sharey: bool = True,
) -> tuple[Figure, np.ndarray]:
    """A figure with ``n_panels`` axes on a grid; unused cells are removed.

    Returns the figure and a flat array with exactly ``n_panels`` axes.
    """
    if ncols is None:
        ncols = min(4, n_panels)
    if not isinstance(ncols, int) or ncols < 1:
        raise SummaryError(f"ncols must be a positive integer, got {ncols!r}.")
    ncols = min(ncols, n_panels)
    nrows = math.ceil(n_panels / ncols)
    if figsize is None:
        figsize = (panel_size[0] * ncols, panel_size[1] * nrows)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize, sharex=sharex, sharey=sharey, squeeze=False
    )
    flat = axes.reshape(-1)
    remove_unused(fig, flat[n_panels:])
    used = flat[:n_panels]
    if sharex:
        for i, ax in enumerate(used):
            # a panel with no panel below it shows its x tick labels
            ax.xaxis.set_tick_params(labelbottom=i + ncols >= n_panels)
    return fig, used


def remove_unused(fig: Figure, axes: np.ndarray) -> None:
    """Delete axes that hold no panel."""
    for ax in axes:
        fig.delaxes(ax)


def coefficient_label(design: Design, term: str) -> str:
    """Axis label of a varying coefficient: ``"Intercept"``, ``"cses slope"`` for a numeric
    predictor, ``"<term> coefficient"`` otherwise (a dummy or an interaction).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", hb.datasets.load("sleepstudy"))
    >>> [coefficient_label(m.design, t) for t in ["Intercept", "Days"]]
    ['Intercept', 'Days slope']
    """
    if term == "Intercept":
        return term
    data = design.data
    if data is not None and term in data.columns:
        from hierbayes.design import is_continuous

        if is_continuous(design, term):
            return f"{term} slope"
    return f"{term} coefficient"
