"""Ordered vectors of the compiled log-density: the cut-points of an ordinal family.

The ``K - 1`` cut-points ``c`` are sampled unconstrained as ``x`` with ``c_1 = x_1`` and
``c_k = c_{k-1} + exp(x_k)`` (Stan's and PyMC's ``ordered`` transform); the log-Jacobian is
``Σ_{k≥2} x_k``. Each cut-point has its own prior row (a real-line prior), as brms's
``Intercept[k]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hierbayes.density.codes import JIT
from hierbayes.density.prior_density import log_prior

__all__ = ["ordered_backward", "ordered_forward"]


@numba.njit(**JIT)
def ordered_backward(x, start, cbar, grad):
    """Push ``d/dc`` (``cbar``) back to ``x[start:start + len(cbar)]`` (into ``grad``)."""
    acc = 0.0
    for k in range(cbar.shape[0] - 1, -1, -1):
        acc += cbar[k]
        grad[start + k] += acc if k == 0 else acc * math.exp(x[start + k])


@numba.njit(**JIT)
def ordered_forward(priors, x, start, theta, grad):
    """Fill ``theta`` with the ordered values of ``x[start:]``; return their log prior plus the
    log-Jacobian, with its gradient added to ``grad``."""
    nf = theta.shape[0]
    cbar = np.zeros(nf)
    lp = 0.0
    for k in range(nf):
        v = x[start + k]
        if k == 0:
            theta[k] = v
        else:
            theta[k] = theta[k - 1] + math.exp(v)
            lp += v
            grad[start + k] += 1.0
        lp += log_prior(priors, k, theta[k], cbar, k)
    ordered_backward(x, start, cbar, grad)
    return lp
