"""Plots of a fit, drawn with matplotlib.

Every plot returns its ``Figure`` and an array of its ``Axes`` so that it can be restyled, and
none calls ``plt.show()``. ArviZ's own plots (``arviz_plots.plot_trace``, ``plot_rank``,
``plot_forest``, ...) work directly on ``fit.idata``, whose variables carry the model's names
(``b``, ``sd|Subject``, ``u|Subject``) and labelled coordinates.
"""

from hierbayes.plots.caterpillar import plot_caterpillar
from hierbayes.plots.effects import plot_effects
from hierbayes.plots.group_lines import plot_group_lines
from hierbayes.plots.hypothesis import plot_hypothesis
from hierbayes.plots.new_groups import plot_new_groups
from hierbayes.plots.pooling import plot_pooling
from hierbayes.plots.ppc import plot_ppc
from hierbayes.plots.prior_predictive import plot_prior_predictive
from hierbayes.plots.sensitivity import plot_sensitivity

__all__ = [
    "plot_caterpillar",
    "plot_effects",
    "plot_group_lines",
    "plot_hypothesis",
    "plot_new_groups",
    "plot_pooling",
    "plot_ppc",
    "plot_prior_predictive",
    "plot_sensitivity",
]
