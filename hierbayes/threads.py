"""Independent parts of one computation on a few threads, the numbers those of one thread.

For work after sampling that runs in NumPy and numba code which releases the GIL (matrix
products, reductions, partitions, numba functions compiled ``nogil``) over parts that write
disjoint outputs: the pointwise log-likelihood's chunks of draws (:mod:`hierbayes.loglik`), the
R-hat screen's blocks of group effects (:mod:`hierbayes.rhat_screen`). Each part computes what it
computes in one thread, on the same shapes, so the results are bit for bit the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

__all__ = ["in_threads"]

# at most this many threads run the parts (the sampler's default cores: at most 4)
_THREADS = 4


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity, where the system tells), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this system
        return max(1, os.cpu_count() or 1)


def in_threads[T](fill: Callable[[T], None], parts: Sequence[T]) -> None:
    """``fill(part)`` for each part, on up to ``min(4, usable CPUs)`` threads when there are
    several.

    Parameters
    ----------
    fill : callable
        Computes one part and writes it where no other part writes.
    parts : sequence
        The parts (e.g. slices of the output).

    Raises
    ------
    Exception
        What the first failing part raised (in the order of ``parts``); the parts not yet
        started are then dropped, as they are when the wait is interrupted (Ctrl-C), and the
        running ones finish before it propagates.

    Examples
    --------
    >>> import numpy as np
    >>> table = np.zeros(6)
    >>> def fill(part):
    ...     table[part] = np.arange(6)[part] ** 2
    >>> in_threads(fill, [slice(0, 4), slice(4, 6)])
    >>> table.tolist()
    [0.0, 1.0, 4.0, 9.0, 16.0, 25.0]
    """
    threads = min(len(parts), _THREADS, _usable_cpus())
    if threads < 2:
        for part in parts:
            fill(part)
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(threads)
    try:
        for future in [pool.submit(fill, part) for part in parts]:
            future.result()  # raises what its part raised
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
