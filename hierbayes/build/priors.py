"""Turn :class:`~hierbayes.priors.Prior` values into PyMC distributions."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

import pymc as pm

from hierbayes.errors import PriorError
from hierbayes.priors import Prior

__all__ = ["check_user_priors", "prior_dist", "prior_rv"]


def is_distribution(name: str) -> bool:
    """Whether ``name`` is a PyMC distribution (the registry of prior names) or ``"LKJ"``."""
    dist = getattr(pm, name, None) if name.isidentifier() else None
    return name == "LKJ" or (isinstance(dist, type) and issubclass(dist, pm.Distribution))


def _distribution(name: str, prior: Prior) -> type[pm.Distribution]:
    dist = getattr(pm, prior.dist, None) if prior.dist.isidentifier() else None
    if not (isinstance(dist, type) and issubclass(dist, pm.Distribution)):
        known = [n for n in dir(pm) if n[:1].isupper() and is_distribution(n)]
        close = difflib.get_close_matches(prior.dist, known, n=3)
        hint = f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise PriorError(
            f"The prior for '{name}' names {prior.dist!r}, which is not a PyMC distribution: "
            f"unknown distribution. {hint}(e.g. 'Normal', 'StudentT', 'HalfNormal', "
            "'Exponential')."
        )
    # PyMC swallows unknown keyword arguments, so a misspelt parameter (sgima=...) would silently
    # leave the distribution's default in place.
    accepted = [
        p.name
        for p in list(inspect.signature(dist.dist).parameters.values())
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "cls"
    ]
    unknown = [k for k in prior.kwargs if k not in accepted]
    if unknown:
        takes = f"takes {', '.join(accepted)}" if accepted else "takes no parameters"
        raise PriorError(
            f"The prior for '{name}' gives {prior.dist} the unknown parameter(s) "
            f"{', '.join(unknown)}; {prior.dist} {takes}."
        )
    return dist


def check_user_priors(priors: Any) -> dict[str, Prior]:
    """The ``priors=`` argument of :class:`hierbayes.Model`: a dict by prior name of
    :class:`~hierbayes.priors.Prior` values naming PyMC distributions with parameters they take.

    Examples
    --------
    >>> check_user_priors([Prior("Normal", mu=0, sigma=1)])
    Traceback (most recent call last):
    ...
    hierbayes.errors.PriorError: priors must be a dict by prior name, ...
    """
    if priors is None:
        return {}
    if not isinstance(priors, Mapping):
        raise PriorError(
            "priors must be a dict by prior name, e.g. {'sd|school': hb.Prior('HalfNormal', "
            f"sigma=5)}} (m.priors lists the names), got a {type(priors).__name__}."
        )
    for name, prior in priors.items():
        if isinstance(prior, Prior) and prior.dist != "LKJ":
            _distribution(str(name), prior)
    return dict(priors)


def prior_rv(name: str, prior: Prior, label: str | None = None, **kwargs: Any) -> Any:
    """Register ``prior`` as a random variable called ``name`` in the current model."""
    dist = _distribution(label or name, prior)
    try:
        return dist(name, **prior.kwargs, **kwargs)
    except (TypeError, ValueError, NotImplementedError) as err:
        raise PriorError(f"Invalid parameters for the prior of '{label or name}': {err}") from err


def prior_dist(name: str, prior: Prior, **kwargs: Any) -> Any:
    """An unregistered ``.dist()`` of ``prior`` (for ``sd_dist`` of an LKJ covariance)."""
    dist = _distribution(name, prior)
    try:
        return dist.dist(**prior.kwargs, **kwargs)
    except (TypeError, ValueError, NotImplementedError) as err:
        raise PriorError(f"Invalid parameters for the prior of '{name}': {err}") from err
