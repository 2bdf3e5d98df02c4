"""The SBC plot: panels, bands and lines from the ranks it is given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import pyplot as plt

from hierbayes.errors import SummaryError
from hierbayes.plots.calibration import ecdf_band, plot_sbc


def test_band_is_simultaneous():
    """About 95% of ECDFs of 50 uniform values stay inside the whole 95% band."""
    band = ecdf_band(50, 0.95)
    rng = np.random.default_rng(1)
    inside = 0
    reps = 400
    for _ in range(reps):
        u = np.sort(rng.uniform(size=50))
        diff = np.searchsorted(u, band["x"], side="right") / 50 - band["x"]
        inside += bool(((diff >= band["lower"] - 1e-12) & (diff <= band["upper"] + 1e-12)).all())
    assert abs(inside / reps - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps)


def test_sbc_plot_has_one_panel_per_parameter():
    rng = np.random.default_rng(0)
    ranks = pd.DataFrame(
        {
            "parameter": np.repeat(["b[x]", "sigma", "sd|g[Intercept]"], 40),
            "pit": rng.uniform(size=120),
        }
    )
    fig, axes = plot_sbc(ranks)
    assert [ax.get_title() for ax in axes] == ["b[x]", "sigma", "sd|g[Intercept]"]
    line = axes[0].lines[0]
    pit = np.sort(ranks["pit"].to_numpy()[:40])
    np.testing.assert_allclose(line.get_xdata()[1:-1], pit)
    np.testing.assert_allclose(line.get_ydata()[1:-1], np.arange(1, 41) / 40 - pit)
    plt.close(fig)
    with pytest.raises(SummaryError, match="every replicate failed or did not converge"):
        plot_sbc(ranks.iloc[:0])
