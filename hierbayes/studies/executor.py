"""Run independent replicates in this process or on a ``dask.distributed`` cluster.

A study (SBC, power, K-fold) is a list of small, picklable tasks: a recipe to build a model,
its data and a seed. :func:`run_replicates` maps one module-level function over them,
in-process by default or on the workers of a ``dask.distributed`` client, and gathers what
each returns (a small table, never a fitted model). Each replicate's seed comes from
``numpy.random.SeedSequence(random_seed).spawn``, so the results do not depend on where or in
which order replicates run: the same seed gives bit-identical tables serially and on any
cluster. A replicate that raises is reported as a :class:`ReplicateFailure` (which one, the
error and its traceback), never dropped.

Before mapping, every worker loads hierbayes's numba kernel once (:func:`warm_worker`); the
replicates a worker then runs reuse it. Replicates travel in chunks that shrink as the work
left shrinks (:func:`chunk_starts`), so that fits of a fraction of a second do not each pay
the scheduler's per-task cost, and no worker waits long for the other's last chunk.

Threads: in-process, a replicate's fit uses the machine as any fit does (its chains in
parallel). On a cluster the machine's cores are shared among the worker threads on it
(:func:`thread_budgets`): a replicate's fit runs its chains on its share (``cores=None``
resolves to it, :func:`fit_cores`) and BLAS is limited to it (threadpoolctl), so that two
workers on two cores do not each start two sampler and two BLAS threads.
"""

from __future__ import annotations

import math
import os
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: dask tasks per worker when replicates are grouped into chunks (see :func:`run_replicates`)
CHUNKS_PER_WORKER = 4

__all__ = [
    "ReplicateFailure",
    "chunk_starts",
    "failures_table",
    "fit_cores",
    "replicate_seeds",
    "run_replicates",
    "thread_budgets",
    "warm_worker",
]

#: ``threads``: cores a replicate's fit may use in this thread, set while a cluster worker runs
#: a chunk (its share of the machine, see :func:`thread_budgets`); unset in-process
_LOCAL = threading.local()


@dataclass(frozen=True)
class ReplicateFailure:
    """A replicate that raised: its index, the error's type and message, and the traceback."""

    index: int
    error: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"replicate {self.index} failed: {self.error}: {self.message}"


def replicate_seeds(random_seed: int | None, n: int) -> list[int]:
    """One integer seed per replicate, from ``SeedSequence(random_seed).spawn(n)``.

    Replicate ``i``'s seed does not depend on ``n``.

    Examples
    --------
    >>> replicate_seeds(1, 3) == replicate_seeds(1, 5)[:3]
    True
    """
    children = np.random.SeedSequence(random_seed).spawn(n)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]


_WARM = False


