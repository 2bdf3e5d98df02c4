"""Turn :class:`~hierbayes.priors.Prior` values into PyMC distributions."""

from __future__ import annotations

import inspect
from typing import Any

import pymc as pm

from hierbayes.errors import PriorError
from hierbayes.priors import Prior

__all__ = ["prior_dist", "prior_rv"]


def _distribution(name: str, prior: Prior) -> type[pm.Distribution]:
    dist = getattr(pm, prior.dist, None)
    if not (isinstance(dist, type) and issubclass(dist, pm.Distribution)):
        raise PriorError(
            f"The prior for '{name}' names {prior.dist!r}, which is not a PyMC distribution "
            "(e.g. 'Normal', 'StudentT', 'HalfNormal', 'Exponential')."
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
