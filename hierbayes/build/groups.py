"""Group-level effects of one group term, in every parameterisation, and the automatic choice.

All conversions between parameterisations live here. ``L`` is the Cholesky factor of the
covariance ``T = diag(sd) Ω diag(sd)`` with ``Ω ~ LKJ(eta)`` (correlated terms) or ``diag(sd)``
(``||`` terms and single coefficients). Each varying coefficient ``k`` of a term is either

* ``noncentered``: ``z_k ~ Normal(0, 1)`` and ``u_k = m_k + L_kk z_k``, or
* ``centered``: ``u_k ~ Normal(m_k, L_kk)`` and ``z_k = (u_k - m_k) / L_kk``,

where ``m_k = sum_{l<k} L_kl z_l`` is the conditional mean of ``u_k`` given the earlier
coefficients. All-non-centred is ``u = z L'``; all-centred is ``u ~ MvNormal(0, chol=L)``. Mixing
lets a well-informed intercept be centred while a weakly informed slope is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.distributions.transforms import CholeskyCorrTransform

from hierbayes.build.expanded import EXPANDED, add_expanded_effects
from hierbayes.build.glm_choice import choose_glm_parameterization
from hierbayes.build.nested import nested_child, nested_information_ratio
from hierbayes.build.priors import prior_rv
from hierbayes.design import Design, GroupBlock
from hierbayes.linalg import numerical_rank, scaled_lstsq, segment_ranks
from hierbayes.parameterizations import PARAMETERIZATIONS
from hierbayes.priors import Prior

__all__ = [
    "PARAMETERIZATIONS",
    "add_covariance",
    "add_group_effects",
    "choose_parameterization",
    "group_dim",
    "group_least_squares",
]

# dimension and variable names of the model that a grouping factor must not take
_RESERVED = {"obs", "term", "chain", "draw", "slope_term", "b", "beta", "sigma", "Intercept_c"}


def group_dim(block: GroupBlock) -> str:
    """Name of the dimension that holds the group labels of ``block``."""
    return f"{block.factor}__group" if block.factor in _RESERVED else block.factor


def choose_parameterization(design: Design, block: GroupBlock) -> tuple[str, ...]:
    """Pick centred or non-centred for each varying coefficient of ``block`` from the data.

    Centring pays when a typical group's own data pin its coefficient down better than the
    population distribution does (Papaspiliopoulos, Roberts & Sköld 2007). For gaussian models we
    compare, per coefficient ``k``, a method-of-moments estimate of its between-group variance
    ``τ²_k`` with the data precision ``Σ_i z_ik² / σ²`` of each group: centred when the median over
    groups of ``τ²_k Σ_i z_ik² / σ²`` exceeds 1, non-centred otherwise. ``σ²`` and ``τ²_k`` come
    from per-group least squares on the residuals of a population-level least-squares fit. When
    another factor is nested in ``block``'s factor and varies the same coefficient, a group's
    information counts its nested groups rather than its rows
    (:func:`~hierbayes.build.nested.nested_information_ratio`). Other families follow the same
    rule with the Fisher information of a population-level GLM fit
    (:func:`~hierbayes.build.glm_choice.choose_glm_parameterization`).

    A factor whose groups hold one row each (an observation-level effect, the usual way to model
    overdispersion of counts), or too few rows to estimate their own coefficients, gets
    non-centred coefficients: a group's data cannot tell its effect from the residual noise, so
    they cannot pin it down better than the population does. For one Poisson count ``y`` the
    information about its effect is about ``max(y, 1)`` against the population's ``1 / τ²``;
    on the grouse ticks data (a third of the counts 0, median 2, ``τ ≈ 0.55``) non-centred
    is the better choice for most rows, and measured so: centring the observation-level effect
    gave more divergences (5 against 2 of 4000) and no better ESS for the other SDs.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> hsb = hb.datasets.load("hsb")
    >>> d = make_design(parse_formula("mAch ~ cses * meanses + (1 + cses | school)"), hsb)
    >>> choose_parameterization(d, d.blocks[0])
    ('centered', 'noncentered')
    """
    q = len(block.columns)
    if design.family.name != "gaussian":
        return choose_glm_parameterization(design, block)
    y = design.y - design.offset_or_zero
    beta = scaled_lstsq(design.X, y) if design.X.shape[1] else None
    resid = y - (design.X @ beta if beta is not None else 0.0)
    estimates, ztz_diag, rss, dof = group_least_squares(block, resid)
    usable = ~np.isnan(estimates).any(axis=1)
    if dof == 0 or usable.sum() < 3:
        return ("noncentered",) * q
    sigma2 = rss / dof
    choice = []
    for k in range(q):
        child = nested_child(design, block, k)
        nested = None if child is None else nested_information_ratio(block, k, child, resid)
        if nested is not None:  # rows share a nested factor's effects: see build/nested.py
            choice.append("centered" if nested > 1.0 else "noncentered")
            continue
        ok = usable & (ztz_diag[:, k] > 0)
        if ok.sum() < 3:
            choice.append("noncentered")
            continue
        # sampling variance of each group's estimate, approximated by sigma² / Σ z²
        sampling_var = sigma2 / ztz_diag[ok, k]
        tau2 = max(float(np.var(estimates[ok, k], ddof=1) - sampling_var.mean()), 0.0)
        ratio = np.median(tau2 * ztz_diag[:, k] / sigma2)
        choice.append("centered" if ratio > 1.0 else "noncentered")
    return tuple(choice)


def group_least_squares(
    block: GroupBlock, resid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Each group's least-squares coefficients of ``resid`` on its rows of ``block.Z``: the
    estimates (J x q, NaN where a group has no more rows than coefficients or ``Z`` of lower
    rank), each group's ``Σ_i z_ik²`` (J x q), and the pooled residual sum of squares with its
    degrees of freedom over the groups with estimates.

    One coefficient is solved for every group at once (``Σ z r / Σ z²``, ranks by
    :func:`~hierbayes.linalg.segment_ranks`); more, group by group.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> d = make_design(parse_formula("Reaction ~ 1 + (1 | Subject)"), sleep)
    >>> est, ztz, rss, dof = group_least_squares(d.blocks[0], d.y - d.y.mean())
    >>> est.shape, dof                      # 18 subjects of 10 days
    ((18, 1), 162)
    """
    q, J = len(block.columns), len(block.levels)
    resid = np.asarray(resid, dtype=float)
    if resid.shape != (len(block.codes),):
        raise ValueError(
            f"group_least_squares needs one residual per row of the term '{block.name}' "
            f"({len(block.codes)}); got shape {resid.shape}"
        )
    if q == 1:
        z, codes = block.Z[:, 0], block.codes
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(J + 1))
        rows = np.diff(bounds)
        zz = np.bincount(codes, weights=z * z, minlength=J)
        zr = np.bincount(codes, weights=z * resid, minlength=J)
        ok = (rows > 1) & (segment_ranks(z[order], bounds) == 1)
        estimates = np.full((J, 1), np.nan)
        estimates[ok, 0] = zr[ok] / zz[ok]
        inside = ok[codes]
        left = resid[inside] - z[inside] * estimates[codes[inside], 0]
        return estimates, zz[:, None], float(left @ left), int((rows[ok] - 1).sum())
    estimates = np.full((J, q), np.nan)
    rss, dof = 0.0, 0
    ztz_diag = np.zeros((J, q))
    # rows of each group, found once by sorting (a mask per group would cost O(rows x groups))
    order = np.argsort(block.codes, kind="stable")
    bounds = np.searchsorted(block.codes[order], np.arange(J + 1))
    for j in range(J):
        rows = order[bounds[j] : bounds[j + 1]]
        Zj, rj = block.Z[rows], resid[rows]
        ztz_diag[j] = (Zj**2).sum(axis=0)
        if len(rows) > q and numerical_rank(Zj) == q:
            coef = scaled_lstsq(Zj, rj)
            estimates[j] = coef
            rss += float(((rj - Zj @ coef) ** 2).sum())
            dof += len(rows) - q
    return estimates, ztz_diag, rss, dof


