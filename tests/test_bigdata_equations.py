"""Equations of a model fitted from Dask data (hierbayes.bigdata_equations) against the same
model in memory."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np

import hierbayes as hb
from tests.test_bigdata import _nested_data


def test_equations_place_predictors_at_the_levels_of_the_in_memory_model() -> None:
    # ses varies between schools only, csize between classes only: found from the Dask rows
    data = _nested_data()
    schools, classes = data.school.unique(), data.cls.unique()
    ses = np.linspace(-1, 1, len(schools))
    data["ses"] = data.school.map(dict(zip(schools, ses, strict=True)))
    csize = np.arange(len(classes)) % 7 + 15.0
    data["csize"] = data.cls.map(dict(zip(classes, csize, strict=True)))
    formula = "y ~ x * ses + csize + (1 + x | school/cls)"
    dask = hb.Model(formula, data=dd.from_pandas(data, npartitions=3))
    memory = hb.Model(formula, data=data)
    text = str(dask.equations(priors=False))
    assert text == str(memory.equations(priors=False))
    assert "β_00k = γ_000 + γ_001·ses_k" in text and "β_01k·csize_jk" in text, text
