"""One BLAS thread while a model is built and fitted.

Everything hierbayes hands to BLAS around the sampler is small: the population GLM behind the
choice of parameterisation (a few Newton steps on an ``n x p`` design), rank checks, the
labelled draws and the pointwise log-likelihood (at most 10 million numbers), the convergence
statistics. OpenBLAS starts one thread per core for such calls, and its threads spin while
they wait for each other: on 2 cores shared with other work, mlmRev's guImmun model
(2,159 rows, 16 fixed-effect columns) spent 0.8 CPU s in ``hb.Model(...)``, 0.3 s of it in each
of the two population GLM fits, against 0.06 s on one thread, and about as much again after
sampling. The sampler itself (hierbayes's compiled log-density, run by nutpie) calls no BLAS.

The numbers do not change: a matrix product on several threads splits its output among them,
each entry summed as on one thread (checked bit for bit, posterior and log-likelihood, in
``tests/test_blas.py``). The limit holds while :meth:`hierbayes.Model` builds a model and
:meth:`hierbayes.Model.fit` runs, then gives the pools back their thread counts; BLAS calls of
other threads of the process meanwhile run on one thread too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]


def _controller() -> ThreadpoolController:
    """The process's thread pools, looked up at each call (milliseconds): a BLAS library loaded
    after the first fit (SciPy's own OpenBLAS, say) is limited too."""
    return ThreadpoolController()


def one_blas_thread[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with BLAS limited to one thread (pools restored afterwards).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> @one_blas_thread
    ... def blas_threads():
    ...     return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
    >>> blas_threads() <= {1}
    True
    """

    @functools.wraps(function)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with _controller().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return limited
