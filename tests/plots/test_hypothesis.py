"""fit.plot_hypothesis(): prior and posterior densities of each hypothesis around 0."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from hierbayes.errors import SummaryError


def test_one_panel_per_hypothesis(hsb_small_fit, save_png) -> None:
    texts = ["cses - meanses = 0", "sd|school[cses] = 0.5", "cses:sector[T.Public] > 0"]
    table = hsb_small_fit.hypothesis(texts)
    fig, axes = hsb_small_fit.plot_hypothesis(texts)
    assert len(axes) == 3
    for ax, (label, row) in zip(axes, table.iterrows(), strict=True):
        title = ax.get_title()
        assert title.startswith(f"{label}\nP = {row['post_prob']:.3f}")
        assert ("BF01" in title) == label.endswith("= 0")
        assert [line.get_label() for line in ax.get_lines()[:2]] == ["posterior", "prior"]
    # an SD's densities are zero below its edge (d = -0.5 where the SD is 0)
    x, y = axes[1].get_lines()[0].get_data()
    assert (y[x < -0.5] == 0).all() and (y[x > -0.5] > 0).any()
    save_png(fig)
    plt.close(fig)


def test_bad_hypothesis_is_an_error(hsb_small_fit) -> None:
    with pytest.raises(SummaryError, match="names 'ses', which is not a parameter"):
        hsb_small_fit.plot_hypothesis("ses > 0")
