"""The probit and cloglog links of the binary families (bernoulli, binomial), all their forms.

A binary family's log-likelihood is ``y log p(η) + (n - y) log(1 - p(η))``. Each link here has

- compiled scalars (numba) of ``a = log p``, ``b = log(1 - p)`` and their derivatives in ``η``,
  numerically stable on the whole line: ``log Φ(η)`` from ``erfc`` and, below ``η = -30``, its
  asymptotic series; cloglog's ``p = 1 - exp(-e^η)`` through ``-expm1``;
- numpy versions (``log_cdf``, ``inverse_link``) for simulation, prediction and scoring;
- a PyTensor version, :func:`pytensor_logit_p`: ``logit p = a - b`` computed stably, handed to
  PyMC's ``Bernoulli``/``Binomial`` as ``logit_p`` (PyMC turns it into ``p``, so the PyMC
  model's log-likelihood loses precision where ``p`` or ``1 - p`` is below about 1e-12; the
  compiled kernel, the default sampler's, does not);
- its latent-scale residual variance (Nakagawa, Johnson & Schielzeth 2017: 1 for probit,
  π²/6 for cloglog) and its name in equations (``Φ⁻¹(p)``, ``log(-log(1 - p))``).

The compiled row function is shared by bernoulli and binomial (bernoulli is ``n = 1``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numba
import numpy as np
from scipy.special import log_ndtr, ndtr

from hierbayes.families._math import JIT

__all__ = [
    "BINARY_LINKS",
    "LATENT_VARIANCE",
    "cloglog_derivs",
    "cloglog_log",
    "d_inverse_link",
    "inverse_link",
    "link_symbol",
    "log_cdf",
    "probit_derivs",
    "probit_log",
    "pytensor_logit_p",
]

BINARY_LINKS = ("logit", "probit", "cloglog")
LATENT_VARIANCE = {"logit": float(np.pi**2 / 3), "probit": 1.0, "cloglog": float(np.pi**2 / 6)}

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_TAIL = -30.0  # below: the asymptotic series of Φ


# ---------------------------------------------------------------- probit, compiled


@numba.njit(**JIT)
def _log_phi_mills(x):
    """``(log Φ(x), φ(x)/Φ(x), x + φ(x)/Φ(x))``, stable for any ``x``."""
    if x < _TAIL:
        # Φ(x) = φ(x)/(-x) S, S = 1 - 1/x² + 3/x⁴ - 15/x⁶ + ... (error < 1e-15 at x < -30)
        t = 1.0 / (x * x)
        s1 = t * (-1.0 + t * (3.0 + t * (-15.0 + t * (105.0 + t * (-945.0 + t * 10395.0)))))
        log_phi = -0.5 * x * x - _LOG_SQRT_2PI
        r = -x / (1.0 + s1)
        return log_phi - math.log(-x) + math.log1p(s1), r, x * s1 / (1.0 + s1)
    cdf = 0.5 * math.erfc(-x * _SQRT_HALF)
    log_cdf = math.log(cdf) if x < 0.0 else math.log1p(-0.5 * math.erfc(x * _SQRT_HALF))
    r = math.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_cdf)
    return log_cdf, r, x + r


@numba.njit(**JIT)
def probit_log(eta):
    """``(log p, d log p/dη, log(1-p), d log(1-p)/dη)`` for ``p = Φ(η)``."""
    a, ra, _ = _log_phi_mills(eta)
    b, rb, _ = _log_phi_mills(-eta)
    return a, ra, b, -rb


@numba.njit(**JIT)
def probit_derivs(eta):
    """First to third derivatives in ``η`` of ``log p`` and of ``log(1-p)``, ``p = Φ(η)``:
    ``(a', a'', a''', b', b'', b''')``."""
    _, r, s = _log_phi_mills(eta)
    a2 = -r * s
    a3 = -a2 * s - r * (1.0 + a2)
    _, q, v = _log_phi_mills(-eta)
    b2 = -q * v
    b3 = b2 * v + q * (1.0 + b2)
    return r, a2, a3, -q, b2, b3


# ---------------------------------------------------------------- cloglog, compiled


@numba.njit(**JIT)
def _cloglog_g(u):
    """``(g, 1 - g - u)`` with ``g = u / (e^u - 1)`` (series for small ``u``)."""
    if u < 1e-2:
        g = 1.0 - u / 2.0 + u * u / 12.0 - u**4 / 720.0
        h = -u / 2.0 - u * u / 12.0 + u**4 / 720.0
        return g, h
    g = u / math.expm1(u)  # 0 once e^u overflows
    return g, 1.0 - g - u


@numba.njit(**JIT)
def cloglog_log(eta):
    """``(log p, d log p/dη, log(1-p), d log(1-p)/dη)`` for ``p = 1 - exp(-e^η)``."""
    u = math.exp(eta)
    if eta < _TAIL:
        a = eta - u / 2.0 + u * u / 24.0
    elif u > 0.6931471805599453:
        a = math.log1p(-math.exp(-u))
    else:
        a = math.log(-math.expm1(-u))
    return a, _cloglog_g(u)[0], -u, -u


@numba.njit(**JIT)
def cloglog_derivs(eta):
    """First to third derivatives in ``η`` of ``log p`` and of ``log(1-p)``,
    ``p = 1 - exp(-e^η)``: ``(a', a'', a''', b', b'', b''')``."""
    u = math.exp(eta)
    g, h = _cloglog_g(u)
    a2 = g * h
    a3 = a2 * (h - g) - u * g
    return g, a2, a3, -u, -u, -u


@numba.njit(**JIT)
def binary_row(y, n, a, a1, b, b1):
    """``(ℓ, dℓ/dη)`` of ``y`` successes in ``n`` from the link's ``log p``, ``log(1-p)``
    (a term with no count is 0, not ``0·∞``)."""
    ll = 0.0
    d = 0.0
    if y != 0.0:
        ll += y * a
        d += y * a1
    if n - y != 0.0:
        ll += (n - y) * b
        d += (n - y) * b1
    return ll, d


@numba.njit(**JIT)
def binary_derivs(y, n, a1, a2, a3, b1, b2, b3):
    """``(dℓ/dη, d²ℓ/dη², d³ℓ/dη³)`` of ``y`` successes in ``n`` from the link's derivatives."""
    m = n - y
    if m == 0.0:
        return y * a1, y * a2, y * a3
    if y == 0.0:
        return m * b1, m * b2, m * b3
    return y * a1 + m * b1, y * a2 + m * b2, y * a3 + m * b3


