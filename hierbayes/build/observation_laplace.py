"""auto's joint Laplace marginal for a count model with an observation-level effect.

An observation-level varying intercept (one row per group, ``(1 | obs)``: the usual device for
overdispersed counts) nests in every other factor: a group of another factor holds its rows'
observation effects, and the likelihood sees only the sum of the group's effect and the mean of
those. The split between the two is set by the prior alone (the mean of ``n`` observation
effects has prior SD ``σ_obs / √n``), so the posterior has a ridge along each group's effect
against the mean of its observation effects, whose width moves with the group SD. No
parameterisation of one term removes it (the sum is what the rows inform, centred or not), and a
diagonal mass matrix cannot follow a direction spread over a group's ``n`` observation effects.

On lme4's Arabidopsis (``total.fruits ~ nutrient * amd + rack + status + (1 | popu) + (1 | gen)
+ (1 | obs)``, poisson, 625 rows, 24 genotypes of about 26 plants in 9 populations) the SD of
``gen`` had R-hat 1.01-1.06 and bulk ESS 51-198 in 4 x 1000 draws whatever the sampled
parameterisation (auto: populations centred, the rest non-centred; all non-centred: worse;
observations centred: R-hat 1.03). Its draws correlated with the genotypes' means of the
observation effects (each genotype's effect with its mean: median -0.38), more than with its own
non-centred effects (|r| up to 0.21); integrating ``popu`` and ``gen`` out by Laplace (Pareto k
-0.09: accurate) and sampling the observation effects left it at R-hat 1.03, bulk ESS 137. The
other way round, the observation effects integrated out by quadrature and the genotypes sampled,
R-hat 1.03 as well: with the observation effects' variance counted, a genotype's data inform its
effect about as much as the population distribution does (``τ² I`` near 1: 0.3² x 26 / 1.45²
= 1.1), so neither centring suits it. brms (non-centred everywhere, hierbayes's priors, 4 x 1000,
seed 1; ``Rscript tests/reference_arabidopsis_obs.R brms``) fails too: R-hat up to 1.036, min
bulk ESS 303, 1 divergence.

auto therefore integrates the observation-level effects out together with the other factors'
intercepts, jointly by Laplace (:mod:`hierbayes.density.laplace_joint`; the observation effects
are the diagonal block of the Hessian): the ridge and the funnel are integrated, not sampled. On
Arabidopsis (4 x 1000 draws) this gave R-hat 1.00-1.004, no divergences and the smallest bulk ESS
1,453-1,568 (seeds 1-4), about 25-30 CPU s against 6 (sampled, ESS 199: ESS per CPU second 60
against 33); the check's Pareto k is 0.63 and 0.65 (seeds 1 and 2), close to its limit 0.7: the
Laplace approximation of a zero count's own effect at an SD of 1.45 is skewed, and the joint
importance weights add 625 of them (at 4 x 500 draws k was 0.72, and the model ran again
sampled). On cbpp with ``(1 | herd) + (1 | obs)`` k is 0.24 and the first run converges
(sampled, the herds' centred first run failed and was run again); on Thall and Vail's epilepsy
counts with ``(1 | patient) + (1 | obs)`` k 0.07. The fit checks the approximation by
Pareto-smoothed importance sampling and, when the check fails, samples the effects as auto would
otherwise (:func:`hierbayes.laplace_fit.checked_laplace`).

It applies where the joint approximation does and nothing else was integrated or expanded: a
family concave in the linear predictor (:data:`~hierbayes.families.concave.LAPLACE_CODES`)
with counts (poisson, negative binomial, or binomial with more than one trial on every row: a
bernoulli row's own effect is not identified; gamma, lognormal and ordinal responses are not
counts, and there the check failed, Pareto k 1.07-1.18), no linear predictor for a
distributional parameter, every factor's only term a varying intercept, and at most
:data:`MAX_ROWS` rows (the check fails more often the more observation effects). Where
:mod:`hierbayes.build.auto_laplace` already integrates a pair of nested factors (the grouse
ticks: broods in locations, one chick per ``INDEX``), the observation effects stay sampled: there
integrating them too lowered the bulk ESS per CPU second from 80-95 to 66-73.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hierbayes.build.laplace import LAPLACE, check_laplace
from hierbayes.design import Design, GroupBlock
from hierbayes.errors import ModelSpecError

__all__ = ["MAX_ROWS", "observation_level", "prefer_observation_laplace"]

_SAMPLED = frozenset({"centered", "noncentered"})
_COUNTS = frozenset({"poisson", "negativebinomial"})
MAX_ROWS = 1000
"""Above this many rows the observation effects stay sampled: the check's importance weights
add one skewed conditional per row, and its Pareto k grew with them (56 cbpp rows 0.24, 236
epilepsy counts 0.07, 625 Arabidopsis counts 0.63-0.72, 3,000 simulated counts 1.62: that model
then ran again sampled, where sampling alone converges, 39 CPU s in all)."""


def observation_level(design: Design, block: GroupBlock) -> bool:
    """Whether ``block`` is a varying intercept with one row per group, its factor's only term.

    Examples
    --------
    >>> import hierbayes as hb
    >>> cbpp = hb.datasets.load("cbpp")
    >>> cbpp["obs"] = [str(i) for i in range(len(cbpp))]
    >>> m = hb.Model("incidence | trials(size) ~ period + (1 | herd) + (1 | obs)", cbpp,
    ...              family="binomial")
    >>> [observation_level(m.design, b) for b in m.design.blocks]
    [False, True]
    """
    return _intercept_only(design, block) and len(block.levels) == design.n_obs


def _intercept_only(design: Design, block: GroupBlock) -> bool:
    alone = sum(b.factor == block.factor for b in design.blocks) == 1
    return alone and block.columns == ("Intercept",) and bool(np.all(block.Z[:, 0] == 1.0))


def _counts(design: Design) -> bool:
    """Whether the response is a count of the kind the module applies to: poisson, negative
    binomial, or binomial (any link) with more than one trial on every row.

    A binomial with some one-trial rows stays sampled: those rows' own effects are not identified
    (a bernoulli row), and a single row of two trials among one-trial rows must not switch the
    rule on. Other families (gamma, lognormal, cumulative, ...) are not counts: on them the joint
    approximation failed its check (Pareto k 1.18 on a gamma, 1.07 on a cumulative) and the model
    ran twice.
    """
    name = design.family.name
    if name in _COUNTS:
        return True
    if name == "binomial" and design.trials is not None:
        return bool(np.all(np.asarray(design.trials, dtype=float) > 1))
    return False


def prefer_observation_laplace(
    design: Design, result: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """``result`` (auto's choice) with every factor integrated out jointly by Laplace when one of
    them is observation-level and the approximation applies (see the module docstring);
    unchanged otherwise.

    Examples
    --------
    >>> import hierbayes as hb
    >>> cbpp = hb.datasets.load("cbpp")
    >>> cbpp["obs"] = [str(i) for i in range(len(cbpp))]
    >>> hb.Model("incidence | trials(size) ~ period + (1 | herd) + (1 | obs)", cbpp,
    ...          family="binomial").parameterization
    {'herd': ('laplace',), 'obs': ('laplace',)}
    """
    out = dict(result)
    blocks = design.blocks
    if design.family.name == "gaussian" or design.dpar is not None or len(blocks) < 2:
        return out
    if not any(observation_level(design, b) for b in blocks) or not _counts(design):
        return out
    if design.n_obs > MAX_ROWS:
        return out
    if not all(_intercept_only(design, b) for b in blocks):
        return out
    if not all(set(result[b.name]) <= _SAMPLED for b in blocks):
        return out  # something is integrated or expanded already (build/auto_laplace.py)
    proposed = {**out, **{b.name: (LAPLACE,) for b in blocks}}
    try:
        check_laplace(design, proposed)
    except ModelSpecError:  # e.g. a family not concave in eta: keep the sampled form
        return out
    return proposed
