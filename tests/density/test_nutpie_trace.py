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


class _RawTrace:
    """A raw trace of two chains of 3 dimensions: the first with 2 tuning steps and 3 draws,
    the second interrupted during tuning (2 steps, no draw after them)."""

    def get_arrow_trace(self) -> tuple[list, list]:
        import pyarrow as pa

        def chain(tuning: list[bool], start: float) -> tuple:
            x = [[start + 3 * i + j for j in range(3)] for i in range(len(tuning))]
            draws = pa.RecordBatch.from_pydict({"x__": pa.array(x, pa.list_(pa.float64()))})
            logp = [-float(i) for i in range(len(tuning))]
            stats = pa.RecordBatch.from_pydict({"tuning": tuning, "logp": logp})
            return draws, stats

        one, two = chain([True, True, False, False, False], 0.0), chain([True, True], 100.0)
        return [one[0], two[0]], [one[1], two[1]]


def test_a_chain_with_no_draws_after_tuning_is_padded() -> None:
    x, stats = draws_and_stats(_RawTrace(), "x__")
    assert x.shape == (2, 3, 3)
    np.testing.assert_array_equal(x[0], np.arange(6, 15, dtype=float).reshape(3, 3))
    assert np.isnan(x[1]).all()  # padded as nutpie pads a chain that stopped early
    assert stats.sizes == {"chain": 2, "draw": 3}
    assert stats["logp"].values[0].tolist() == [-2.0, -3.0, -4.0]
    assert np.isnan(stats["logp"].values[1]).all()
