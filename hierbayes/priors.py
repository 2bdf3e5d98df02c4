"""Priors: the :class:`Prior` value type and the data-scaled default rules.

Default priors (all on the scale of the data, as rstanarm and brms do):

========================  ===================================================================
name                      default
========================  ===================================================================
``Intercept``             Normal(mean(y), 2.5·sd(y)) for gaussian, Normal(0, 2.5) otherwise;
                          a prior on the intercept *at the means of the predictors* (predictors
                          are centred internally, as in brms).
``b|<column>``            Normal(0, 2.5·s_y / sd(x)) for each fixed-effect column x, with
                          s_y = sd(y) for gaussian and 1 on the link scale otherwise.
``sd|<factor>``           HalfNormal(s_y / sd(z)) per varying coefficient z (sd(z) = 1 for the
                          intercept), with s_y = sd(y) for gaussian and 2.5 otherwise.
``cor|<factor>``          LKJ(eta=2): mild pull of correlations toward 0, ruling out ±1.
``sigma``                 HalfStudentT(nu=3, sigma=sd(y)), gaussian only (each family's own
                          parameters get the defaults of its module in
                          :mod:`hierbayes.families`).
========================  ===================================================================

LKJ's ``eta = 2`` puts a density proportional to (1 - ρ²) on a 2x2 correlation: flat enough to let
the data speak, but zero at ±1, where poorly identified correlations otherwise pile up (Stan's and
brms's recommendation; ``eta = 1`` is uniform).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.design import Design
from hierbayes.errors import PriorError
from hierbayes.families.base import round_scale, weighted_sd
from hierbayes.prior_params import check_prior_parameters

__all__ = ["POSITIVE_DISTRIBUTIONS", "Prior", "default_priors", "resolve_priors"]

POSITIVE_DISTRIBUTIONS = frozenset(
    {
        "HalfNormal",
        "HalfStudentT",
        "HalfCauchy",
        "Exponential",
        "Gamma",
        "InverseGamma",
        "LogNormal",
        "Weibull",
    }
)


@dataclass(frozen=True, init=False)
class Prior:
    """A prior distribution: a PyMC distribution name and its parameters.

    Parameters
    ----------
    dist : str
        Name of a PyMC distribution (``"Normal"``, ``"HalfNormal"``, ``"StudentT"``, ...), or
        ``"LKJ"`` for the correlation matrix of a group term.
    **params
        The distribution's parameters; arrays give one value per coefficient.

    Examples
    --------
    >>> Prior("HalfNormal", sigma=5)
    HalfNormal(sigma=5)
    >>> Prior("Normal", mu=0, sigma=1) == Prior("Normal", sigma=1, mu=0)
    True
    """

    dist: str
    params: tuple[tuple[str, Any], ...]

    def __init__(self, dist: str, **params: Any):
        if not isinstance(dist, str) or not dist:
            raise PriorError(
                f"A prior's distribution must be a name such as 'Normal', got {dist!r}."
            )
        for key, value in params.items():
            _check_parameter(dist, key, value)
        check_prior_parameters(dist, params)  # names, ranges, what the distribution needs
        frozen = tuple(
            sorted(
                (k, tuple(np.asarray(v).tolist()) if np.ndim(v) else v) for k, v in params.items()
            )
        )
        object.__setattr__(self, "dist", dist)
        object.__setattr__(self, "params", frozen)

    @property
    def kwargs(self) -> dict[str, Any]:
        """Parameters as a dict (array parameters as NumPy arrays)."""
        return {k: np.asarray(v) if isinstance(v, tuple) else v for k, v in self.params}

    def __repr__(self) -> str:
        def fmt(v: Any) -> str:
            if isinstance(v, tuple):
                return "[" + ", ".join(f"{x:.3g}" for x in v) + "]"
            return f"{v:.4g}" if isinstance(v, float) else repr(v)

        return f"{self.dist}(" + ", ".join(f"{k}={fmt(v)}" for k, v in self.params) + ")"


def _sd(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    return weighted_sd(values, weights)


def _check_parameter(dist: str, key: str, value: Any) -> None:
    """A prior parameter is a real number (not NaN) or a flat list of them."""
    values = np.asarray(value, dtype=object).ravel() if np.ndim(value) else [value]
    ok = np.ndim(value) <= 1 and len(values) > 0
    for v in values if ok else []:
        real = isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
        if not real or np.isnan(float(v)):  # ±inf is a valid bound (TruncatedNormal)
            ok = False
            break
    if not ok:
        raise PriorError(
            f"Parameter {key} of Prior({dist!r}) must be a number (or a list of numbers, one "
            f"per coefficient), got {value!r}."
        )


def _round(value: float) -> float:
    """Four decimals, or four significant digits where four decimals give 0 (see
    :func:`hierbayes.families.base.round_scale`, the rule the families' default priors share).

    >>> _round(3.14159), _round(2.5e-5)
    (3.1416, 2.5e-05)
    """
    return round_scale(value)


def default_priors(design: Design) -> dict[str, tuple[Prior, str]]:
    """Data-scaled default priors, each with a short description of what it applies to.

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.spec import parse_formula
    >>> from hierbayes.design import make_design
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 6.0], "x": [0.0, 1.0, 0.0, 1.0],
    ...                    "g": ["a", "a", "b", "b"]})
    >>> list(default_priors(make_design(parse_formula("y ~ x + (1 | g)"), df)))
    ['Intercept', 'b|x', 'sd|g', 'sigma']
    """
    # gaussian-like families centre and scale the priors by the response on the link scale
    to_link = design.family.link_response
    gaussian = design.family.name == "gaussian" or to_link is not None
    y_link = to_link(design.y) if to_link is not None else design.y
    w = design.weights  # frequency weights count rows (aggregated data = expanded data)
    s_y = _sd(y_link, w) if gaussian else 1.0
    priors: dict[str, tuple[Prior, str]] = {}
    for j, column in enumerate(design.fixed_columns):
        if column == "Intercept":
            mu = float(np.average(y_link, weights=w)) if gaussian else 0.0
            priors["Intercept"] = (
                Prior("Normal", mu=_round(mu), sigma=_round(2.5 * s_y)),
                "population intercept (at the means of the predictors)",
            )
        else:
            scale = 2.5 * s_y / _sd(design.X[:, j], w)
            priors[f"b|{column}"] = (
                Prior("Normal", mu=0.0, sigma=_round(scale)),
                f"population effect of {column}",
            )
    for block in design.blocks:
        s_group = s_y if gaussian else 2.5
        scales = [
            s_group if c == "Intercept" else s_group / _sd(block.Z[:, k], w)
            for k, c in enumerate(block.columns)
        ]
        sigma: float | list[float] = [_round(s) for s in scales]
        if len(scales) == 1:
            sigma = sigma[0]
        terms = ", ".join(block.columns)
        priors[f"sd|{block.name}"] = (
            Prior("HalfNormal", sigma=sigma),
            f"SD of {terms} across {block.factor}",
        )
        if block.correlated:
            priors[f"cor|{block.name}"] = (
                Prior("LKJ", eta=2.0),
                f"correlations of {terms} across {block.factor}",
            )
    own = design.family.default_priors(design.y, design.trials, w)
    for name, (dist, params, what) in own.items():
        priors[name] = (Prior(dist, **params), what)
    if design.dpar is not None:  # sigma="~ ...": priors of log σ's linear predictor
        from hierbayes.priors_dpar import dpar_default_priors

        priors = dpar_default_priors(design, priors)
    return priors


def resolve_priors(
    design: Design, overrides: dict[str, Prior] | None
) -> tuple[dict[str, Prior], pd.DataFrame]:
    """Apply user overrides to the defaults; return the final priors and their table.

    Raises
    ------
    PriorError
        For an unknown prior name (listing the valid ones), a value that is not a :class:`Prior`,
        or an SD prior whose distribution is not positive.
    """
    defaults = default_priors(design)
    overrides = dict(overrides or {})
    unknown = [name for name in overrides if name not in defaults]
    if unknown:
        raise PriorError(
            f"Unknown prior name(s) {', '.join(repr(u) for u in unknown)}. "
            "This model's priors are: "
            f"{', '.join(defaults)}."
        )
    final: dict[str, Prior] = {}
    rows = []
    for name, (prior, description) in defaults.items():
        source = "default"
        if name in overrides:
            prior, source = overrides[name], "user"
            _check_override(name, prior)
            _check_probability(design, name, prior)
            _check_length(name, prior, _expected_length(design, name))
        final[name] = prior
        rows.append(
            {"name": name, "prior": repr(prior), "source": source, "applies to": description}
        )
    return final, pd.DataFrame(rows).set_index("name")


def _expected_length(design: Design, name: str) -> int:
    """Number of coefficients a prior covers: a group term's size for ``sd|``, the number of
    cut-points for ``cutpoints``, else 1."""
    if name.startswith("sd|"):
        return len(design.block(name[3:]).columns)
    if name == "cutpoints" and design.response_levels is not None:  # one per cut-point
        return len(design.response_levels) - 1
    return 1


def _check_length(name: str, prior: Prior, size: int) -> None:
    for key, value in prior.kwargs.items():
        length = int(np.size(value))
        if np.ndim(value) > 1 or length not in (1, size):
            what = (
                "a single value"
                if size == 1
                else f"a single value or {size} values (one per coefficient of the group term "
                "or per cut-point, in the order the prior table shows)"
            )
            raise PriorError(
                f"Parameter {key} of the prior for '{name}' has {length} values; it takes {what}."
            )


def _check_probability(design: Design, name: str, prior: Prior) -> None:
    """A family's probability parameter (``zi``) takes a prior on (0, 1): ``Beta``."""
    family = design.family
    if name in family.params and family.transform(name) == "logit" and prior.dist != "Beta":
        raise PriorError(
            f"'{name}' of the {family.name} family is a probability: its prior must be on "
            f"(0, 1), Prior('Beta', alpha=..., beta=...); got {prior.dist}."
        )


def _check_override(name: str, prior: Any) -> None:
    if not isinstance(prior, Prior):
        raise PriorError(
            f"The prior for '{name}' must be a hierbayes.Prior, got {type(prior).__name__}."
        )
    if name.startswith("cor|") and prior.dist != "LKJ":
        raise PriorError(
            f"'{name}' is a correlation matrix: its prior must be Prior('LKJ', eta=...)."
        )
    if name.startswith("cor|") and set(prior.kwargs) != {"eta"}:
        raise PriorError(f"Prior('LKJ') for '{name}' takes exactly one parameter, eta.")
    if (name.startswith("sd|") or name == "sigma") and prior.dist not in POSITIVE_DISTRIBUTIONS:
        raise PriorError(
            f"'{name}' is a standard deviation: its prior must be positive, one of "
            f"{', '.join(sorted(POSITIVE_DISTRIBUTIONS))}; got {prior.dist}."
        )
    if prior.dist == "LKJ" and not name.startswith("cor|"):
        raise PriorError(
            f"Prior('LKJ') only applies to correlation matrices (cor|...), not '{name}'."
        )
