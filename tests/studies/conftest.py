"""Session-scoped tiny models for the simulation-study tests."""

from __future__ import annotations

import pytest
from study_models import tiny_model

import hierbayes as hb


@pytest.fixture(scope="session")
def gaussian_tiny() -> hb.Model:
    return tiny_model("gaussian", "x + (1 | g)", "marginal")


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster with 2 worker processes of one thread each."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
