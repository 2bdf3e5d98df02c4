"""The compiled side of the families: loops over rows that call one family's numba functions.

numba cannot call a Python object, so the kernel passes the family as an integer code (its
module's ``CODE``) and the functions here branch once on it, then run a tight loop over the rows
with that family's ``prepare``/``row``/``derivs`` compiled in. Adding a family is one line per
function below. (numba's cache of these functions and of the kernel is renewed when any module
of :mod:`hierbayes.families` changes: :mod:`hierbayes.families._cache`.)

A family module's compiled interface (see :mod:`hierbayes.families.gaussian`):

``prepare(θ) -> aux``
    the row constants (a tuple) from the family's own parameters ``θ`` (natural scale);
``row(y, η, n, aux) -> (ℓ, dℓ/dη, dℓ/dθ₀, dℓ/dθ₁)``
    one row's log-likelihood without its parameter-free constant, with ``n`` the row's trials
    (1 where the family has none); at most two own scalar parameters; likelihood weights are
    applied here, not in the family;
``derivs(y, η, n, aux) -> (dℓ/dη, d²ℓ/dη², d³ℓ/dη³)``
    what a per-group Newton solve of a Laplace approximation needs.
"""

from __future__ import annotations

import numba
import numpy as np

from hierbayes.families import (
    _cache,
    bernoulli,
    beta,
    binomial,
    cloglog,
    cumulative,
    cumulative_probit,
    gamma,
    gaussian,
    lognormal,
    negativebinomial,
    poisson,
    probit,
    student_t,
    zero_inflated_negativebinomial,
    zero_inflated_poisson,
)
from hierbayes.families._math import JIT

_cache.install()  # before the functions below (and the kernel's) are decorated

__all__ = ["eta_derivs", "loglik_grad", "loglik_rows"]


@numba.njit(**JIT)
def _grad_loop(prepare, row, y, eta, trials, weights, theta, tbar):
    aux = prepare(theta)
    has_n = trials.shape[0] > 0
    lp = 0.0
    g0 = 0.0
    g1 = 0.0
    if weights.shape[0] == 0:
        for i in range(y.shape[0]):
            ll, d1, a, b = row(y[i], eta[i], trials[i] if has_n else 1.0, aux)
            lp += ll
            eta[i] = d1
            g0 += a
            g1 += b
    else:
        for i in range(y.shape[0]):
            ll, d1, a, b = row(y[i], eta[i], trials[i] if has_n else 1.0, aux)
            w = weights[i]
            lp += w * ll
            eta[i] = w * d1
            g0 += w * a
            g1 += w * b
    if tbar.shape[0] > 0:
        tbar[0] += g0
    if tbar.shape[0] > 1:
        tbar[1] += g1
    return lp


