"""plot_new_groups(): sampled level-2 values, colouring by a level-2 predictor, a visible band
and readable titles (hand-made posteriors, no sampling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba

import hierbayes as hb
from hierbayes.errors import SummaryError
from hierbayes.predict import predict, simulate_new_groups


@pytest.fixture(scope="module")
def schools_fit() -> hb.Fit:
    rng = np.random.default_rng(7)
    school = np.repeat(np.arange(1, 9), 6)
    students = pd.DataFrame(
        {"y": rng.normal(size=48), "cses": rng.normal(size=48), "school": school}
    )
    schools = pd.DataFrame(
        {
            "school": np.arange(1, 9),
            "meanses": np.linspace(-1, 1, 8) - 0.00619,
            "sector": ["Public", "Catholic", "Public", "Public"] * 2,
        }
    )
    model = hb.Model(
        "y ~ cses * (meanses + sector) + (1 + cses | school)",
        data=students,
        level2={"school": schools},
    )
    return fake_fit(model, draws=200, sd={"school": [1.5, 0.4]}, rho={"school": -0.5})


def _bands(ax) -> list[PolyCollection]:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_level2_sample_draws_each_group_from_a_fitted_group(schools_fit: hb.Fit) -> None:
    _fig, axes = schools_fit.plot_new_groups(n_groups=20, level2="sample", random_seed=3)
    ax = axes[0]
    title = ax.get_title()
    assert "sampled from the fitted schools" in title
    assert "meanses at its mean" in title and "-0.00619" not in title
    # the fan is the simulation with the same seed and level2="sample"
    grid = ax.lines[0].get_xdata()
    sim = simulate_new_groups(
        schools_fit,
        20,
        x=pd.DataFrame({"cses": grid}),
        level2="sample",
        random_seed=np.random.default_rng(3),
    )
    assert sim.groups["sector"].nunique() == 2
    for line, (_, rows) in zip(ax.lines[:20], sim.data.groupby("group", sort=False), strict=True):
        np.testing.assert_allclose(line.get_ydata(), rows["mean"].to_numpy())


def test_by_a_categorical_level2_predictor(schools_fit: hb.Fit) -> None:
    _fig, axes = schools_fit.plot_new_groups(n_groups=30, by="sector", random_seed=4)
    ax = axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    counts = {label.split(" = ")[1].split(" (")[0]: label for label in labels if "=" in label}
    assert set(counts) == {"Catholic", "Public"}
    n = sum(int(label.split("(")[1].split(" ")[0]) for label in counts.values())
    assert n == 30
    assert "average group with its 94% HDI (thick line, band)" in labels
    # each sector gets its own average line (drawn last, above its band) at its own value
    thick = [line for line in ax.lines if line.get_linewidth() == 2.5]
    assert len(thick) == 2
    grid = thick[0].get_xdata()
    for line, sector in zip(thick, ["Catholic", "Public"], strict=True):
        meanses = schools_fit.design.data.groupby("school")["meanses"].first().mean()
        rows = pd.DataFrame({"cses": grid, "meanses": meanses, "sector": sector})
        expected = predict(schools_fit, rows, groups="population", summary=True)["mean"]
        np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
    # the fan's colours are those of the groups' sectors
    fan = ax.lines[:30]
    colours = {to_rgba(line.get_color()) for line in fan}
    assert colours == {to_rgba(line.get_color()) for line in thick}


def test_hdi_band_is_drawn_above_the_fan_and_visible(schools_fit: hb.Fit) -> None:
    _fig, axes = schools_fit.plot_new_groups(n_groups=50, random_seed=1)
    ax = axes[0]
    (band,) = _bands(ax)
    fan_z = max(line.get_zorder() for line in ax.lines[:50])
    assert band.get_zorder() > fan_z
    assert band.get_alpha() >= 0.3
    legend = ax.get_legend()
    assert "94% HDI of the average group" in [t.get_text() for t in legend.get_texts()]


def test_by_a_numeric_level2_predictor_adds_a_colourbar(schools_fit: hb.Fit) -> None:
    fig, _axes = schools_fit.plot_new_groups(n_groups=10, by="meanses", random_seed=2)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_ylabel() == "meanses of the new group"


def test_title_formats_given_values(schools_fit: hb.Fit) -> None:
    _fig, axes = schools_fit.plot_new_groups(
        n_groups=5, level2={"meanses": -0.0061912345}, random_seed=1
    )
    title = axes[0].get_title()
    assert "meanses = -0.00619" in title and "sector = Public" in title
    _fig, axes = schools_fit.plot_new_groups(n_groups=5, level2={"meanses": -0.0}, random_seed=1)
    assert "meanses = 0;" in axes[0].get_title()


def test_bad_by_and_level2(schools_fit: hb.Fit) -> None:
    with pytest.raises(SummaryError, match="by='cses' is not a level-2 predictor"):
        schools_fit.plot_new_groups(by="cses")
    with pytest.raises(SummaryError, match="level2= holds it at 'Public'"):
        schools_fit.plot_new_groups(by="sector", level2={"sector": "Public"})
    with pytest.raises(SummaryError, match="the level2= table has no column 'sector'"):
        schools_fit.plot_new_groups(
            n_groups=2, by="sector", level2=pd.DataFrame({"meanses": [0.0, 1.0]})
        )
    with pytest.raises(SummaryError, match="level2 must be a dict, a DataFrame or 'sample'"):
        schools_fit.plot_new_groups(level2="all")


def test_by_with_a_level2_table(schools_fit: hb.Fit) -> None:
    table = pd.DataFrame({"meanses": [0.0, 0.5, 1.0], "sector": ["Public", "Public", "Catholic"]})
    _fig, axes = schools_fit.plot_new_groups(n_groups=3, by="sector", level2=table, random_seed=1)
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert (
        "sector = Public (2 new groups)" in labels and "sector = Catholic (1 new group)" in labels
    )
    assert "level-2 predictors as given" in axes[0].get_title()
