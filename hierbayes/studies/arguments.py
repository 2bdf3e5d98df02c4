"""Checks of a study's arguments before any replicate runs.

A bad setting (``draws=0``, ``sampler="stan"``, ``n=2.5``) would otherwise fail inside every
replicate, each reported as a :class:`~hierbayes.studies.executor.ReplicateFailure` after the
work was sent out. Each check raises :class:`~hierbayes.errors.ArgumentError` (a ``ValueError``)
naming the argument, the value it got and what it takes.

Examples
--------
>>> check_sizes("n_groups", [20, 40])
[20, 40]
>>> check_sizes("n_groups", 20)
Traceback (most recent call last):
...
hierbayes.errors.ArgumentError: n_groups must be a non-empty list of positive integers (sizes to \
try), got 20 (int).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hierbayes.errors import ArgumentError
from hierbayes.validate import check_count, check_fit_arguments, check_probability, check_seed

__all__ = ["check_prob", "check_settings", "check_sizes", "check_study_arguments"]


def check_sizes(name: str, values: Any) -> list[int]:
    """``values`` as a list of Python ints: a non-empty list of positive integers.

    Examples
    --------
    >>> check_sizes("n_per_group", (5, 10)), check_sizes("n_groups", np.array([20, 40]))
    ([5, 10], [20, 40])
    """
    ok = isinstance(values, list | tuple | range | np.ndarray) and np.ndim(values) == 1
    ok = ok and len(values) > 0
    if ok:
        try:
            return [check_count(name, v) for v in values]
        except ArgumentError:
            ok = False
    raise ArgumentError(
        f"{name} must be a non-empty list of positive integers (sizes to try), got "
        f"{values!r} ({type(values).__name__})."
    )


def check_settings(settings: Mapping[str, Any]) -> None:
    """The sampler settings a study passes to every refit, checked as :meth:`Model.fit` would.

    Examples
    --------
    >>> check_settings({"draws": 0, "tune": 10, "chains": 2, "cores": None,
    ...                 "sampler": "nutpie"})
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: draws must be a positive integer, got 0 (int).
    """
    check_fit_arguments(
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=settings["cores"],
        random_seed=None,
        sampler=settings["sampler"],
        target_accept=0.8 if settings.get("target_accept") is None else settings["target_accept"],
    )


def check_study_arguments(
    n: Any, random_seed: Any, settings: Mapping[str, Any], *, rhat_max: Any = 1.1
) -> int:
    """Check a study's ``n`` (replicates), seed, ``rhat_max`` and sampler settings; return
    ``n`` as an int.

    Examples
    --------
    >>> settings = {"draws": 100, "tune": 100, "chains": 2, "cores": None, "sampler": "nutpie"}
    >>> check_study_arguments(10, 1, settings)
    10
    >>> check_study_arguments(2.5, 1, settings)
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: n must be a positive integer, got 2.5 (float).
    """
    count = check_count("n", n)
    check_seed(random_seed)
    if isinstance(rhat_max, bool) or not isinstance(rhat_max, int | float) or not rhat_max > 1:
        raise ArgumentError(f"rhat_max must be a number above 1, got {rhat_max!r}.")
    check_settings(settings)
    return count


def check_prob(prob: Any) -> float:
    """The probability of a study's intervals, strictly between 0 and 1.

    Examples
    --------
    >>> check_prob(0.95)
    0.95
    """
    return check_probability("prob", prob)
