"""plot_pooling(): arrows from each group's own estimate to its partial-pooling estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_fit
from matplotlib.collections import PathCollection
from matplotlib.patches import Ellipse
from matplotlib.text import Annotation

import hierbayes as hb

pytestmark = pytest.mark.slow


def _arrows(ax) -> list[Annotation]:
    return [t for t in ax.texts if isinstance(t, Annotation)]


def _points(ax) -> list[PathCollection]:
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def test_one_dimensional_shrinkage_plot(sleep_fit: hb.Fit, save_png):
    fig, axes = sleep_fit.plot_pooling()
    table = sleep_fit.pooling()
    assert len(axes) == 2
    for ax, term, label in zip(
        axes, ["Intercept", "Days"], ["Intercept", "Days slope"], strict=True
    ):
        assert ax.get_ylabel() == label
        assert len(_arrows(ax)) == 18
        own, partial = _points(ax)
        part = table[table["term"] == term].sort_values("no_pool")
        np.testing.assert_allclose(own.get_offsets()[:, 1], part["no_pool"])
        np.testing.assert_allclose(partial.get_offsets()[:, 1], part["partial"])
        arrow = _arrows(ax)[0]
        assert arrow.xyann[1] == pytest.approx(part["no_pool"].iloc[0])
        assert arrow.xy[1] == pytest.approx(part["partial"].iloc[0])
        # the population value is the same for every subject: one horizontal line
        assert len(ax.lines) == 1
        assert ax.lines[0].get_ydata()[0] == pytest.approx(part["population"].iloc[0])
        assert [t.get_text() for t in ax.get_xticklabels()] == part["group"].tolist()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["no pooling (own fit)", "partial pooling", "population", "n = 10"]
    save_png(fig)


def test_marker_size_grows_with_n_and_population_differs_by_county(radon_fit: hb.Fit):
    _fig, axes = radon_fit.plot_pooling(order="n")
    ax = axes[0]
    assert len(_arrows(ax)) == 85
    population, _own, partial = _points(ax)
    assert population.get_offsets().shape == (85, 2)  # one tick per county (uranium differs)
    sizes = partial.get_sizes()
    assert np.all(np.diff(sizes) >= 0) and sizes[-1] > 10 * sizes[0]
    assert ax.get_xlabel() == "county, sorted by group size"


def test_two_dimensional_shrinkage_plot(sleep_fit: hb.Fit, save_png):
    fig, axes = sleep_fit.plot_pooling(kind="2d", levels=(0.5, 0.8, 0.95))
    ax = axes[0]
    assert len(axes) == 1
    assert len(_arrows(ax)) == 18
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 3
    table = sleep_fit.fixef()
    np.testing.assert_allclose(ellipses[0].center, table["mean"], rtol=1e-12)
    widths = [e.width for e in ellipses]
    assert widths == sorted(widths)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Intercept", "Days slope")
    # the ellipses are outlines drawn above every group's points
    points = _points(ax)
    assert min(e.get_zorder() for e in ellipses) > max(p.get_zorder() for p in points[:2])
    save_png(fig)


def test_bad_arguments(sleep_fit: hb.Fit, radon_fit: hb.Fit):
    with pytest.raises(hb.SummaryError, match="kind must be '1d' or '2d'"):
        sleep_fit.plot_pooling(kind="3d")
    with pytest.raises(hb.SummaryError, match="order must be one of"):
        sleep_fit.plot_pooling(order="size")
    with pytest.raises(hb.SummaryError, match="choose among the varying coefficients of Subject"):
        sleep_fit.plot_pooling(terms=["Nights"])
    with pytest.raises(hb.SummaryError, match="kind='2d' needs two varying coefficients"):
        radon_fit.plot_pooling(kind="2d")
    with pytest.raises(hb.SummaryError, match="levels must be probabilities"):
        sleep_fit.plot_pooling(kind="2d", levels=(0.5, 1.5))


def test_groups_without_no_pooling_estimate_have_no_arrow():
    df = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 2.0, 4.0, 5.0, 7.0],
            "x": [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 1.0],
            "g": ["a", "a", "a", "b", "b", "b", "c"],
        }
    )
    fit = synthetic_fit(hb.Model("y ~ x + (1 + x | g)", data=df), seed=1)
    _fig, axes = fit.plot_pooling()
    for ax in axes:
        assert len(_arrows(ax)) == 2
        own, partial = _points(ax)
        assert len(own.get_offsets()) == 2 and len(partial.get_offsets()) == 3
        assert ax.get_xlabel().endswith(
            "1 group(s) without a no-pooling estimate: partial pooling only"
        )
    _fig, axes = fit.plot_pooling(kind="2d")
    assert len(_arrows(axes[0])) == 2
