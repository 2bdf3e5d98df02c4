"""Prior rows of the compiled kernel: a PyMC-style :class:`~hierbayes.priors.Prior` as the
kernel's code and parameters (:mod:`hierbayes.density.prior_density` evaluates them), a central
value of each (where chains start), and LKJ's normalising constant. Models the kernel cannot
evaluate raise :class:`Unsupported`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import gammaln

from hierbayes.density import codes as K
from hierbayes.errors import PriorError
from hierbayes.priors import Prior

__all__ = ["Unsupported", "lkj_constant", "prior_rows", "support_point"]


class Unsupported(Exception):
    """The compiled log-density cannot evaluate this model (the message says why)."""


# PyMC distribution -> (kernel code, parameter names in kernel order, defaults, positive support)
_REAL = {
    "Normal": (K.NORMAL, ("mu", "sigma"), {"mu": 0.0, "sigma": 1.0}),
    "StudentT": (K.STUDENT_T, ("nu", "mu", "sigma"), {"mu": 0.0, "sigma": 1.0}),
    "Cauchy": (K.CAUCHY, ("alpha", "beta"), {}),
    "Laplace": (K.LAPLACE, ("mu", "b"), {}),
    "Flat": (K.FLAT, (), {}),
}
_POSITIVE = {
    "HalfNormal": (K.HALF_NORMAL, ("sigma",), {"sigma": 1.0}),
    "HalfStudentT": (K.HALF_STUDENT_T, ("nu", "sigma"), {"sigma": 1.0}),
    "HalfCauchy": (K.HALF_CAUCHY, ("beta",), {}),
    "Exponential": (K.EXPONENTIAL, ("lam",), {}),
    "Gamma": (K.GAMMA, ("alpha", "beta"), {}),
    "InverseGamma": (K.INVERSE_GAMMA, ("alpha", "beta"), {}),
    "LogNormal": (K.LOG_NORMAL, ("mu", "sigma"), {"mu": 0.0, "sigma": 1.0}),
    "Weibull": (K.WEIBULL, ("alpha", "beta"), {}),
    "HalfFlat": (K.HALF_FLAT, (), {}),
}
# a probability (a family's own parameter sampled on the logit scale)
_UNIT = {"Beta": (K.BETA, ("alpha", "beta"), {})}
# parameters that may take any finite value (locations); all others must be positive
_LOCATIONS = {"mu", "Cauchy.alpha"}


def _alternatives(dist: str, params: dict[str, Any], name: str) -> dict[str, Any]:
    """PyMC's alternative parameters (``tau``, ``lam``, ``scale``) as the kernel's.

    Both forms of one parameter at once (``sigma`` and ``tau``, ...) is an error, as in PyMC.
    """
    params = dict(params)
    for alt, main in (("tau", "sigma"), ("lam", "sigma"), ("scale", "lam")):
        if alt in params and main in params:
            raise PriorError(
                f"The {dist} prior of '{name}' has both {main} and {alt}, two forms of one "
                "parameter; give one of them."
            )
    if "tau" in params and dist in ("Normal", "HalfNormal", "LogNormal"):
        params["sigma"] = np.asarray(params.pop("tau"), dtype=float) ** -0.5
    if "lam" in params and dist in ("StudentT", "HalfStudentT"):
        params["sigma"] = np.asarray(params.pop("lam"), dtype=float) ** -0.5
    if "scale" in params and dist == "Exponential":
        params["lam"] = 1.0 / np.asarray(params.pop("scale"), dtype=float)
    if dist == "Gamma" and set(params) == {"mu", "sigma"}:
        mu, sd = (np.asarray(params[k], dtype=float) for k in ("mu", "sigma"))
        params = {"alpha": mu**2 / sd**2, "beta": mu / sd**2}
    return params


def prior_rows(
    name: str, prior: Prior, size: int, *, positive: bool, unit: bool = False
) -> np.ndarray:
    """``size`` rows ``(code, a, b, c)`` of one prior (array parameters give one row each);
    ``unit``: the prior of a probability.

    Raises :class:`Unsupported` for a distribution or parameterisation the kernel lacks and
    :class:`~hierbayes.errors.PriorError` for parameter values outside their range.
    """
    table = _UNIT if unit else _POSITIVE if positive else _REAL
    if prior.dist not in table:
        raise Unsupported(f"prior {prior.dist} of '{name}'")
    code, names, defaults = table[prior.dist]
    params = _alternatives(prior.dist, prior.kwargs, name)
    if set(params) - set(names):
        raise Unsupported(f"parameters {sorted(params)} of the {prior.dist} prior of '{name}'")
    rows = np.zeros((size, 4))
    rows[:, 0] = code
    for k, key in enumerate(names):
        if key in params:
            value = np.asarray(params[key], dtype=float)
        elif key in defaults:
            value = np.asarray(defaults[key])
        else:
            raise Unsupported(f"the {prior.dist} prior of '{name}' without {key}")
        value = np.broadcast_to(value, (size,)) if value.ndim else np.full(size, float(value))
        location = key in _LOCATIONS or f"{prior.dist}.{key}" in _LOCATIONS
        if not np.all(np.isfinite(value)) or (not location and np.any(value <= 0)):
            raise PriorError(
                f"Parameter {key} of the {prior.dist} prior of '{name}' must be "
                f"{'finite' if location else 'positive'}; got {value.tolist()}."
            )
        rows[:, 1 + k] = value
    return rows


def lkj_constant(eta: float, q: int) -> float:
    """Log normalising constant of LKJ(eta) for q x q correlations (as PyMC's)."""
    k = np.arange(1, q)
    return float(
        (q - 1) * gammaln(eta + 0.5 * (q - 1))
        - (0.5 * k * np.log(np.pi) + gammaln(eta + 0.5 * (q - 1 - k))).sum()
    )


def support_point(rows: np.ndarray, *, positive: bool) -> np.ndarray:
    """A central value of each prior row (on the unconstrained scale): the location of a real
    prior, the log of a positive prior's scale (or mean)."""
    out = np.zeros(len(rows))
    for k, (code, a, b, _) in enumerate(rows):
        if not positive:
            out[k] = (
                b if code == K.STUDENT_T else a if code in (K.NORMAL, K.LAPLACE, K.CAUCHY) else 0.0
            )
            continue
        scale = {
            K.HALF_NORMAL: a,
            K.HALF_CAUCHY: a,
            K.HALF_STUDENT_T: b,
            K.EXPONENTIAL: 1.0 / a if a > 0 else 1.0,
            K.GAMMA: a / b if b > 0 else 1.0,
            K.INVERSE_GAMMA: b / max(a - 1.0, 1.0),
            K.LOG_NORMAL: np.exp(a),
            K.WEIBULL: b,
        }.get(int(code), 1.0)
        out[k] = np.log(a / b) if code == K.BETA else np.log(scale)  # logit of the mean
    return out
