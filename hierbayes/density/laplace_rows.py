"""Row passes of the Laplace approximation (:mod:`hierbayes.density.laplace`): each row's
log-likelihood and its first three derivatives in ``η``, in one loop per family.

The families whose log-likelihood is concave in ``η`` (so that each group's Newton solve has
one mode and a positive definite Hessian) are listed in
:data:`~hierbayes.families.concave.LAPLACE_CODES`; the loop calls
the family's compiled ``row`` and ``derivs`` (see :mod:`hierbayes.families.dispatch`).
"""

from __future__ import annotations

import numba

from hierbayes.density.codes import JIT
from hierbayes.families import (
    bernoulli,
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
)
from hierbayes.families.concave import LAPLACE_CODES

__all__ = ["LAPLACE_CODES", "row_pass"]


@numba.njit(**JIT)
def _loop(prepare, row, derivs, y, eta, trials, weights, theta, ll, d1, d2, d3):
    aux = prepare(theta)
    has_n = trials.shape[0] > 0
    has_w = weights.shape[0] > 0
    with_ll = ll.shape[0] > 0
    with_d = d1.shape[0] > 0
    for i in range(y.shape[0]):
        n = trials[i] if has_n else 1.0
        w = weights[i] if has_w else 1.0
        if with_ll:
            ll[i] = w * row(y[i], eta[i], n, aux)[0]
        if with_d:
            a, b, c = derivs(y[i], eta[i], n, aux)
            d1[i] = w * a
            d2[i] = w * b
            d3[i] = w * c


@numba.njit(**JIT)
def row_pass(code, y, eta, trials, weights, theta, ll, d1, d2, d3):
    """Each row's weighted log-likelihood (without constants) and its first three derivatives
    in ``η`` into ``ll``, ``d1``, ``d2``, ``d3`` (an empty ``ll``: no log-likelihood; an empty
    ``d1``: no derivatives); False for a family not in :data:`LAPLACE_CODES`."""
    args = (y, eta, trials, weights, theta, ll, d1, d2, d3)
    if code == gaussian.CODE:
        _loop(gaussian.prepare, gaussian.row, gaussian.derivs, *args)
    elif code == bernoulli.CODE:
        _loop(bernoulli.prepare, bernoulli.row, bernoulli.derivs, *args)
    elif code == binomial.CODE:
        _loop(binomial.prepare, binomial.row, binomial.derivs, *args)
    elif code == poisson.CODE:
        _loop(poisson.prepare, poisson.row, poisson.derivs, *args)
    elif code == negativebinomial.CODE:
        _loop(negativebinomial.prepare, negativebinomial.row, negativebinomial.derivs, *args)
    elif code == probit.BERNOULLI_CODE or code == probit.BINOMIAL_CODE:
        _loop(probit.prepare, probit.row, probit.derivs, *args)
    elif code == cloglog.BERNOULLI_CODE or code == cloglog.BINOMIAL_CODE:
        _loop(cloglog.prepare, cloglog.row, cloglog.derivs, *args)
    elif code == gamma.CODE:
        _loop(gamma.prepare, gamma.row, gamma.derivs, *args)
    elif code == lognormal.CODE:
        _loop(lognormal.prepare, lognormal.row, lognormal.derivs, *args)
    elif code == cumulative.CODE:
        _loop(cumulative.prepare, cumulative.row, cumulative.derivs, *args)
    elif code == cumulative_probit.CODE:
        _loop(cumulative_probit.prepare, cumulative_probit.row, cumulative_probit.derivs, *args)
    else:
        return False
    return True