class _CorrTransform(CholeskyCorrTransform):
    """PyMC's transform of a correlation Cholesky factor, under a name without underscores.

    ``pymc.util.get_untransformed_name`` drops the last underscore-separated parts of a value
    variable's name, so the underscore in ``"cholesky_corr"`` breaks
    ``pm.compute_log_likelihood`` for any model with ``LKJCorr``.
    """

    name = "cholcorr"


def _add_coord(name: str, values: list[str]) -> None:
    model = pm.modelcontext(None)
    if name not in model.coords:
        model.add_coord(name, values)


def add_covariance(block: GroupBlock, priors: dict[str, Prior]) -> tuple[Any, Any]:
    """Add the SDs (``sd|b``) and correlations (``cor|b``) of ``block``; return ``(L, sds)``.

    ``L`` is the lower Cholesky factor of the covariance of the block's group effects.
    """
    name, term_dim = block.name, block.term_dim
    q = len(block.columns)
    sd_prior = priors[f"sd|{name}"]
    sds = prior_rv(f"sd|{name}", sd_prior, dims=term_dim, shape=q)
    if not block.correlated:
        return pt.diag(sds), sds
    # Ω ~ LKJ(eta) independently of the SDs: the prior of an LKJCholeskyCov with sd_dist, but
    # sampled in coordinates where the correlation does not shrink with an SD. (LKJCholeskyCov's
    # off-diagonal Cholesky entries scale with the SD, a funnel when an SD is near zero.)
    eta = float(priors[f"cor|{name}"].kwargs["eta"])
    chol_corr = pm.LKJCorr(f"chol_cor|{name}", n=q, eta=eta, default_transform=_CorrTransform(q))
    pm.Deterministic(f"cor|{name}", chol_corr @ chol_corr.T, dims=(term_dim, f"{term_dim}_bis"))
    return sds[:, None] * chol_corr, sds


