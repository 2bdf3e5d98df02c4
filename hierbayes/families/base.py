"""The :class:`Family` record: everything the layers above need to know about a response family.

Each family lives in its own module of :mod:`hierbayes.families` and builds one :class:`Family`
from its own functions; the compiled kernel reaches the same module's numba functions through
:mod:`hierbayes.families.dispatch`. Nothing here knows any particular family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hierbayes.errors import DataError, FamilyError

__all__ = [
    "Family",
    "PriorSpec",
    "check_counts",
    "check_positive",
    "need",
    "round_scale",
    "weighted_sd",
]

# a default prior of a family parameter: (distribution, its parameters, what it applies to)
PriorSpec = tuple[str, dict[str, float], str]


def check_counts(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    """Why ``y`` is not a vector of non-negative integer counts (``None`` when it is)."""
    if (y < 0).any() or (np.round(y) != y).any():
        bad = np.unique(y[(y < 0) | (np.round(y) != y)])[:5]
        return f"counts must be non-negative integers; found {bad.tolist()}"
    return None


def check_positive(y: np.ndarray, trials: np.ndarray | None) -> str | None:
    """Why ``y`` is not a vector of positive values (``None`` when it is).

    Examples
    --------
    >>> check_positive(np.array([2.0, 0.0, -1.0, 0.0]), None)
    'values must be positive (> 0); 3 are not: [-1.0, 0.0]'
    """
    bad = ~(np.asarray(y, dtype=float) > 0)
    if bad.any():
        shown = np.unique(y[bad])[:5]
        return f"values must be positive (> 0); {int(bad.sum())} are not: {shown.tolist()}"
    return None


def round_scale(value: float) -> float:
    """A default prior's number as printed and saved: four decimals, or four significant digits
    where four decimals would round it to 0 (a response measured in units of 1e-5 must not get a
    prior scale of 0). The one rounding rule of every default prior.

    Examples
    --------
    >>> round_scale(3.14159), round_scale(0.00123), round_scale(2.5e-5), round_scale(0.0)
    (3.1416, 0.0012, 2.5e-05, 0.0)
    """
    rounded = round(value, 4)
    if rounded != 0 or value == 0 or not np.isfinite(value):
        return rounded
    return float(f"{value:.4g}")


def weighted_sd(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Sample SD with frequency weights (``Σ w - 1`` degrees of freedom); 1 when undefined.

    Examples
    --------
    >>> weighted_sd(np.array([1.0, 2.0]), np.array([2.0, 1.0])) == float(np.std([1, 1, 2], ddof=1))
    True
    """
    values = np.asarray(values, dtype=float)
    if weights is None:
        sd = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
    else:
        total = float(weights.sum())
        mean = float(weights @ values) / total if total > 0 else 0.0
        sd = float(np.sqrt(weights @ (values - mean) ** 2 / (total - 1))) if total > 1 else 0.0
    return sd if np.isfinite(sd) and sd > 0 else 1.0


def need(value: Any, what: str, family: str) -> Any:
    """``value``, or a :class:`DataError` saying the family needs ``what``."""
    if value is None:
        raise DataError(f"The {family} family needs {what} to simulate or score responses.")
    return value


