"""Response families, one module each, and the registry that every layer looks them up in.

A family module (:mod:`~hierbayes.families.gaussian`, :mod:`~hierbayes.families.bernoulli`,
:mod:`~hierbayes.families.binomial`, :mod:`~hierbayes.families.poisson`,
:mod:`~hierbayes.families.negativebinomial`, :mod:`~hierbayes.families.student_t`,
:mod:`~hierbayes.families.gamma`, :mod:`~hierbayes.families.lognormal`,
:mod:`~hierbayes.families.beta`, :mod:`~hierbayes.families.zero_inflated_poisson`,
:mod:`~hierbayes.families.zero_inflated_negativebinomial`, :mod:`~hierbayes.families.cumulative`)
holds all there is to
know about its family: compiled log-likelihood and derivatives (reached by the kernel through
:mod:`hierbayes.families.dispatch`), PyMC likelihood, response simulator and log density, mean,
response check, default priors of its own parameters, latent-scale variance and notation, in one
:class:`Family` record. Adding a family is one module, one line in :data:`FAMILIES` and one line
per function of :mod:`~hierbayes.families.dispatch`.

bernoulli and binomial also take the probit and cloglog links, cumulative the probit link
(:mod:`~hierbayes.families.cumulative_probit`) (:mod:`~hierbayes.families.probit`,
:mod:`~hierbayes.families.cloglog`, built on :mod:`~hierbayes.families.links` and
:mod:`~hierbayes.families.binary`): one :class:`Family` record per (family, link), looked up by
:func:`get_family` ``(name, link)``; :data:`FAMILIES` holds each family with its default link.
"""

from __future__ import annotations

import numpy as np

from hierbayes.errors import FamilyError
from hierbayes.families import _cache

# before any family module's compiled functions are decorated: numba takes their cache's source
# stamp then, and each family compiles the shared helpers of _math.py into its own code
_cache.install()

from hierbayes.families import (  # noqa: E402
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
from hierbayes.families.base import Family  # noqa: E402

__all__ = ["FAMILIES", "Family", "get_family", "links_of", "log_density_constant"]

# name -> family with its default link; (name, link) -> family for every link a family offers
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        gaussian.FAMILY,
        bernoulli.FAMILY,
        binomial.FAMILY,
        poisson.FAMILY,
        negativebinomial.FAMILY,
        student_t.FAMILY,
        gamma.FAMILY,
        lognormal.FAMILY,
        beta.FAMILY,
        zero_inflated_poisson.FAMILY,
        zero_inflated_negativebinomial.FAMILY,
        cumulative.FAMILY,
    )
}
# families with a link other than their default (bernoulli and binomial: probit, cloglog)
OTHER_LINKS: tuple[Family, ...] = (
    probit.BERNOULLI,
    cloglog.BERNOULLI,
    probit.BINOMIAL,
    cloglog.BINOMIAL,
    cumulative_probit.FAMILY,
)
_BY_LINK: dict[tuple[str, str], Family] = {
    (f.name, f.link): f for f in (*FAMILIES.values(), *OTHER_LINKS)
}


def links_of(family: str) -> tuple[str, ...]:
    """The links the family offers, its default first.

    Examples
    --------
    >>> links_of("bernoulli")
    ('logit', 'cloglog', 'probit')
    """
    base = get_family(family)
    others = sorted(lk for name, lk in _BY_LINK if name == base.name and lk != base.link)
    return (base.link, *others)


def get_family(family: str | Family, link: str | None = None) -> Family:
    """Look up a family by name (and link; ``None``: the family's default link).

    Examples
    --------
    >>> get_family("poisson").link
    'log'
    >>> get_family("bernoulli", link="logit").name
    'bernoulli'
    """
    if isinstance(family, Family):
        if link is not None and link != family.link:
            return get_family(family.name, link)
        return family
    key = str(family).lower()
    if key not in FAMILIES:
        raise FamilyError(
            f"Unknown family {family!r}; choose one of {', '.join(sorted(FAMILIES))}."
        )
    if link is None:
        return FAMILIES[key]
    found = _BY_LINK.get((key, str(link).lower()))
    if found is None:
        raise FamilyError(
            f"The {key} family has no link {link!r}; choose one of {', '.join(links_of(key))}."
        )
    return found


def log_density_constant(family: Family, y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """The part of each observation's log density that involves no parameter.

    ``-log(2π)/2`` for gaussian, the log binomial coefficient for binomial, ``-log(y!)`` for
    poisson, 0 for bernoulli.

    Examples
    --------
    >>> log_density_constant(get_family("poisson"), np.array([0.0, 2.0]), None).round(4).tolist()
    [-0.0, -0.6931]
    """
    return family.constant(np.asarray(y, dtype=float), trials)
