"""Building and fitting a model on one BLAS thread (hierbayes.blas): the same numbers, bit for
bit, as on BLAS's own threads, and the thread pools given back afterwards."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import hierbayes as hb
from hierbayes import loglik
from hierbayes.blas import one_blas_thread

FORMULA = "use ~ urban + age + livch + (1 + urban | district)"


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture(scope="module")
def contraception() -> pd.DataFrame:
    path = Path(__file__).parent / "data" / "contraception.csv"
    return pd.read_csv(path, dtype={"district": str})


def _fit(data: pd.DataFrame, unlimited: bool) -> tuple[hb.Model, hb.Fit]:
    """A seeded fit of mlmRev's Contraception model (1,934 rows); ``unlimited``: without the
    one-thread limit, on at least 2 BLAS threads."""
    settings = {"draws": 100, "tune": 100, "chains": 2, "random_seed": 3, "progressbar": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.ConvergenceWarning)
        if not unlimited:
            model = hb.Model(FORMULA, data, family="bernoulli")
            return model, model.fit(**settings)
        with threadpool_limits(limits=max(2, os.cpu_count() or 1), user_api="blas"):
            model = hb.Model.__new__(hb.Model)
            hb.Model.__init__.__wrapped__(model, FORMULA, data, family="bernoulli")
            return model, hb.Model.fit.__wrapped__(model, **settings)


def test_a_fit_on_one_blas_thread_equals_one_on_blas_threads(contraception) -> None:
    one_model, one = _fit(contraception, unlimited=False)
    many_model, many = _fit(contraception, unlimited=True)
    assert one_model.parameterization == many_model.parameterization
    for group in ("posterior", "log_likelihood", "sample_stats"):
        a, b = one.idata[group].to_dataset(), many.idata[group].to_dataset()
        assert list(a.data_vars) == list(b.data_vars)
        for name in a.data_vars:
            x, y = a[name].values, b[name].values
            nan = x.dtype.kind == "f"
            assert np.array_equal(x, y, equal_nan=nan), (group, name)
    mine, theirs = one.summary(), many.summary()
    pd.testing.assert_frame_equal(mine.fixed, theirs.fixed)
    pd.testing.assert_frame_equal(mine.random, theirs.random)
    assert str(mine) == str(theirs)
    assert one.diagnostics.min_ess_bulk == many.diagnostics.min_ess_bulk


def test_model_and_fit_run_on_one_blas_thread_and_give_the_pools_back(
    contraception, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    original = loglik.pointwise_log_likelihood

    def recording(*args, **kwargs):
        seen.extend(_blas_threads())
        return original(*args, **kwargs)

    import hierbayes.model as model_module

    monkeypatch.setattr(model_module, "pointwise_log_likelihood", recording)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        _fit(contraception.iloc[:400], unlimited=False)
        assert _blas_threads() == before  # restored
    assert seen and set(seen) == {1}


def test_one_blas_thread_keeps_the_name_signature_and_errors() -> None:
    @one_blas_thread
    def fails(x: int) -> int:
        """Doc."""
        raise ValueError(f"bad {x}")

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        with pytest.raises(ValueError, match="bad 3"):
            fails(3)
        assert _blas_threads() == before
    assert fails.__name__ == "fails" and fails.__doc__ == "Doc."
