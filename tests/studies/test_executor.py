"""The executor: seeds, failures, and bit-identical results serially and on a dask cluster."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.studies.executor import (
    CHUNKS_PER_WORKER,
    ReplicateFailure,
    chunk_starts,
    failures_table,
    fit_cores,
    replicate_seeds,
    run_replicates,
)

SETTINGS = {"draws": 100, "tune": 100, "chains": 2, "progressbar": False}


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three is not allowed")
    return x * x


def test_seeds_are_spawned_children_and_do_not_depend_on_n():
    seeds = replicate_seeds(5, 4)
    expected = [
        int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(5).spawn(4)
    ]
    assert seeds == expected
    assert replicate_seeds(5, 10)[:4] == seeds
    assert len(set(replicate_seeds(5, 100))) == 100


@pytest.mark.parametrize(("n", "workers"), [(1, 2), (7, 2), (40, 2), (200, 2), (1000, 8)])
def test_chunks_cover_every_replicate_once_and_shrink(n: int, workers: int):
    starts = chunk_starts(n, workers)
    sizes = np.diff([*starts, n])
    assert starts[0] == 0 and sizes.sum() == n and (sizes >= 1).all()
    assert (np.diff(sizes) <= 0).all()  # never a larger chunk after a smaller one
    # the first chunks carry about 1 / (chunks per worker x workers) of the work each
    assert sizes[0] == -(-n // (CHUNKS_PER_WORKER * workers))
    assert sizes[-1] == 1


def test_a_failed_replicate_is_reported_not_dropped():
    results = run_replicates(_fail_on_three, [1, 2, 3, 4], progressbar=False)
    assert results[:2] == [1, 4] and results[3] == 16
    failure = results[2]
    assert isinstance(failure, ReplicateFailure)
    assert failure.index == 2 and failure.error == "ValueError"
    assert "three is not allowed" in failure.traceback
    table = failures_table(results)
    assert table.to_dict("records") == [
        {"replicate": 2, "error": "ValueError", "message": "three is not allowed"}
    ]


@pytest.mark.slow
def test_cluster_reports_failures_in_task_order(dask_client):
    results = run_replicates(_fail_on_three, [3, 1, 2], client=dask_client, progressbar=False)
    assert isinstance(results[0], ReplicateFailure) and results[0].index == 0
    assert results[1:] == [1, 4]
    # replicates travel in chunks; a failure inside a chunk keeps its own index
    chunked = run_replicates(
        _fail_on_three, [1, 2, 4, 3, 5], client=dask_client, progressbar=False, chunk_size=2
    )
    assert chunked[:3] == [1, 4, 16] and chunked[4] == 25
    assert isinstance(chunked[3], ReplicateFailure) and chunked[3].index == 3


def _threads_here(_: int) -> tuple[int | None, int]:
    from threadpoolctl import threadpool_info

    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return fit_cores(None), max(blas, default=1)


@pytest.mark.slow
def test_a_worker_fits_on_its_share_of_the_machine(dask_client):
    # 2 single-threaded workers on this machine: each gets half its cores, for the sampler's
    # chains and for BLAS; in-process a fit keeps its own default (all cores)
    share = max(1, os.cpu_count() // 2)
    results = run_replicates(_threads_here, [0, 1, 2], client=dask_client, progressbar=False)
    assert all(cores == share and blas <= share for cores, blas in results), results
    assert run_replicates(_threads_here, [0], progressbar=False)[0][0] is None
    assert fit_cores(3) == 3


@pytest.mark.slow
def test_sbc_is_bit_identical_serially_and_on_a_cluster(gaussian_tiny: hb.Model, dask_client):
    serial = hb.sbc(gaussian_tiny, n=6, random_seed=11, **SETTINGS)
    distributed = hb.sbc(gaussian_tiny, n=6, random_seed=11, client=dask_client, **SETTINGS)
    pd.testing.assert_frame_equal(serial.ranks, distributed.ranks, check_exact=True)
    pd.testing.assert_frame_equal(serial.truths, distributed.truths, check_exact=True)
    other = hb.sbc(gaussian_tiny, n=6, random_seed=12, **SETTINGS)
    assert not np.array_equal(other.ranks["true"], serial.ranks["true"])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::hierbayes.errors.ConvergenceWarning")
def test_kfold_is_bit_identical_serially_and_on_a_cluster(gaussian_tiny: hb.Model, dask_client):
    fit = quiet_fit(gaussian_tiny, draws=100, tune=100, chains=2, random_seed=1)
    serial = fit.kfold(k=3, random_seed=4)
    distributed = fit.kfold(k=3, random_seed=4, client=dask_client)
    pd.testing.assert_frame_equal(serial.pointwise, distributed.pointwise, check_exact=True)
    assert serial.elpd == distributed.elpd and serial.se == distributed.se
