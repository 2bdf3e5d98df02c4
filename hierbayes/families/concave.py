"""The families whose log-likelihood is concave in the linear predictor ``η``.

For these a group's effects have one conditional mode given everything else, with a positive
definite Hessian there, so that a Newton solve finds it: what integrating effects out by a
Laplace approximation or adaptive quadrature needs (:mod:`hierbayes.density.laplace`,
:mod:`hierbayes.density.agq`). The model builder checks a ``"laplace"`` or ``"agq"`` choice
against the same list (:func:`hierbayes.build.laplace.check_laplace`).

Examples
--------
>>> from hierbayes.families import poisson, student_t
>>> poisson.CODE in LAPLACE_CODES, student_t.CODE in LAPLACE_CODES   # t: not concave
(True, False)
"""

from __future__ import annotations

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

__all__ = ["LAPLACE_CODES"]

LAPLACE_CODES: tuple[int, ...] = (
    gaussian.CODE,
    bernoulli.CODE,
    binomial.CODE,
    poisson.CODE,
    negativebinomial.CODE,
    probit.BERNOULLI_CODE,
    probit.BINOMIAL_CODE,
    cloglog.BERNOULLI_CODE,
    cloglog.BINOMIAL_CODE,
    gamma.CODE,
    lognormal.CODE,
    cumulative.CODE,
    cumulative_probit.CODE,
)
"""Family codes whose effects the Laplace approximation integrates out (log-concave in ``η``)."""
