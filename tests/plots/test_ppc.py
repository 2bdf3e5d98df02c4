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


def _aggregated():
    import pandas as pd

    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(8), 6)
    df = pd.DataFrame(
        {"k": rng.poisson(2.0, g.size), "x": rng.normal(size=g.size), "g": g.astype(str)}
    )
    df["w"] = rng.integers(0, 4, g.size).astype(float)
    return df


@pytest.mark.parametrize("kind", ["density", "group_means"])
def test_frequency_weights_give_the_check_of_the_expanded_data(kind):
    df = _aggregated()
    expanded = df.loc[np.repeat(df.index, df["w"].astype(int))].drop(columns="w")
    weighted = hb.Model("k ~ x + (1 | g)", df, family="poisson", weights="w")
    plain = hb.Model("k ~ x + (1 | g)", expanded.reset_index(drop=True), family="poisson")
    # the same posterior draws (the two designs have the same coefficients and groups)
    figs = [
        synthetic_fit(m, seed=4).plot_ppc(kind=kind, n_draws=30, random_seed=2)[1][0]
        for m in (weighted, plain)
    ]
    for a, b in zip(*(ax.collections for ax in figs), strict=True):
        if isinstance(a, LineCollection):
            np.testing.assert_array_equal(np.asarray(a.get_segments()), b.get_segments())
        else:
            np.testing.assert_array_equal(a.get_offsets(), b.get_offsets())
    bars = [[r.get_height() for r in ax.patches if isinstance(r, Rectangle)] for ax in figs]
    np.testing.assert_array_equal(*bars)
    if kind == "density":  # the observed bars count each row w times
        k, w = df["k"].to_numpy(), df["w"].to_numpy()
        expected = [w[k == v].sum() / w.sum() for v in range(len(bars[0]))]
        np.testing.assert_allclose(bars[0], expected, rtol=1e-12)


def test_fractional_weights_weigh_each_rows_replicate():
    df = _aggregated().assign(w=lambda d: d["w"] + 0.5)
    fit = synthetic_fit(hb.Model("k ~ x + (1 | g)", df, family="poisson", weights="w"), seed=4)
    ax = fit.plot_ppc(n_draws=30, random_seed=2)[1][0]
    bars = [r.get_height() for r in ax.patches if isinstance(r, Rectangle)]
    k, w = df["k"].to_numpy(), df["w"].to_numpy()
    np.testing.assert_allclose(bars, [w[k == v].sum() / w.sum() for v in range(len(bars))])
    _, observed = [
        c
        for c in fit.plot_ppc(kind="group_means", n_draws=5)[1][0].collections
        if isinstance(c, PathCollection)
    ]
    means = (df["k"] * df["w"]).groupby(df["g"]).sum() / df["w"].groupby(df["g"]).sum()
    np.testing.assert_allclose(np.sort(observed.get_offsets()[:, 1]), np.sort(means))
