"""plot_caterpillar(): sorted group deviations with their HDIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_fit
from matplotlib.collections import LineCollection, PathCollection

import hierbayes as hb

pytestmark = pytest.mark.slow


def test_panels_sorted_by_the_first_coefficient(sleep_fit: hb.Fit, save_png):
    fig, axes = sleep_fit.plot_caterpillar()
    ranef = sleep_fit.ranef()
    intercepts = ranef[ranef["term"] == "Intercept"].sort_values("mean")
    assert [ax.get_title() for ax in axes] == ["Intercept", "Days slope"]
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    assert labels == intercepts["group"].tolist()
    for ax, term in zip(axes, ["Intercept", "Days"], strict=True):
        bars = [c for c in ax.collections if isinstance(c, LineCollection)]
        dots = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(bars) == 1 and len(bars[0].get_segments()) == 18
        assert len(dots) == 1
        part = ranef[ranef["term"] == term].set_index("group").loc[labels]
        np.testing.assert_allclose(dots[0].get_offsets()[:, 0], part["mean"])
        np.testing.assert_allclose([s[0, 0] for s in bars[0].get_segments()], part["hdi_3%"])
        assert len(ax.lines) == 1  # the zero line
    save_png(fig)


def test_choose_terms_sorting_and_factor(sleep_fit: hb.Fit):
    _fig, axes = sleep_fit.plot_caterpillar(terms="Days", sort_by="Days", prob=0.8)
    assert len(axes) == 1
    ranef = sleep_fit.ranef(prob=0.8)
    days = ranef[ranef["term"] == "Days"].sort_values("mean")
    assert [t.get_text() for t in axes[0].get_yticklabels()] == days["group"].tolist()
    assert axes[0].get_xlabel() == "deviation from population (80% HDI)"
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=40),
            "f": rng.choice(list("abc"), 40),
            "h": rng.choice(list("de"), 40),
        }
    )
    fit = synthetic_fit(hb.Model("y ~ 1 + (1 | f) + (1 | h)", data=df), seed=0)
    _fig, axes = fit.plot_caterpillar(factor="h")
    assert axes[0].get_ylabel() == "h (sorted by Intercept)"
    with pytest.raises(hb.SummaryError, match="several grouping factors"):
        fit.plot_caterpillar()


def test_bad_arguments(sleep_fit: hb.Fit):
    with pytest.raises(hb.SummaryError, match="choose among the varying coefficients"):
        sleep_fit.plot_caterpillar(terms=["x"])
    with pytest.raises(hb.SummaryError, match="sort_by='x' is not a varying coefficient"):
        sleep_fit.plot_caterpillar(sort_by="x")
    with pytest.raises(hb.SummaryError, match="Unknown grouping factor 'school'"):
        sleep_fit.plot_caterpillar(factor="school")
    with pytest.raises(ValueError, match="prob must be a number between 0 and 1"):
        sleep_fit.plot_caterpillar(prob=1.5)


def test_many_groups_label_the_five_highest_and_lowest():
    from fakes import fake_fit

    rng = np.random.default_rng(5)
    data = pd.DataFrame(
        {"y": rng.normal(size=480), "x": rng.normal(size=480), "g": np.repeat(np.arange(160), 3)}
    )
    fit = fake_fit(hb.Model("y ~ x + (1 + x | g)", data=data), draws=40)
    _fig, axes = fit.plot_caterpillar()
    table = fit.ranef()
    assert [ax.get_title() for ax in axes] == ["Intercept", "x slope"]
    assert len(axes[0].get_yticklabels()) == 0  # too many groups for tick labels
    for ax, term in zip(axes, ["Intercept", "x"], strict=True):
        means = table[table["term"] == term].sort_values("mean")
        expected = set(means["group"].head(5)) | set(means["group"].tail(5))
        assert {t.get_text() for t in ax.texts} == expected
        # each label sits on its group's row
        order = table[table["term"] == "Intercept"].sort_values("mean")["group"].tolist()
        for text in ax.texts:
            assert text.xy[1] == order.index(text.get_text())
