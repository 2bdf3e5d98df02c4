"""Summaries of a fit from Dask data computed from its sufficient statistics
(hierbayes.bigdata_summaries) against the same model fitted in memory."""

from __future__ import annotations

import dask.dataframe as dd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from helpers import SLEEP_FORMULA

import hierbayes as hb
from hierbayes.bigdata import StatisticsFit
from hierbayes.bigdata_summaries import _no_pooling
from hierbayes.errors import RowsNotKeptError
from hierbayes.summaries.nopool import no_pooling
from hierbayes.summaries.population import population_map
from hierbayes.summaries.posterior import factor_blocks
from tests.test_bigdata import _simulated


def test_r2_pooling_and_shrinkage_from_statistics_equal_the_in_memory_ones(
    dask_fits: dict[str, hb.Fit],
) -> None:
    # the same draws (one partition): the sums of squares give the rows' numbers to rounding
    one, memory, three = dask_fits["one"], dask_fits["memory"], dask_fits["three"]
    for name in ("r2", "pooling", "shrinkage"):
        expected = getattr(memory, name)()
        pd.testing.assert_frame_equal(getattr(one, name)(), expected, rtol=1e-9)
    fig, axes = one.plot_pooling(kind="2d")  # drawn from the same table
    assert axes.size >= 1
    plt.close(fig)
    # other partitions: the no- and complete-pooling fits read the same sums
    ours, expected = three.pooling(), memory.pooling()
    for column in ("n", "no_pool", "complete_pool"):
        np.testing.assert_allclose(ours[column], expected[column], rtol=1e-9)
    # other partitions' sums (equal to rounding) with the in-memory draws: its R² to rounding
    same_draws = StatisticsFit(
        idata=memory.idata, model=three.model, diagnostics=memory.diagnostics, sampler="nutpie"
    )
    pd.testing.assert_frame_equal(same_draws.r2(), memory.r2(), rtol=1e-9)


def test_no_pooling_from_statistics_gives_the_in_memory_estimates_and_reasons() -> None:
    data = _simulated()
    data.loc[data.g == "s3", "x"] = 2.0  # x does not vary within s3
    data = pd.concat([data[data.g != "s5"], data[data.g == "s5"].iloc[:1]], ignore_index=True)
    formula = "y ~ x + (1 + x | g)"
    memory = hb.Model(formula, data=data, offset="off")
    dask = hb.Model(formula, data=dd.from_pandas(data, npartitions=3), offset="off")
    fb = factor_blocks(memory.design)
    expected = no_pooling(memory.design, fb, population_map(memory.design, fb))
    ours = _no_pooling(dask.design, factor_blocks(dask.design))
    assert ours.reasons == expected.reasons
    assert "1 observation(s) for 2 coefficients" in ours.reasons
    assert any(r.startswith("the group's data cannot separate") for r in ours.reasons)
    np.testing.assert_allclose(ours.estimates, expected.estimates, rtol=1e-9)


def test_summaries_the_statistics_do_not_determine_are_refused(sleep: pd.DataFrame) -> None:
    ddf = dd.from_pandas(sleep.assign(off=sleep.Days / 10), npartitions=2)

    def unfitted(formula: str, **kwargs: str) -> StatisticsFit:  # refused before any draw
        model = hb.Model(formula, data=ddf, **kwargs)
        return StatisticsFit(idata=None, model=model, diagnostics=None, sampler="nutpie")

    with pytest.raises(RowsNotKeptError, match=r"r2\(\).*offset's sums.*sample"):
        unfitted(SLEEP_FORMULA, offset="off").r2()
    with pytest.raises(RowsNotKeptError, match=r"r2\(\).*needs an intercept"):
        unfitted("Reaction ~ 0 + Days + (1 | Subject)").r2()
    with pytest.raises(RowsNotKeptError, match=r"pooling\(\).*\['Days'\] vary within"):
        unfitted("Reaction ~ Days + (1 | Subject)").pooling()
    with pytest.raises(RowsNotKeptError, match=r"shrinkage\(\).*\['Days'\] vary within"):
        unfitted("Reaction ~ Days + (1 | Subject)").shrinkage()
