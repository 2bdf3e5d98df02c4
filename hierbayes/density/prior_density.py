"""The prior log-densities the compiled kernel knows, by code (:mod:`hierbayes.density.codes`), with
their derivatives; a positive parameter is sampled on the log scale (Jacobian included).
"""

from __future__ import annotations

import math

import numba

from hierbayes.density.codes import (
    BETA,
    CAUCHY,
    EXPONENTIAL,
    FLAT,
    GAMMA,
    HALF_CAUCHY,
    HALF_FLAT,
    HALF_NORMAL,
    HALF_STUDENT_T,
    INVERSE_GAMMA,
    JIT,
    LAPLACE,
    LOG_2,
    LOG_2PI,
    LOG_NORMAL,
    LOG_PI,
    NORMAL,
    STUDENT_T,
    WEIBULL,
)

# --- priors -----------------------------------------------------------------------------------


@numba.njit(**JIT)
def prior_logp(code, a, b, c, x):
    """Log density of a prior at ``x`` and its derivative in ``x``."""
    if code == NORMAL:
        z = (x - a) / b
        return -0.5 * z * z - math.log(b) - 0.5 * LOG_2PI, -z / b
    if code == STUDENT_T:  # nu = a, mu = b, sigma = c
        z = (x - b) / c
        lp = (
            math.lgamma(0.5 * (a + 1.0))
            - math.lgamma(0.5 * a)
            - 0.5 * math.log(a * math.pi)
            - math.log(c)
            - 0.5 * (a + 1.0) * math.log1p(z * z / a)
        )
        return lp, -(a + 1.0) * z / (c * (a + z * z))
    if code == CAUCHY:  # alpha = a, beta = b
        z = (x - a) / b
        return -LOG_PI - math.log(b) - math.log1p(z * z), -2.0 * z / (b * (1.0 + z * z))
    if code == LAPLACE:  # mu = a, b = b
        d = x - a
        return -math.log(2.0 * b) - abs(d) / b, -math.copysign(1.0, d) / b if d != 0 else 0.0
    if code == FLAT or code == HALF_FLAT:
        return 0.0, 0.0
    if code == HALF_NORMAL:  # sigma = a
        z = x / a
        return 0.5 * math.log(2.0 / math.pi) - math.log(a) - 0.5 * z * z, -z / a
    if code == HALF_STUDENT_T:  # nu = a, sigma = b
        z = x / b
        lp = (
            LOG_2
            + math.lgamma(0.5 * (a + 1.0))
            - math.lgamma(0.5 * a)
            - 0.5 * math.log(a * math.pi)
            - math.log(b)
            - 0.5 * (a + 1.0) * math.log1p(z * z / a)
        )
        return lp, -(a + 1.0) * z / (b * (a + z * z))
    if code == HALF_CAUCHY:  # beta = a
        z = x / a
        return LOG_2 - LOG_PI - math.log(a) - math.log1p(z * z), -2.0 * z / (a * (1.0 + z * z))
    if code == EXPONENTIAL:  # lam = a
        return math.log(a) - a * x, -a
    if code == GAMMA:  # alpha = a, beta = b
        return a * math.log(b) - math.lgamma(a) + (a - 1.0) * math.log(x) - b * x, (a - 1.0) / x - b
    if code == INVERSE_GAMMA:  # alpha = a, beta = b
        return a * math.log(b) - math.lgamma(a) - (a + 1.0) * math.log(x) - b / x, (
            -(a + 1.0) / x + b / (x * x)
        )
    if code == LOG_NORMAL:  # mu = a, sigma = b
        lx = math.log(x)
        z = (lx - a) / b
        return -lx - math.log(b) - 0.5 * LOG_2PI - 0.5 * z * z, -(1.0 + z / b) / x
    if code == WEIBULL:  # alpha = a, beta = b
        r = x / b
        ra = r**a
        return math.log(a) - math.log(b) + (a - 1.0) * math.log(r) - ra, (a - 1.0) / x - (
            a * ra / x
        )
    return math.nan, math.nan


@numba.njit(**JIT)
def log_prior(priors, k, value, grad, pos):
    """Add prior ``k`` (a row of ``priors``) of a real parameter; return its log density."""
    lp, d = prior_logp(
        int(priors[4 * k]), priors[4 * k + 1], priors[4 * k + 2], priors[4 * k + 3], value
    )
    grad[pos] += d
    return lp


@numba.njit(**JIT)
def log_prior_positive(priors, k, v, grad, pos):
    """Prior ``k`` of a positive parameter sampled as ``v = log(value)``, with the Jacobian.

    Returns ``(log density, value)``."""
    value = math.exp(v)
    lp, d = prior_logp(
        int(priors[4 * k]), priors[4 * k + 1], priors[4 * k + 2], priors[4 * k + 3], value
    )
    grad[pos] += d * value + 1.0
    return lp + v, value


@numba.njit(**JIT)
def log_prior_own(priors, k, v, grad, pos):
    """Prior ``k`` of a family's own parameter, with the Jacobian of its transform: a
    probability (prior code ``BETA``, ``a = α``, ``b = β``) sampled as ``v = logit(value)``,
    any other positive parameter as ``v = log(value)``.

    Returns ``(log density, value, d value / d v)``."""
    if int(priors[4 * k]) != BETA:
        lp, value = log_prior_positive(priors, k, v, grad, pos)
        return lp, value, value
    a, b = priors[4 * k + 1], priors[4 * k + 2]
    log_p = -math.log1p(math.exp(-v)) if v >= 0.0 else v - math.log1p(math.exp(v))
    log_q = log_p - v  # log(1 - value)
    value = math.exp(log_p)
    norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    # log Beta(value | a, b) + log(value (1 - value)), and its derivative in v
    grad[pos] += a * (1.0 - value) - b * value
    return norm + a * log_p + b * log_q, value, value * math.exp(log_q)
