"""plot_group_lines(): one panel per group with data, three lines and a band."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_fit
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure

import hierbayes as hb
from hierbayes.plots import plot_group_lines

pytestmark = pytest.mark.slow


def test_panels_lines_band_and_points(sleep_fit: hb.Fit, save_png):
    fig, axes = sleep_fit.plot_group_lines("Days", groups=["308", "309", "310"])
    assert isinstance(fig, Figure)
    assert len(axes) == 3 and len(fig.axes) == 3
    for ax, subject in zip(axes, ["308", "309", "310"], strict=True):
        assert ax.get_title() == f"Subject {subject} (n = 10)"
        assert len(ax.lines) == 3  # partial pooling, no pooling, population
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(points) == 1 and points[0].get_offsets().shape == (10, 2)
        assert len(bands) == 1
        styles = sorted(line.get_linestyle() for line in ax.lines)
        assert styles == ["-", "--", ":"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "data", "no pooling", "partial pooling", "94% HDI", "population",
    ]  # fmt: skip
    assert axes[0].get_xlabel() == "Days" and axes[0].get_ylabel() == "Reaction"
    save_png(fig)


def test_partial_line_is_the_posterior_mean_line(sleep_fit: hb.Fit):
    _fig, axes = plot_group_lines(sleep_fit, "Days", groups=["335"], grid=[0, 9])
    table = sleep_fit.group_lines("Days", grid=[0, 9], groups=["335"])
    solid = next(line for line in axes[0].lines if line.get_linestyle() == "-")
    np.testing.assert_allclose(solid.get_ydata(), table["mean"])


def test_default_selection_spans_group_sizes(radon_fit: hb.Fit):
    _fig, axes = radon_fit.plot_group_lines(max_groups=6, ncols=3)
    sizes = hb.datasets.load("radon")["county"].value_counts()
    titles = [ax.get_title() for ax in axes]
    assert len(axes) == 6
    assert titles[0].endswith("(n = 1)") and titles[-1].endswith(f"(n = {sizes.max()})")
    assert axes[0].get_xlabel() == "" and axes[3].get_xlabel() == "basement"


def test_unidentified_no_pooling_line_is_left_out():
    df = pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, 2.0, 4.0, 5.0, 7.0],
            "x": [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 1.0],
            "g": ["a", "a", "a", "b", "b", "b", "c"],
        }
    )
    fit = synthetic_fit(hb.Model("y ~ x + (1 + x | g)", data=df), seed=1)
    _fig, axes = plot_group_lines(fit)
    assert [len(ax.lines) for ax in axes] == [3, 3, 2]
    assert axes[2].get_title() == "g c (n = 1)\nno-pooling fit not identified"


def test_bad_arguments(sleep_fit: hb.Fit):
    with pytest.raises(hb.SummaryError, match="max_groups must be a positive integer"):
        sleep_fit.plot_group_lines(max_groups=0)
    with pytest.raises(hb.SummaryError, match="Unknown Subject '999'"):
        sleep_fit.plot_group_lines(groups=["999"])
    with pytest.raises(hb.SummaryError, match="x='Reaction' is not a predictor"):
        sleep_fit.plot_group_lines("Reaction")
    with pytest.raises(hb.SummaryError, match="ncols must be a positive integer"):
        sleep_fit.plot_group_lines(ncols=0)


@pytest.fixture(scope="module")
def level2_fit() -> hb.Fit:
    from fakes import fake_fit

    rng = np.random.default_rng(3)
    school = np.repeat(np.arange(1, 7), 5)
    students = pd.DataFrame(
        {"y": rng.normal(size=30), "cses": rng.normal(size=30), "school": school}
    )
    schools = pd.DataFrame({"school": np.arange(1, 7), "meanses": np.linspace(-1, 1, 6)})
    model = hb.Model(
        "y ~ cses + meanses + (1 + cses | school)", data=students, level2={"school": schools}
    )
    return fake_fit(model, draws=50)


def test_level2_predictor_is_refused_and_level1_ones_are_named(level2_fit: hb.Fit):
    message = (
        r"x='meanses' is constant within every school \(a level-2 predictor\).*"
        r"level-1 predictor that varies within schools: use one of cses\."
    )
    with pytest.raises(hb.SummaryError, match=message):
        level2_fit.plot_group_lines("meanses")
    with pytest.raises(hb.SummaryError, match=message):
        level2_fit.group_lines("meanses")
    _fig, axes = level2_fit.plot_group_lines(max_groups=2)
    assert axes[-1].get_xlabel() == "cses"


def test_no_level1_predictor_says_so_without_suggesting_x():
    from fakes import fake_fit

    data = pd.DataFrame(
        {"y": [1.0, 2.0, 3.0, 2.0, 4.0, 5.0], "z": [0.5] * 3 + [1.5] * 3, "g": list("aaabbb")}
    )
    fit = fake_fit(hb.Model("y ~ z + (1 | g)", data=data), draws=20)
    with pytest.raises(hb.SummaryError, match=r"z is constant within every g \(level-2\)") as err:
        fit.plot_group_lines()
    assert "x=" not in str(err.value)
