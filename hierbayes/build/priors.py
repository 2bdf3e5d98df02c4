"""Turn :class:`~hierbayes.priors.Prior` values into PyMC distributions."""

from __future__ import annotations

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
    return dist


def prior_rv(name: str, prior: Prior, label: str | None = None, **kwargs: Any) -> Any:
    """Register ``prior`` as a random variable called ``name`` in the current model."""
    dist = _distribution(label or name, prior)
    try:
        return dist(name, **prior.kwargs, **kwargs)
    except (TypeError, ValueError) as err:
        raise PriorError(f"Invalid parameters for the prior of '{label or name}': {err}") from err


def prior_dist(name: str, prior: Prior, **kwargs: Any) -> Any:
    """An unregistered ``.dist()`` of ``prior`` (for ``sd_dist`` of an LKJ covariance)."""
    dist = _distribution(name, prior)
    try:
        return dist.dist(**prior.kwargs, **kwargs)
    except (TypeError, ValueError) as err:
        raise PriorError(f"Invalid parameters for the prior of '{name}': {err}") from err
