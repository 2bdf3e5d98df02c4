"""Response families and their link functions (pure NumPy; the PyMC likelihoods live in build/).

A family knows its link, whether it has a residual scale, whether it needs binomial trials, and
which responses it can model. To add a family, add a :class:`Family` here and its likelihood in
:mod:`hierbayes.build.likelihood`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, gammaln

from hierbayes.errors import FamilyError

__all__ = ["FAMILIES", "Family", "get_family", "log_density_constant"]


def _check_gaussian(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    return None


def _check_bernoulli(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    if not np.isin(y, (0.0, 1.0)).all():
        bad = np.unique(y[~np.isin(y, (0.0, 1.0))])[:5]
        return f"a bernoulli response must be 0 or 1 (or True/False); found {bad.tolist()}"
    return None


def _check_counts(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    if (y < 0).any() or (np.round(y) != y).any():
        bad = np.unique(y[(y < 0) | (np.round(y) != y)])[:5]
        return f"counts must be non-negative integers; found {bad.tolist()}"
    return None


def _check_binomial(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    message = _check_counts(y, trials)
    if message is not None:
        return message
    assert trials is not None
    if (trials < 0).any() or (np.round(trials) != trials).any():
        return "the number of trials must be a non-negative integer on every row"
    if (y > trials).any():
        row = int(np.argmax(y > trials))
        return f"successes exceed trials (row {row}: {y[row]:g} > {trials[row]:g})"
    return None


@dataclass(frozen=True)
class Family:
    """A response distribution with its link function.

    Examples
    --------
    >>> fam = get_family("bernoulli")
    >>> fam.link, float(fam.inverse_link(np.array([0.0]))[0])
    ('logit', 0.5)
    """

    name: str
    link: str
    has_sigma: bool
    needs_trials: bool
    inverse_link: Callable[[np.ndarray], np.ndarray]
    _check: Callable[[np.ndarray, np.ndarray | None], str | None]

    def validate_response(self, y: np.ndarray, trials: np.ndarray | None, name: str) -> None:
        """Raise :class:`FamilyError` naming the response when this family cannot model it."""
        if self.needs_trials and trials is None:
            raise FamilyError(
                f"The {self.name} family needs the number of trials: write "
                f"'{name} | trials(n) ~ ...' or pass trials='n'."
            )
        message = self._check(y, trials)
        if message is not None:
            raise FamilyError(f"Response '{name}' does not fit the {self.name} family: {message}.")

    @property
    def latent_residual_variance(self) -> float | None:
        """Variance of the latent residual for the logit link (π²/3), ``None`` otherwise."""
        return float(np.pi**2 / 3) if self.link == "logit" else None


FAMILIES: dict[str, Family] = {
    "gaussian": Family("gaussian", "identity", True, False, lambda eta: eta, _check_gaussian),
    "bernoulli": Family("bernoulli", "logit", False, False, expit, _check_bernoulli),
    "binomial": Family("binomial", "logit", False, True, expit, _check_binomial),
    "poisson": Family("poisson", "log", False, False, np.exp, _check_counts),
}


def get_family(family: str | Family) -> Family:
    """Look up a family by name (``gaussian``, ``bernoulli``, ``binomial``, ``poisson``).

    Examples
    --------
    >>> get_family("poisson").link
    'log'
    """
    if isinstance(family, Family):
        return family
    key = str(family).lower()
    if key not in FAMILIES:
        raise FamilyError(
            f"Unknown family {family!r}; choose one of {', '.join(sorted(FAMILIES))}."
        )
    return FAMILIES[key]


def log_density_constant(family: Family, y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """The part of each observation's log density that involves no parameter.

    ``-log(2π)/2`` for gaussian, the log binomial coefficient for binomial, ``-log(y!)`` for
    poisson, 0 for bernoulli.

    Examples
    --------
    >>> log_density_constant(get_family("poisson"), np.array([0.0, 2.0]), None).round(4).tolist()
    [-0.0, -0.6931]
    """
    y = np.asarray(y, dtype=float)
    if family.name == "gaussian":
        return np.full(y.shape, -0.5 * np.log(2 * np.pi))
    if family.name == "binomial":
        n = np.asarray(trials, dtype=float)
        return gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    if family.name == "poisson":
        return -gammaln(y + 1)
    return np.zeros(y.shape)
