"""The parameter-expanded ("redundant multiplicative") form of a group term's SD, for the compiled
kernel (Gelman 2004; Gelman, van Dyk, Huang & Boscardin 2008, "Using redundant
parameterizations to fit hierarchical models").

A coefficient ``k`` of an uncorrelated group term (a single coefficient, or a ``||`` term) whose
choice is ``expanded`` samples a signed scale ``s_k`` on the whole real line in place of
``log sd_k``, and its groups' standardised effects ``z_jk`` as in the non-centred form:
``u_jk = s_k z_jk``. The prior of ``s_k`` is the symmetric extension of the SD's half prior,
``p(s) = p_half(|s|) / 2``, with no Jacobian; the SD is ``|s_k|``. The effects are unchanged by
``(s, z) -> (-s, -z)``, so ``sd = |s|`` and ``u`` have exactly the posterior of the non-centred
model; each group's standardised effect is ``u / sd = sign(s) z``.

An SD that the data do not keep away from 0 gives ``log sd`` a long tail towards ``-inf``,
which the sampler explores slowly; in ``s`` the same region is a neighbourhood of ``s = 0``
that the sampler crosses. This needs a prior with a finite, positive density at 0
(:data:`hierbayes.density.codes.EXPANDABLE`): half-normal, half-Student t, half-Cauchy,
exponential and half-flat.

In the kernel, ``L_kk = s_k`` (signed) and the effects follow the non-centred code paths of
:mod:`hierbayes.density.effects`.
"""

from __future__ import annotations

import numba

from hierbayes.density.codes import JIT, LOG_2
from hierbayes.density.prior_density import prior_logp

__all__ = ["log_prior_signed"]


@numba.njit(**JIT)
def log_prior_signed(priors, k, s, grad, pos):
    """Prior ``k`` of an SD, extended symmetrically to the signed scale ``s``: the log of
    ``p_half(|s|) / 2``; its derivative in ``s`` goes into ``grad[pos]``.

    Returns ``(log density, |s|)``."""
    value = abs(s)
    lp, d = prior_logp(
        int(priors[4 * k]), priors[4 * k + 1], priors[4 * k + 2], priors[4 * k + 3], value
    )
    grad[pos] += d if s >= 0.0 else -d
    return lp - LOG_2, value
