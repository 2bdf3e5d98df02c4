"""The parameters each prior distribution takes and the values they allow, checked when a
:class:`~hierbayes.priors.Prior` is made.

Every distribution hierbayes's samplers evaluate (and a few more PyMC ones) is listed with its
parameters (PyMC's names), the range of each and which ones it needs; ``Prior("Normal",
sigma=-1)``, ``Prior("HalfNormal", sigma=0)``, ``Prior("LKJ", eta=0)`` or ``Prior("Gamma",
alpha=2)`` are refused where they are written, not when the model is fitted (PyMC would only
fail at the sampler's first step, with ``nan`` for the prior's log-density). A distribution not
listed here is checked against PyMC when the model is built.

=========  ============================================================================
range      values
=========  ============================================================================
real       a finite number (a location: ``mu``, Cauchy's ``alpha``, SkewNormal's ``alpha``)
positive   a finite number > 0 (scales, shapes, rates, degrees of freedom, LKJ's ``eta``)
unit       a number strictly between 0 and 1 (Beta's mean ``mu``)
bound      a number or ±inf (TruncatedNormal's ``lower``, ``upper``)
=========  ============================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hierbayes.errors import PriorError

__all__ = ["PRIOR_PARAMETERS", "check_prior_parameters"]

_REAL, _POSITIVE, _UNIT, _BOUND = "real", "positive", "unit", "bound"

_WHAT = {
    _REAL: "a finite number",
    _POSITIVE: "a finite number > 0",
    _UNIT: "a number strictly between 0 and 1",
    _BOUND: "a number or ±inf",
}

# distribution -> (parameter -> range, the sets of parameters it can be given by: one of them
# must be complete; () when every parameter has a default)
PRIOR_PARAMETERS: dict[str, tuple[dict[str, str], tuple[frozenset[str], ...]]] = {
    "Normal": ({"mu": _REAL, "sigma": _POSITIVE, "tau": _POSITIVE}, ()),
    "StudentT": (
        {"nu": _POSITIVE, "mu": _REAL, "sigma": _POSITIVE, "lam": _POSITIVE},
        (frozenset({"nu"}),),
    ),
    "Cauchy": ({"alpha": _REAL, "beta": _POSITIVE}, (frozenset({"alpha", "beta"}),)),
    "Laplace": ({"mu": _REAL, "b": _POSITIVE}, (frozenset({"mu", "b"}),)),
    "SkewNormal": ({"alpha": _REAL, "mu": _REAL, "sigma": _POSITIVE, "tau": _POSITIVE}, ()),
    "TruncatedNormal": (
        {"mu": _REAL, "sigma": _POSITIVE, "tau": _POSITIVE, "lower": _BOUND, "upper": _BOUND},
        (),
    ),
    "Uniform": ({"lower": _REAL, "upper": _REAL}, ()),
    "Flat": ({}, ()),
    "HalfFlat": ({}, ()),
    "HalfNormal": ({"sigma": _POSITIVE, "tau": _POSITIVE}, ()),
    "HalfStudentT": (
        {"nu": _POSITIVE, "sigma": _POSITIVE, "lam": _POSITIVE},
        (frozenset({"nu"}),),
    ),
    "HalfCauchy": ({"beta": _POSITIVE}, (frozenset({"beta"}),)),
    "Exponential": (
        {"lam": _POSITIVE, "scale": _POSITIVE},
        (frozenset({"lam"}), frozenset({"scale"})),
    ),
    "Gamma": (
        {"alpha": _POSITIVE, "beta": _POSITIVE, "mu": _POSITIVE, "sigma": _POSITIVE},
        (frozenset({"alpha", "beta"}), frozenset({"mu", "sigma"})),
    ),
    "InverseGamma": (
        {"alpha": _POSITIVE, "beta": _POSITIVE, "mu": _POSITIVE, "sigma": _POSITIVE},
        (frozenset({"alpha"}), frozenset({"mu", "sigma"})),
    ),
    "LogNormal": ({"mu": _REAL, "sigma": _POSITIVE, "tau": _POSITIVE}, ()),
    "Weibull": ({"alpha": _POSITIVE, "beta": _POSITIVE}, (frozenset({"alpha", "beta"}),)),
    "Beta": (
        {"alpha": _POSITIVE, "beta": _POSITIVE, "mu": _UNIT, "sigma": _POSITIVE, "nu": _POSITIVE},
        (frozenset({"alpha", "beta"}), frozenset({"mu", "sigma"}), frozenset({"mu", "nu"})),
    ),
    "LKJ": ({"eta": _POSITIVE}, (frozenset({"eta"}),)),
}

# two forms of one parameter (PyMC refuses both at once)
_SAME = (("sigma", "tau"), ("sigma", "lam"), ("lam", "scale"))


def check_prior_parameters(dist: str, params: dict[str, Any]) -> None:
    """Refuse parameters that ``dist`` does not take, values outside their range, two forms of
    one parameter, and a missing parameter the distribution needs.

    ``params`` are already numbers or flat lists of numbers (not NaN, not bool: checked by
    :class:`~hierbayes.priors.Prior`). A distribution not in :data:`PRIOR_PARAMETERS` passes
    (PyMC's own signature is checked when the model is built).

    Examples
    --------
    >>> check_prior_parameters("HalfNormal", {"sigma": 2.5})
    >>> check_prior_parameters("HalfNormal", {"sigma": 0})
    Traceback (most recent call last):
    ...
    hierbayes.errors.PriorError: Parameter sigma of Prior('HalfNormal') must be a finite ...
    """
    if dist not in PRIOR_PARAMETERS:
        return
    ranges, needs = PRIOR_PARAMETERS[dist]
    unknown = [k for k in params if k not in ranges]
    if unknown:
        takes = f"takes {', '.join(ranges)}" if ranges else "takes no parameters"
        raise PriorError(
            f"Prior({dist!r}) has no parameter {', '.join(unknown)}: {dist} {takes} (PyMC's names)."
        )
    for key, value in params.items():
        _check_range(dist, key, value, ranges[key])
    for one, other in _SAME:
        if one in params and other in params and one in ranges and other in ranges:
            raise PriorError(
                f"Prior({dist!r}) has both {one} and {other}, two forms of one parameter; give "
                "one of them."
            )
    if needs and not any(need <= set(params) for need in needs):
        forms = " or ".join(", ".join(sorted(need)) for need in needs)
        raise PriorError(f"Prior({dist!r}) needs {forms}; got {', '.join(params) or 'none'}.")
    if dist == "Beta" and "mu" in params and "sigma" in params:
        mu, sd = (np.asarray(params[k], float) for k in ("mu", "sigma"))
        if np.any(sd**2 >= mu * (1 - mu)):
            raise PriorError(
                f"Prior('Beta') with mu={params['mu']!r} needs sigma < sqrt(mu (1 - mu)), the "
                f"largest SD of a Beta with that mean; got sigma={params['sigma']!r}."
            )
    if dist == "Uniform" and "lower" in params and "upper" in params:
        if np.any(np.asarray(params["lower"], float) >= np.asarray(params["upper"], float)):
            raise PriorError(
                f"Prior('Uniform') needs lower < upper, got lower={params['lower']!r}, "
                f"upper={params['upper']!r}."
            )


def _check_range(dist: str, key: str, value: Any, kind: str) -> None:
    values = np.asarray(value, dtype=float).ravel()
    ok = {
        _REAL: np.isfinite(values),
        _POSITIVE: np.isfinite(values) & (values > 0),
        _UNIT: (values > 0) & (values < 1),
        _BOUND: ~np.isnan(values),
    }[kind]
    if not np.all(ok):
        why = " (a scale, shape, rate or degrees of freedom)" if kind == _POSITIVE else ""
        raise PriorError(
            f"Parameter {key} of Prior({dist!r}) must be {_WHAT[kind]}{why}, got {value!r}."
        )