def add_group_effects(block: GroupBlock, priors: dict[str, Prior], choice: tuple[str, ...]) -> Any:
    """Add the SDs, correlations and group effects of ``block``; return ``u`` (J x q).

    Variables created (``b`` = block name): ``sd|b`` (dims: term), ``cor|b`` (term x term, for
    correlated blocks), ``u|b`` (group x term: each group's deviation from the population), and
    the sampled ``z|b`` (standardised deviations of the non-centred coefficients) and
    ``u|b|<term>`` (centred coefficients, when centred and non-centred ones are mixed).
    """
    name, term_dim, gdim = block.name, block.term_dim, group_dim(block)
    # partially centred (build/partial.py) is the compiled kernel's: PyMC samples it non-centred
    choice = tuple("noncentered" if c == "partial" else c for c in choice)
    if choice and all(c == EXPANDED for c in choice):  # s and zs in place of sd and z
        return add_expanded_effects(block, priors, gdim)
    columns = list(block.columns)
    chol, sds = add_covariance(block, priors)
    dims = (gdim, term_dim)
    if all(c == "noncentered" for c in choice):
        z = pm.Normal(f"z|{name}", 0.0, 1.0, dims=dims)
        u = z @ chol.T if block.correlated else z * sds
        return pm.Deterministic(f"u|{name}", u, dims=dims)
    if all(c == "centered" for c in choice):
        if block.correlated:
            return pm.MvNormal(f"u|{name}", mu=0.0, chol=chol, dims=dims)
        return pm.Normal(f"u|{name}", 0.0, sds, dims=dims)
    noncentered = [c for c, how in zip(columns, choice, strict=True) if how == "noncentered"]
    _add_coord(f"{term_dim}_z", noncentered)
    z_free = pm.Normal(f"z|{name}", 0.0, 1.0, dims=(gdim, f"{term_dim}_z"))
    zetas: list[Any] = []
    us: list[Any] = []
    for k, (column, how) in enumerate(zip(columns, choice, strict=True)):
        mean = sum((chol[k, i] * zetas[i] for i in range(k)), start=pt.zeros(len(block.levels)))
        if how == "centered":
            u_k = pm.Normal(f"u|{name}|{column}", mean, chol[k, k], dims=gdim)
            zetas.append((u_k - mean) / chol[k, k])
        else:
            zeta = z_free[:, noncentered.index(column)]
            u_k = mean + chol[k, k] * zeta
            zetas.append(zeta)
        us.append(u_k)
    return pm.Deterministic(f"u|{name}", pt.stack(us, axis=1), dims=dims)
