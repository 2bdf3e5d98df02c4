"""Validation of the arguments of :meth:`hierbayes.Model.fit`, ``predict`` and ``simulate``.

Each check raises :class:`~hierbayes.errors.ArgumentError` naming the argument, the value it got
and what it accepts, before any sampling starts. NumPy integers count as integers
(``draws=np.int64(50)``); booleans do not (``draws=True`` is a mistake, not one draw).

Examples
--------
>>> check_count("draws", np.int64(50))
50
>>> check_count("draws", True)
Traceback (most recent call last):
...
hierbayes.errors.ArgumentError: draws must be a positive integer, got True (bool).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hierbayes.errors import ArgumentError

__all__ = [
    "SAMPLERS",
    "check_choice",
    "check_cores",
    "check_count",
    "check_fit_arguments",
    "check_flag",
    "check_level2",
    "check_path",
    "check_probability",
    "check_seed",
]

SAMPLERS: tuple[str, ...] = ("nutpie", "pymc", "numpyro")

# nutpie and PyMC take seeds as unsigned 64-bit integers
_MAX_SEED = 2**63 - 1


def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def check_count(name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` as a Python int, or an error when it is not an integer >= ``minimum``.

    Examples
    --------
    >>> check_count("tune", 0, minimum=0)
    0
    """
    if not _is_integer(value) or int(value) < minimum:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}"
        )
        raise ArgumentError(f"{name} must be {what}, got {_show(value)}.")
    return int(value)


def check_cores(cores: Any) -> int | None:
    """``None`` (all cores, up to the number of chains) or a positive integer.

    Examples
    --------
    >>> check_cores(None) is None, check_cores(2)
    (True, 2)
    """
    if cores is None:
        return None
    if not _is_integer(cores) or int(cores) < 1:
        raise ArgumentError(
            f"cores must be a positive integer (chains run in parallel) or None for all cores, "
            f"got {_show(cores)}."
        )
    return int(cores)


def check_seed(random_seed: Any, name: str = "random_seed", *, generator: bool = False) -> Any:
    """``None`` or an integer in [0, 2**63) (or, with ``generator=True``, a NumPy Generator).

    Examples
    --------
    >>> check_seed(np.uint32(7))
    7
    """
    if random_seed is None:
        return None
    if generator and isinstance(random_seed, np.random.Generator):
        return random_seed
    if not _is_integer(random_seed) or not 0 <= int(random_seed) <= _MAX_SEED:
        also = ", a numpy Generator" if generator else ""
        raise ArgumentError(
            f"{name} must be a non-negative integer (below 2**63){also} or None, got "
            f"{_show(random_seed)}."
        )
    return int(random_seed)


def check_probability(name: str, value: Any) -> float:
    """A real number strictly between 0 and 1.

    Examples
    --------
    >>> check_probability("target_accept", 0.9)
    0.9
    """
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool | np.bool_)
        or not 0 < float(value) < 1
    ):
        raise ArgumentError(f"{name} must be between 0 and 1 (a number), got {_show(value)}.")
    return float(value)


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """``value`` when it is one of ``choices``; otherwise an error listing them.

    Examples
    --------
    >>> check_choice("kind", "pps", ("mean", "linear", "pps"))
    'pps'
    >>> check_choice("kind", "means", ("mean", "linear", "pps"))
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: kind must be one of 'mean', 'linear', 'pps', got 'means'.
    """
    if not isinstance(value, str) or value not in choices:
        raise ArgumentError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}."
        )
    return value


def _check_flag(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, bool | np.bool_):
        allowed = "True, False or None" if optional else "True or False"
        raise ArgumentError(f"{name} must be {allowed}, got {_show(value)}.")


def check_flag(name: str, value: Any) -> bool:
    """``value`` when it is True or False (not a string such as ``"yes"``).

    Examples
    --------
    >>> check_flag("summary", "yes")
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: summary must be True or False, got 'yes' (str).
    """
    _check_flag(name, value)
    return bool(value)


def check_path(name: str, value: Any) -> Path:
    """``value`` as a :class:`~pathlib.Path`: a string or a path-like object.

    Examples
    --------
    >>> check_path("path", 3)
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: path must be a file path (text or a pathlib.Path), got 3 (int).
    """
    if not isinstance(value, str | os.PathLike):
        raise ArgumentError(
            f"{name} must be a file path (text or a pathlib.Path), got {_show(value)}."
        )
    return Path(value)


def check_level2(value: Any) -> Any:
    """``None`` or a dict by grouping factor (of one-row-per-group tables or column lists).

    Examples
    --------
    >>> check_level2(["school"])
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: level2 must be a dict by grouping factor, e.g. \
{'school': table}, got ['school'] (list).
    """
    if value is not None and not isinstance(value, Mapping):
        raise ArgumentError(
            "level2 must be a dict by grouping factor, e.g. {'school': table}, got "
            f"{_show(value)}."
        )
    return value


def check_fit_arguments(
    *,
    draws: Any,
    tune: Any,
    chains: Any,
    cores: Any,
    random_seed: Any,
    sampler: Any,
    target_accept: Any,
    progressbar: Any = False,
    log_likelihood: Any = None,
) -> dict[str, Any]:
    """Check the arguments of :meth:`hierbayes.Model.fit`; return them as plain Python values.

    Examples
    --------
    >>> check_fit_arguments(draws=np.int64(50), tune=0, chains=2, cores=None, random_seed=1,
    ...                     sampler="nutpie", target_accept=0.8)["draws"]
    50
    """
    if not isinstance(sampler, str) or sampler not in SAMPLERS:
        raise ArgumentError(
            f"Unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)} (sampler=)."
        )
    _check_flag("progressbar", progressbar, optional=True)
    _check_flag("log_likelihood", log_likelihood, optional=True)
    return {
        "draws": check_count("draws", draws),
        "tune": check_count("tune", tune, minimum=0),
        "chains": check_count("chains", chains),
        "cores": check_cores(cores),
        "random_seed": check_seed(random_seed),
        "target_accept": check_probability("target_accept", target_accept),
    }
