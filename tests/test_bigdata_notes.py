"""Fits from Dask data get the notes of in-memory fits where their statistics tell, the same
words; nothing where they cannot."""

from __future__ import annotations

import warnings

import dask.dataframe as dd
import pandas as pd
import pytest
import xarray as xr

import hierbayes as hb
from hierbayes.bigdata import _starts
from hierbayes.bigdata_notes import statistics_notes
from hierbayes.errors import RowsNotKeptError
from hierbayes.uncentred_note import uncentred_slope_notes


@pytest.fixture(scope="module")
def sleep() -> pd.DataFrame:
    # Day20 lies 8.5 SDs from 0; 'late' is a 0/1 column whose mean is 0.9 (3 SDs from 0)
    data = hb.datasets.load("sleepstudy")
    return data.assign(Day20=data["Days"] + 20, late=(data["Days"] > 0).astype(float))


def _notes(formula: str, data: pd.DataFrame) -> tuple[str, ...]:
    model = hb.Model(formula, data=dd.from_pandas(data, npartitions=3))
    starts = _starts(model.design, model._terms)
    return statistics_notes(model.design, starts, xr.Dataset(), model.prior_values)


@pytest.mark.parametrize(
    ("formula", "noted"),
    [
        ("Reaction ~ Day20 + (1 + Day20 | Subject)", True),  # far from 0
        ("Reaction ~ Days + (1 + Days | Subject)", False),  # near 0
        ("Reaction ~ late + (1 + late | Subject)", False),  # a 0/1 column
        ("Reaction ~ Day20 + (1 + Day20 || Subject)", False),  # uncorrelated
    ],
)
def test_slope_notes_from_statistics_equal_the_in_memory_ones(sleep, formula, noted) -> None:
    memory = uncentred_slope_notes(hb.Model(formula, data=sleep).design)
    assert _notes(formula, sleep) == memory
    assert ("8.5 SDs from the mean of Day20 (24.5)" in "".join(memory)) == noted


FAR = "Reaction ~ Day20 + (1 + Day20 | Subject)"


@pytest.fixture(scope="module")
def dask_fit(sleep) -> hb.Fit:
    model = hb.Model(FAR, data=dd.from_pandas(sleep, npartitions=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(draws=50, tune=50, chains=1, random_seed=1, progressbar=False)


def test_a_fit_from_dask_data_reports_the_note(sleep, dask_fit) -> None:
    (note,) = uncentred_slope_notes(hb.Model(FAR, data=sleep).design)
    assert note in dask_fit.diagnostics.notes
    assert note in str(dask_fit.summary())
    assert "  effects      Subject: integrated out, drawn exactly afterwards" in repr(dask_fit)
    assert "  draws        1 chain x 50 draws" in repr(dask_fit)


def test_plots_over_the_rows_are_refused_with_a_typed_error(dask_fit) -> None:
    with pytest.raises(RowsNotKeptError, match=r"fit.plot_group_lines\(\) \(its points\)"):
        dask_fit.plot_group_lines()
    with pytest.raises(RowsNotKeptError, match=r"fit.plot_new_groups\(\) \(its points\)"):
        dask_fit.plot_new_groups(3)