def warm_worker() -> bool:
    """Load hierbayes's numba kernel in this process (compiled, or read from the disk cache),
    and what a first fit loads (modules, cached numba functions), by fitting a tiny model, so
    that no replicate pays for them. Once per process: later calls return at once."""
    global _WARM
    if _WARM:
        return True
    import warnings

    from hierbayes.density.kernel import callbacks
    from hierbayes.model import Model

    callbacks()
    data = pd.DataFrame({"y": [0.1, 0.5, 1.2, 0.7, 0.3, 0.9], "g": list("aabbcc")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Model("y ~ 1 + (1 | g)", data).fit(
            draws=5, tune=5, chains=1, cores=1, random_seed=0, log_likelihood=False
        )
    _WARM = True
    return True


def chunk_starts(n: int, workers: int, smallest: int = 1) -> list[int]:
    """Where each chunk of ``n`` replicates starts, for ``workers`` workers: chunk sizes shrink
    as the work left shrinks (each about ``1 / (CHUNKS_PER_WORKER x workers)`` of what is left,
    at least ``smallest``), so that few tasks carry the bulk and the last ones are small and
    finish together on every worker ("guided" scheduling).

    Examples
    --------
    >>> chunk_starts(40, 2)
    [0, 5, 10, 14, 18, 21, 24, 26, 28, 30, 32, 33, 34, 35, 36, 37, 38, 39]
    >>> chunk_starts(3, 2)
    [0, 1, 2]
    """
    starts, at = [], 0
    while at < n:
        starts.append(at)
        at += max(smallest, math.ceil((n - at) / (CHUNKS_PER_WORKER * workers)))
    return starts


def _guarded(function: Callable[[Any], Any], index: int, task: Any) -> Any:
    try:
        return function(task)
    except Exception as err:
        return ReplicateFailure(
            index=index,
            error=type(err).__name__,
            message=str(err),
            traceback="".join(traceback.format_exception(err)),
        )


def fit_cores(cores: int | None) -> int | None:
    """The ``cores=`` of a replicate's fit: ``cores`` when given, else, on a cluster worker, its
    share of the machine (:func:`thread_budgets`), else ``None`` (the fit's default: chains in
    parallel on the machine's cores).

    Examples
    --------
    >>> fit_cores(3), fit_cores(None)
    (3, None)
    """
    return cores if cores is not None else getattr(_LOCAL, "threads", None)


def thread_budgets(client: Any) -> dict[str, int]:
    """Cores per worker thread of each worker of ``client``: its machine's cores shared among
    all the worker threads on that machine (at least 1).

    Parameters
    ----------
    client : dask.distributed.Client

    Returns
    -------
    dict
        Worker address -> threads one replicate's fit may use.
    """
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    cores = client.run(os.cpu_count)
    on_host: dict[str, int] = {}
    for info in workers.values():
        on_host[info["host"]] = on_host.get(info["host"], 0) + int(info.get("nthreads", 1))
    return {
        address: max(1, int(cores.get(address) or 1) // max(1, on_host[info["host"]]))
        for address, info in workers.items()
    }


def _guarded_chunk(
    function: Callable[[Any], Any],
    start: int,
    tasks: Sequence[Any],
    budgets: dict[str, int] | None = None,
) -> list[Any]:
    threads = None
    if budgets:
        from distributed import get_worker

        threads = budgets.get(get_worker().address)
    if threads is None:
        return [_guarded(function, start + k, task) for k, task in enumerate(tasks)]
    from threadpoolctl import threadpool_limits

    _LOCAL.threads = threads
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            return [_guarded(function, start + k, task) for k, task in enumerate(tasks)]
    finally:
        _LOCAL.threads = None


def _progress(total: int, label: str, enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
        transient=False,
    )
    return progress, progress.add_task(label, total=total)


def run_replicates(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    client: Any = None,
    progressbar: bool = True,
    label: str = "replicates",
    chunk_size: int | None = None,
) -> list[Any]:
    """``[function(task) for task in tasks]``, in-process or on a dask cluster.

    Parameters
    ----------
    function : callable
        A module-level function (workers import it by name) of one task.
    tasks : sequence
        Picklable tasks.
    client : dask.distributed.Client, optional
        Run the tasks on this client's workers; ``None`` runs them here, one after another.
    progressbar : bool
        Show a progress bar over replicates.
    label : str
        The progress bar's label.
    chunk_size : int, optional
        Replicates per dask task (default: chunks that shrink with the work left, see
        :func:`chunk_starts`), so that small fits do not pay the scheduler's per-task cost
        each; results do not depend on it.

    Returns
    -------
    list
        One entry per task, in the tasks' order: what ``function`` returned, or a
        :class:`ReplicateFailure` when it raised.

    Examples
    --------
    >>> run_replicates(abs, [-1, 2], progressbar=False)
    [1, 2]
    >>> run_replicates(int, ["3", "x"], progressbar=False)[1].error
    'ValueError'
    """
    progress, bar = _progress(len(tasks), label, progressbar)
    results: list[Any] = [None] * len(tasks)
    with progress:
        if client is None:
            for i, task in enumerate(tasks):
                results[i] = _guarded(function, i, task)
                progress.advance(bar)
            return results
        from distributed import as_completed

        client.run(warm_worker)
        budgets = thread_budgets(client)
        if chunk_size is None:
            workers = max(1, len(budgets))
            starts = chunk_starts(len(tasks), workers)
        else:
            starts = list(range(0, len(tasks), chunk_size))
        ends = [*starts[1:], len(tasks)]
        chunks = [list(tasks[a:b]) for a, b in zip(starts, ends, strict=True)]
        futures = client.map(
            _guarded_chunk,
            [function] * len(chunks),
            starts,
            chunks,
            [budgets] * len(chunks),
            pure=False,
        )
        position = {future.key: k for k, future in enumerate(futures)}
        for future in as_completed(futures):
            k = position[future.key]
            start, size = starts[k], len(chunks[k])
            try:
                results[start : start + size] = future.result()
            except Exception as err:  # a lost worker fails the replicates it held
                text = "".join(traceback.format_exception(err))
                results[start : start + size] = [
                    ReplicateFailure(start + j, type(err).__name__, str(err), text)
                    for j in range(size)
                ]
            progress.advance(bar, size)
    return results


def failures_table(results: Sequence[Any]) -> pd.DataFrame:
    """The failed replicates of ``results``: ``replicate``, ``error``, ``message``.

    Examples
    --------
    >>> failures_table([1, ReplicateFailure(1, "ValueError", "bad", "")])
       replicate       error message
    0          1  ValueError     bad
    """
    rows = [
        {"replicate": r.index, "error": r.error, "message": r.message}
        for r in results
        if isinstance(r, ReplicateFailure)
    ]
    return pd.DataFrame(rows, columns=["replicate", "error", "message"])
