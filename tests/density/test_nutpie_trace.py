"""The draws and statistics read from nutpie's raw trace equal nutpie's own conversion."""

from __future__ import annotations

import numpy as np
import nutpie
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.nutpie_trace import draws_and_stats


@pytest.fixture(scope="module")
def model(sleep: pd.DataFrame) -> object:
    return hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep).compiled_density()


def _sample(model: object, **kwargs: object) -> object:
    return nutpie.sample(
        model.nutpie_model,
        draws=60,
        tune=40,
        chains=2,
        cores=1,
        seed=3,
        save_warmup=False,
        progress_bar=False,
        **kwargs,
    )


def test_draws_and_stats_equal_nutpies_conversion(model: object) -> None:
    reference = _sample(model)
    x, stats = draws_and_stats(_sample(model, return_raw_trace=True), "x__")
    expected = reference["posterior"]["x__"].transpose("chain", "draw", ...).values
    assert x.shape == expected.shape == (2, 60, 6)
    np.testing.assert_array_equal(x, expected)  # the same draws, warm-up left out
    nutpies = reference["sample_stats"].to_dataset()
    scalar = [v for v in nutpies.data_vars if set(nutpies[v].dims) <= {"chain", "draw"}]
    assert sorted(stats.data_vars) == sorted(scalar)
    for name in scalar:
        ours, theirs = stats[name], nutpies[name].transpose("chain", "draw")
        assert ours.dtype == theirs.dtype, name
        if ours.dtype.kind == "f":
            np.testing.assert_array_equal(ours.values, theirs.values, err_msg=name)
        else:
            assert ours.values.tolist() == theirs.values.tolist(), name
    assert not stats["tuning"].values.any()  # only the draws after tuning
    assert stats.sizes == {"chain": 2, "draw": 60}
