"""plot_ppc(): replicated data against the observed data, overall and by group."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import synthetic_fit
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import Rectangle

import hierbayes as hb

pytestmark = pytest.mark.slow


def test_density_overlay(sleep_fit: hb.Fit, save_png):
    fig, axes = sleep_fit.plot_ppc(n_draws=40)
    ax = axes[0]
    assert len(ax.lines) == 41  # 40 replicates and the observed density
    observed = ax.lines[-1]
    assert observed.get_color() == "black" and observed.get_linewidth() == 2
    assert ax.get_xlabel() == "Reaction"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "observed Reaction", "replicated (40 draws)",
    ]  # fmt: skip
    save_png(fig)


def test_group_means(sleep_fit: hb.Fit, sleep, save_png):
    fig, axes = sleep_fit.plot_ppc(kind="group_means", n_draws=50)
    ax = axes[0]
    intervals = [c for c in ax.collections if isinstance(c, LineCollection)]
    _predicted, observed = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(intervals[0].get_segments()) == 18
    means = sleep.groupby("Subject")["Reaction"].mean().sort_values()
    np.testing.assert_allclose(observed.get_offsets()[:, 1], means.to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(s) for s in means.index]
    save_png(fig)


def test_counts_for_discrete_families():
    cbpp = hb.datasets.load("cbpp")
    model = hb.Model("incidence | trials(size) ~ 1 + (1 | herd)", data=cbpp, family="binomial")
    fit = synthetic_fit(model, seed=2)
    _fig, axes = fit.plot_ppc(n_draws=30)
    bars = [p for p in axes[0].patches if isinstance(p, Rectangle)]
    counts = np.bincount(cbpp["incidence"])
    assert len(bars) >= counts.size
    np.testing.assert_allclose([b.get_height() for b in bars[: counts.size]], counts / len(cbpp))
    _fig, axes = fit.plot_ppc(kind="group_means", n_draws=30)
    assert axes[0].get_ylabel() == "group proportion of incidence"


def test_bad_arguments(sleep_fit: hb.Fit):
    with pytest.raises(hb.SummaryError, match="kind must be one of 'density', 'group_means'"):
        sleep_fit.plot_ppc(kind="ecdf")
    with pytest.raises(hb.SummaryError, match="n_draws must be a positive integer"):
        sleep_fit.plot_ppc(n_draws=0)
    with pytest.raises(hb.SummaryError, match="Unknown grouping factor 'Days'"):
        sleep_fit.plot_ppc(kind="group_means", factor="Days")
