"""ArviZ's plots work directly on fit.idata and label panels with the model's names."""

from __future__ import annotations

import arviz_plots as azp
import pytest

import hierbayes as hb

pytestmark = pytest.mark.slow


def _titles(pc) -> list[str]:
    fig = pc.viz["figure"].item()
    return [ax.get_title() for ax in fig.axes]


def test_trace_rank_and_forest_plots(sleep_fit: hb.Fit, tmp_path):
    pc = azp.plot_trace(sleep_fit.idata, var_names=["b", "sd|Subject", "sigma"])
    titles = _titles(pc)
    assert "b\nIntercept" in titles and "sd|Subject\nDays" in titles and "sigma" in titles
    pc = azp.plot_rank(sleep_fit.idata, var_names=["b", "sigma"])
    assert "b\nDays" in _titles(pc)
    pc = azp.plot_forest(sleep_fit.idata, var_names=["u|Subject"])
    fig = pc.viz["figure"].item()
    labels = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"308", "Intercept", "Days", "u|Subject"} <= labels
    pc.savefig(tmp_path / "forest.png")
    assert (tmp_path / "forest.png").stat().st_size > 0
