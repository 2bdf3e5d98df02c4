"""The rows at the nodes of the quadrature (:mod:`hierbayes.density.agq`): each row's ``ℓ`` and
``ℓ'`` from one call of the family's compiled ``row``.

A node needs ``ℓ`` (for ``f_g(z_k)``) and ``ℓ'`` (for ``f_g'(z_k)`` and the gradient), not the
second and third derivatives that :func:`~hierbayes.density.laplace_rows.row_pass` adds from
the family's ``derivs`` for a Newton step: for bernoulli rows that is one exponential and one
logarithm a row instead of two exponentials and a logarithm (on guImmun a node's pass over the
2,159 rows costs two thirds of ``row_pass``'s).
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

__all__ = ["node_rows"]


@numba.njit(**JIT)
def _loop(prepare, row, y, eta, trials, weights, theta, ll, d1):
    aux = prepare(theta)
    has_n = trials.shape[0] > 0
    if weights.shape[0] == 0:
        for i in range(y.shape[0]):
            a, b, _, _ = row(y[i], eta[i], trials[i] if has_n else 1.0, aux)
            ll[i] = a
            d1[i] = b
    else:
        for i in range(y.shape[0]):
            a, b, _, _ = row(y[i], eta[i], trials[i] if has_n else 1.0, aux)
            ll[i] = weights[i] * a
            d1[i] = weights[i] * b


@numba.njit(**JIT)
def node_rows(code, y, eta, trials, weights, theta, ll, d1):
    """Each row's weighted ``ℓ`` (without constants) and ``ℓ'`` into ``ll``, ``d1``; False for
    a family not in :data:`~hierbayes.families.concave.LAPLACE_CODES`.

    Examples
    --------
    >>> import numpy as np
    >>> ll, d1, none = np.empty(2), np.empty(2), np.empty(0)
    >>> node_rows(bernoulli.CODE, np.array([1.0, 0.0]), np.zeros(2), none, none, none, ll, d1)
    True
    >>> bool(np.allclose(ll, np.log(0.5))), d1.tolist()
    (True, [0.5, -0.5])
    """
    args = (y, eta, trials, weights, theta, ll, d1)
    if code == gaussian.CODE:
        _loop(gaussian.prepare, gaussian.row, *args)
    elif code == bernoulli.CODE:
        _loop(bernoulli.prepare, bernoulli.row, *args)
    elif code == binomial.CODE:
        _loop(binomial.prepare, binomial.row, *args)
    elif code == poisson.CODE:
        _loop(poisson.prepare, poisson.row, *args)
    elif code == negativebinomial.CODE:
        _loop(negativebinomial.prepare, negativebinomial.row, *args)
    elif code == probit.BERNOULLI_CODE or code == probit.BINOMIAL_CODE:
        _loop(probit.prepare, probit.row, *args)
    elif code == cloglog.BERNOULLI_CODE or code == cloglog.BINOMIAL_CODE:
        _loop(cloglog.prepare, cloglog.row, *args)
    elif code == gamma.CODE:
        _loop(gamma.prepare, gamma.row, *args)
    elif code == lognormal.CODE:
        _loop(lognormal.prepare, lognormal.row, *args)
    elif code == cumulative.CODE:
        _loop(cumulative.prepare, cumulative.row, *args)
    elif code == cumulative_probit.CODE:
        _loop(cumulative_probit.prepare, cumulative_probit.row, *args)
    else:
        return False
    return True
