"""fit.plot_effects(): lines with bands for a numeric predictor, points for a categorical one."""

from __future__ import annotations

import matplotlib.pyplot as plt

import hierbayes as hb


def test_plot_effects(hsb_small_fit: hb.Fit, save_png) -> None:
    fig, axes = hsb_small_fit.plot_effects("cses", by="sector")
    assert len(axes[0].get_lines()) == 2
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == [
        "sector = Catholic",
        "sector = Public",
    ]
    save_png(fig)
    plt.close(fig)
    fig, axes = hsb_small_fit.plot_effects("sector")
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["Catholic", "Public"]
    plt.close(fig)
