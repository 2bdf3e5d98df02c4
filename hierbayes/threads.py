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

# threads that run the parts (the sampler's default cores: at most 4)
_THREADS = min(4, os.cpu_count() or 1)


def in_threads[T](fill: Callable[[T], None], parts: Sequence[T]) -> None:
    """``fill(part)`` for each part, on up to ``min(4, cores)`` threads when there are several.

    Parameters
    ----------
    fill : callable
        Computes one part and writes it where no other part writes.
    parts : sequence
        The parts (e.g. slices of the output).

    Raises
    ------
    Exception
        What the first failing part raised (in the order of ``parts``), once all have run.

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
    threads = min(len(parts), _THREADS)
    if threads < 2:
        for part in parts:
            fill(part)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        done = [pool.submit(fill, part) for part in parts]
    for future in done:
        future.result()  # raises what its part raised
