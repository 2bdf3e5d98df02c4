"""Checks of what :func:`hierbayes.compare` is given: a dict of at least two fits (or K-fold
results) under distinct names, and a weighting method ArviZ knows.

Each bad input gets an :class:`~hierbayes.errors.ArgumentError` (a ``ValueError``) that names
the model or argument at fault and says what ``compare`` takes.

Examples
--------
>>> check_method("stacking")
'stacking'
>>> check_method("bma")
Traceback (most recent call last):
...
hierbayes.errors.ArgumentError: method must be one of 'stacking', 'BB-pseudo-BMA', \
'pseudo-BMA', got 'bma'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hierbayes.errors import ArgumentError

__all__ = ["METHODS", "check_compare_inputs", "check_method"]

METHODS: tuple[str, ...] = ("stacking", "BB-pseudo-BMA", "pseudo-BMA")
"""The weighting methods of ``arviz.compare`` (any capitalisation)."""


def check_method(method: Any) -> str:
    """``method`` when it names one of :data:`METHODS` (case aside)."""
    if not isinstance(method, str) or method.lower() not in {m.lower() for m in METHODS}:
        raise ArgumentError(
            f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}."
        )
    return method


def check_compare_inputs(fits: Any) -> dict[str, Any]:
    """``fits`` as a dict by name (text), after checking that it is a dict of at least two
    fits or K-fold results whose names are distinct as text.

    Examples
    --------
    >>> check_compare_inputs({"a": 1})
    Traceback (most recent call last):
    ...
    hierbayes.errors.ArgumentError: compare() needs a dict of at least two fits, e.g. \
{'m1': f1, 'm2': f2}; got a dict with 1 entry ('a').
    """
    from hierbayes.comparison import KFold
    from hierbayes.fit import Fit

    if not isinstance(fits, Mapping) or len(fits) < 2:
        if isinstance(fits, Mapping):
            got = f"a dict with {len(fits)} entr{'y' if len(fits) == 1 else 'ies'}" + (
                f" ({', '.join(repr(k) for k in fits)})" if fits else ""
            )
        else:
            got = f"{type(fits).__name__}"
            if isinstance(fits, list | tuple):
                got += " (name the models: compare({'m1': f1, 'm2': f2}))"
        raise ArgumentError(
            f"compare() needs a dict of at least two fits, e.g. {{'m1': f1, 'm2': f2}}; got {got}."
        )
    named: dict[str, Any] = {}
    for key, value in fits.items():
        if not isinstance(value, Fit | KFold):
            raise ArgumentError(
                f"compare() got {type(value).__name__} for model {key!r}: give each model's "
                "fit (model.fit(...)) or its K-fold result (fit.kfold(...))."
            )
        name = str(key)
        if name in named:
            other = next(k for k in fits if str(k) == name)
            raise ArgumentError(
                f"compare() got two models named {name!r} ({other!r} and {key!r}): the names "
                "label the table's rows, so they must differ as text."
            )
        named[name] = value
    return named
