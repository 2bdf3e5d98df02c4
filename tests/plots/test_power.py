"""The power curve: one line per group size from the table it is given."""

from __future__ import annotations

import pandas as pd
from matplotlib import pyplot as plt

from hierbayes.plots.power import plot_power


def test_power_plot_draws_one_line_per_group_size():
    table = pd.DataFrame(
        {
            "n_groups": [10, 20, 10, 20],
            "n_per_group": [5, 5, 10, 10],
            "power": [0.2, 0.5, 0.4, 0.8],
            "power_se": [0.04, 0.05, 0.05, 0.04],
            "width": [1.0, 0.7, 0.8, 0.5],
            "width_se": [0.02, 0.02, 0.02, 0.02],
        }
    ).set_index(["n_groups", "n_per_group"])
    fig, axes = plot_power(table, target="x")
    assert len(axes[0].lines) >= 2
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == [
        "5 per group",
        "10 per group",
    ]
    plt.close(fig)
