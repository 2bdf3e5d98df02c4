"""fit.plot_sensitivity(): one row per parameter, coloured by its diagnosis."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PathCollection


def test_one_row_per_parameter(ri_sim_fit, save_png) -> None:
    table = ri_sim_fit.sensitivity()
    fig, axes = ri_sim_fit.plot_sensitivity()
    ax = axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(table.index)
    # the prior dots sit at the prior sensitivities, top row first
    dots = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    assert len(dots) == 2 * len(table)
    prior = np.array([c.get_offsets()[0] for c in dots[0::2]])
    likelihood = np.array([c.get_offsets()[0] for c in dots[1::2]])
    assert np.allclose(prior[:, 0], table["prior"].to_numpy())
    assert np.allclose(likelihood[:, 0], table["likelihood"].to_numpy())
    assert np.array_equal(prior[:, 1], np.arange(len(table))[::-1])
    save_png(fig)
    plt.close(fig)