@numba.njit(**JIT)
def loglik_grad(code, y, eta, trials, weights, theta, tbar):
    """Σ of the rows' log-likelihoods (without constants) given ``η``, each times its weight.

    ``η`` is overwritten with ``dℓ/dη``; ``dℓ/dθ`` is added to ``tbar``. ``trials`` and
    ``weights``: empty or one per row. An unknown ``code`` gives NaN.
    """
    if code == gaussian.CODE:
        return _grad_loop(gaussian.prepare, gaussian.row, y, eta, trials, weights, theta, tbar)
    if code == bernoulli.CODE:
        if weights.shape[0] == 0:  # one log per block of rows
            return bernoulli.grad_loop(y, eta)
        return _grad_loop(bernoulli.prepare, bernoulli.row, y, eta, trials, weights, theta, tbar)
    if code == binomial.CODE:
        return _grad_loop(binomial.prepare, binomial.row, y, eta, trials, weights, theta, tbar)
    if code == poisson.CODE:
        return _grad_loop(poisson.prepare, poisson.row, y, eta, trials, weights, theta, tbar)
    if code == negativebinomial.CODE:
        if weights.shape[0] == 0:  # the counts' terms summed by value
            return negativebinomial.grad_loop(y, eta, theta, tbar)
        fam = (negativebinomial.prepare, negativebinomial.row)
        return _grad_loop(*fam, y, eta, trials, weights, theta, tbar)
    if code == probit.BERNOULLI_CODE or code == probit.BINOMIAL_CODE:
        return _grad_loop(probit.prepare, probit.row, y, eta, trials, weights, theta, tbar)
    if code == cloglog.BERNOULLI_CODE or code == cloglog.BINOMIAL_CODE:
        return _grad_loop(cloglog.prepare, cloglog.row, y, eta, trials, weights, theta, tbar)
    if code == student_t.CODE:
        return _grad_loop(student_t.prepare, student_t.row, y, eta, trials, weights, theta, tbar)
    if code == gamma.CODE:
        return _grad_loop(gamma.prepare, gamma.row, y, eta, trials, weights, theta, tbar)
    if code == lognormal.CODE:
        return _grad_loop(lognormal.prepare, lognormal.row, y, eta, trials, weights, theta, tbar)
    if code == beta.CODE:
        return _grad_loop(beta.prepare, beta.row, y, eta, trials, weights, theta, tbar)
    if code == zero_inflated_poisson.CODE:
        fam = (zero_inflated_poisson.prepare, zero_inflated_poisson.row)
        return _grad_loop(*fam, y, eta, trials, weights, theta, tbar)
    if code == zero_inflated_negativebinomial.CODE:
        fam = (zero_inflated_negativebinomial.prepare, zero_inflated_negativebinomial.row)
        return _grad_loop(*fam, y, eta, trials, weights, theta, tbar)
    if code == cumulative.CODE:  # a vector of cut-points: its own loop
        return cumulative.grad_loop(y, eta, weights, theta, tbar)
    if code == cumulative_probit.CODE:
        return cumulative_probit.grad_loop(y, eta, weights, theta, tbar)
    return np.nan


@numba.njit(**JIT)
def _derivs_loop(prepare, derivs, y, eta, trials, theta, d1, d2, d3):
    aux = prepare(theta)
    has_n = trials.shape[0] > 0
    for i in range(y.shape[0]):
        d1[i], d2[i], d3[i] = derivs(y[i], eta[i], trials[i] if has_n else 1.0, aux)