@dataclass(frozen=True)
class Family:
    """A response distribution with its link function.

    Parameters
    ----------
    name, link
        The family's name (``"poisson"``) and link (``"log"``).
    code
        The family's number in the compiled kernel (:mod:`hierbayes.families.dispatch`).
    params
        Names of the family's own parameters (``("sigma",)`` for gaussian), sampled on the log
        scale, each with a prior of the same name.
    needs_trials
        Whether the response needs a number of trials (binomial).
    inverse_link
        Mean of the response given the linear predictor.
    check
        ``check(y, trials)``: why the family cannot model ``y``, or ``None``.
    likelihood
        ``likelihood(name, eta, y, trials, params, dims)``: adds the observed PyMC variable;
        ``params`` maps each own parameter to its PyMC variable.
    sample
        ``sample(eta, rng, params, trials)``: response draws (arrays broadcast against ``eta``).
    log_density
        ``log_density(y, eta, params, trials)``: elementwise log density or mass.
    constant
        ``constant(y, trials)``: the part of each row's log density that involves no parameter.
    default_priors
        ``default_priors(y, trials, weights)``: the own parameters' data-scaled default
        priors (``weights``: likelihood weights or ``None``).
    latent_variance
        ``latent_variance(fixed, group_var, params)``: the residual variance on the latent
        (link) scale for ICC and R² (``fixed()``: (S, 1) mean fixed-part linear predictor,
        ``group_var``: (S, k) group variances, ``params``: own parameters, (S,) each), or
        ``None`` where no latent scale is defined.
    law, mean_symbol
        The response's law in equations (``"Poisson"``) and the symbol of its mean parameter
        (plain text, LaTeX).
    title
        The kind of model, for summaries.
    discrete
        Whether the response is a count (posterior predictive checks show counts, not
        densities).
    param_symbols
        The own parameters' symbols in the response's law in equations, (plain text, LaTeX)
        each (``φ`` for the negative binomial's shape); gaussian's σ has its own line.
    transforms
        How each own parameter is sampled, in the order of ``params``: ``"log"`` (a positive
        parameter) or ``"logit"`` (a probability, such as the zero-inflation ``zi``); empty:
        all on the log scale.
    mean
        ``mean(eta, params)``: the expected response where it needs the family's own
        parameters (lognormal: ``exp(η + σ²/2)``; a zero-inflated count: ``(1 - zi) exp(η)``);
        ``None``: ``inverse_link(eta)``. Read it through :meth:`expected`.
    link_response
        ``link_response(y)``: the response on the scale of the linear predictor, whose mean and
        SD centre and scale the default priors of the population-level and group-level terms
        as gaussian's ``y`` does (lognormal: ``log y``); ``None``: the GLM defaults (centre 0,
        scale 1).
    cutpoints
        Whether the family's only own parameter is the vector ``cutpoints`` of ``K - 1``
        ordered cut-points of an ordinal response with ``K`` categories, which take the place of
        the population intercept (the cumulative family).
    dpar
        The own parameter that can get its own linear predictor on the log scale (brms's
        distributional parameter, on its log link): ``"sigma"`` (gaussian, student_t,
        lognormal), ``"shape"`` (negativebinomial, gamma), ``"phi"`` (beta); ``None``: none.
        Its formula is given by the keyword of the same name (``shape="~ x + (1 | g)"``).

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> fam = get_family("bernoulli")
    >>> fam.link, float(fam.inverse_link(np.array([0.0]))[0])
    ('logit', 0.5)
    """

    name: str
    link: str
    code: int
    params: tuple[str, ...]
    needs_trials: bool
    inverse_link: Callable[[np.ndarray], np.ndarray]
    check: Callable[[np.ndarray, np.ndarray | None], str | None]
    likelihood: Callable[..., Any]
    sample: Callable[..., np.ndarray]
    log_density: Callable[..., np.ndarray]
    constant: Callable[[np.ndarray, np.ndarray | None], np.ndarray]
    default_priors: Callable[..., dict[str, PriorSpec]]
    latent_variance: Callable[..., np.ndarray] | None
    law: str
    mean_symbol: tuple[str, str]
    title: str = "Bayesian generalized linear mixed model"
    discrete: bool = False
    param_symbols: tuple[tuple[str, str], ...] = ()
    transforms: tuple[str, ...] = ()
    mean: Callable[[np.ndarray, Mapping[str, Any]], np.ndarray] | None = None
    link_response: Callable[[np.ndarray], np.ndarray] | None = None

    def expected(self, eta: np.ndarray, params: Any = None) -> np.ndarray:
        """The expected response given the linear predictor and the own parameters (arrays
        that broadcast against ``eta``).

        Examples
        --------
        >>> from hierbayes.families import get_family
        >>> float(get_family("poisson").expected(np.array([0.0]))[0])
        1.0
        """
        if self.mean is None:
            return self.inverse_link(eta)
        if params is None:
            raise FamilyError(
                f"The expected response of the {self.name} family needs its own parameters "
                f"({', '.join(self.params)})."
            )
        return self.mean(eta, params)

    cutpoints: bool = False
    dpar: str | None = None

    @property
    def has_sigma(self) -> bool:
        """Whether the family has a residual SD ``sigma``."""
        return "sigma" in self.params

    def transform(self, name: str) -> str:
        """How own parameter ``name`` is sampled: ``"log"`` or ``"logit"``.

        Examples
        --------
        >>> from hierbayes.families import get_family
        >>> get_family("gaussian").transform("sigma")
        'log'
        """
        if not self.transforms:
            return "log"
        return self.transforms[self.params.index(name)]

    def validate_response(self, y: np.ndarray, trials: np.ndarray | None, name: str) -> None:
        """Raise :class:`FamilyError` naming the response when this family cannot model it."""
        if self.needs_trials and trials is None:
            raise FamilyError(
                f"The {self.name} family needs the number of trials: write "
                f"'{name} | trials(n) ~ ...' or pass trials='n'."
            )
        message = self.check(y, trials)
        if message is not None:
            raise FamilyError(f"Response '{name}' does not fit the {self.name} family: {message}.")