# ---------------------------------------------------------------- numpy


def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """``p`` from ``η`` (numpy).

    Examples
    --------
    >>> inverse_link("probit", np.array([0.0])).tolist(), inverse_link("cloglog", np.array([0.0]))
    ([0.5], array([0.63212056]))
    """
    eta = np.asarray(eta, dtype=float)
    if link == "probit":
        return ndtr(eta)
    if link == "cloglog":
        return -np.expm1(-np.exp(eta))
    raise ValueError(f"no binary link {link!r}")


def d_inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """``dp/dη`` (numpy).

    Examples
    --------
    >>> float(d_inverse_link("probit", np.array([0.0]))[0]) == float(1 / np.sqrt(2 * np.pi))
    True
    """
    eta = np.asarray(eta, dtype=float)
    if link == "probit":
        return np.exp(-0.5 * eta**2 - _LOG_SQRT_2PI)
    if link == "cloglog":
        return np.exp(eta - np.exp(eta))
    raise ValueError(f"no binary link {link!r}")


def log_cdf(link: str, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log p, log(1 - p))`` (numpy, stable).

    Examples
    --------
    >>> a, b = log_cdf("cloglog", np.array([-50.0, 0.0]))
    >>> a.round(6).tolist(), b.round(6).tolist()
    ([-50.0, -0.458675], [-0.0, -1.0])
    """
    eta = np.asarray(eta, dtype=float)
    if link == "probit":
        return log_ndtr(eta), log_ndtr(-eta)
    if link == "cloglog":
        u = np.exp(eta)
        with np.errstate(divide="ignore"):
            a = np.where(
                u > np.log(2.0), np.log1p(-np.exp(-u)), np.log(-np.expm1(-np.minimum(u, 1.0)))
            )
        a = np.where(eta < _TAIL, eta - u / 2.0, a)
        return a, -u
    raise ValueError(f"no binary link {link!r}")


# ---------------------------------------------------------------- PyTensor


def _pt_log_ndtr(x: Any) -> Any:
    import pytensor.tensor as pt

    neg = pt.minimum(x, 0.0)
    pos = pt.maximum(x, 0.0)
    # x < 0: log(erfcx(-x/√2)/2) - x²/2; x >= 0: log1p(-erfc(x/√2)/2)
    left = pt.log(0.5 * pt.erfcx(-neg * _SQRT_HALF)) - 0.5 * neg**2
    right = pt.log1p(-0.5 * pt.erfc(pos * _SQRT_HALF))
    return pt.switch(x < 0, left, right)


def pytensor_logit_p(link: str, eta: Any) -> Any:
    """``logit p = log p - log(1 - p)`` of the link as a PyTensor expression, stable on the
    whole line."""
    import pytensor.tensor as pt

    if link == "probit":
        return _pt_log_ndtr(eta) - _pt_log_ndtr(-eta)
    if link == "cloglog":
        u = pt.exp(eta)
        return pt.log1mexp(-u) + u
    raise ValueError(f"no binary link {link!r}")


# ---------------------------------------------------------------- latent scale and notation


def _latent_constant(
    value: float,
    fixed: Callable[[], np.ndarray],
    group_var: np.ndarray,
    params: Mapping[str, Any],
) -> np.ndarray:
    return np.full_like(group_var, value)


def latent_variance(link: str) -> Callable[..., np.ndarray]:
    """The link's latent residual variance, as :class:`~hierbayes.families.Family` wants it
    (``latent_variance(fixed, group_var, params)``; picklable).

    Examples
    --------
    >>> latent_variance("probit")(None, np.zeros((2, 1)), {}).tolist()
    [[1.0], [1.0]]
    """
    return partial(_latent_constant, LATENT_VARIANCE[link])


def link_symbol(link: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """How equations write ``g(mean)``: what comes before and after the mean, each as
    (plain text, LaTeX).

    Examples
    --------
    >>> [text for text, _ in link_symbol("probit")], [text for text, _ in link_symbol("cloglog")]
    (['Φ⁻¹(', ')'], ['log(-log(1 - ', '))'])
    """
    if link == "probit":
        return ("Φ⁻¹(", r"\Phi^{-1}("), (")", ")")
    if link == "cloglog":
        return ("log(-log(1 - ", r"\log(-\log(1 - "), ("))", "))")
    return (f"{link}(", rf"\operatorname{{{link}}}("), (")", ")")