@numba.njit(**JIT)
def eta_derivs(code, y, eta, trials, theta, d1, d2, d3):
    """First, second and third derivatives of each row's log-likelihood in ``η``, into
    ``d1``, ``d2``, ``d3``."""
    if code == gaussian.CODE:
        _derivs_loop(gaussian.prepare, gaussian.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == bernoulli.CODE:
        _derivs_loop(bernoulli.prepare, bernoulli.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == binomial.CODE:
        _derivs_loop(binomial.prepare, binomial.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == poisson.CODE:
        _derivs_loop(poisson.prepare, poisson.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == negativebinomial.CODE:
        fam = (negativebinomial.prepare, negativebinomial.derivs)
        _derivs_loop(*fam, y, eta, trials, theta, d1, d2, d3)
    elif code == probit.BERNOULLI_CODE or code == probit.BINOMIAL_CODE:
        _derivs_loop(probit.prepare, probit.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == cloglog.BERNOULLI_CODE or code == cloglog.BINOMIAL_CODE:
        _derivs_loop(cloglog.prepare, cloglog.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == student_t.CODE:
        _derivs_loop(student_t.prepare, student_t.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == gamma.CODE:
        _derivs_loop(gamma.prepare, gamma.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == lognormal.CODE:
        _derivs_loop(lognormal.prepare, lognormal.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == beta.CODE:
        _derivs_loop(beta.prepare, beta.derivs, y, eta, trials, theta, d1, d2, d3)
    elif code == zero_inflated_poisson.CODE:
        fam = (zero_inflated_poisson.prepare, zero_inflated_poisson.derivs)
        _derivs_loop(*fam, y, eta, trials, theta, d1, d2, d3)
    elif code == zero_inflated_negativebinomial.CODE:
        fam = (zero_inflated_negativebinomial.prepare, zero_inflated_negativebinomial.derivs)
        _derivs_loop(*fam, y, eta, trials, theta, d1, d2, d3)
    elif code == cumulative.CODE:
        fam = (cumulative.prepare, cumulative.derivs)
        _derivs_loop(*fam, y, eta, trials, theta, d1, d2, d3)
    elif code == cumulative_probit.CODE:
        fam = (cumulative_probit.prepare, cumulative_probit.derivs)
        _derivs_loop(*fam, y, eta, trials, theta, d1, d2, d3)
    else:
        d1[:] = np.nan


@numba.njit(**JIT)
def _rows_loop(prepare, row, y, eta, trials, weights, theta, const):
    has_n = trials.shape[0] > 0
    has_w = weights.shape[0] > 0
    for s in range(eta.shape[0]):
        aux = prepare(theta[s])
        for i in range(y.shape[0]):
            ll = const[i] + row(y[i], eta[s, i], trials[i] if has_n else 1.0, aux)[0]
            eta[s, i] = weights[i] * ll if has_w else ll


@numba.njit(**JIT)
def loglik_rows(code, y, eta, trials, weights, theta, const):
    """Turn linear predictors ``η`` (S, n) into the rows' log densities, in place (each times
    its weight, as brms's ``log_lik``; ``weights`` empty: none).

    ``theta``: (S, k) own parameters per draw; ``const``: (n,) each row's parameter-free part
    (the family's ``constant``).
    """
    if code == gaussian.CODE:
        _rows_loop(gaussian.prepare, gaussian.row, y, eta, trials, weights, theta, const)
    elif code == bernoulli.CODE:
        _rows_loop(bernoulli.prepare, bernoulli.row, y, eta, trials, weights, theta, const)
    elif code == binomial.CODE:
        _rows_loop(binomial.prepare, binomial.row, y, eta, trials, weights, theta, const)
    elif code == poisson.CODE:
        _rows_loop(poisson.prepare, poisson.row, y, eta, trials, weights, theta, const)
    elif code == negativebinomial.CODE:  # log Γ by a table of the counts' values
        negativebinomial.rows_loop(y, eta, weights, theta, const)
    elif code == probit.BERNOULLI_CODE or code == probit.BINOMIAL_CODE:
        _rows_loop(probit.prepare, probit.row, y, eta, trials, weights, theta, const)
    elif code == cloglog.BERNOULLI_CODE or code == cloglog.BINOMIAL_CODE:
        _rows_loop(cloglog.prepare, cloglog.row, y, eta, trials, weights, theta, const)
    elif code == student_t.CODE:
        _rows_loop(student_t.prepare, student_t.row, y, eta, trials, weights, theta, const)
    elif code == gamma.CODE:
        _rows_loop(gamma.prepare, gamma.row, y, eta, trials, weights, theta, const)
    elif code == lognormal.CODE:
        _rows_loop(lognormal.prepare, lognormal.row, y, eta, trials, weights, theta, const)
    elif code == beta.CODE:
        _rows_loop(beta.prepare, beta.row, y, eta, trials, weights, theta, const)
    elif code == zero_inflated_poisson.CODE:
        fam = (zero_inflated_poisson.prepare, zero_inflated_poisson.row)
        _rows_loop(*fam, y, eta, trials, weights, theta, const)
    elif code == zero_inflated_negativebinomial.CODE:
        fam = (zero_inflated_negativebinomial.prepare, zero_inflated_negativebinomial.row)
        _rows_loop(*fam, y, eta, trials, weights, theta, const)
    elif code == cumulative.CODE:
        fam = (cumulative.prepare, cumulative.row)
        _rows_loop(*fam, y, eta, trials, weights, theta, const)
    elif code == cumulative_probit.CODE:
        fam = (cumulative_probit.prepare, cumulative_probit.row)
        _rows_loop(*fam, y, eta, trials, weights, theta, const)
    else:
        eta[:, :] = np.nan
