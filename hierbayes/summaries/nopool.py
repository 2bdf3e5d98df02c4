"""The two ends of pooling: each group on its own (no pooling) and all groups as one (complete).

**No pooling** fits, by least squares (gaussian) or maximum likelihood (other families), the
multilevel model with its group effects turned into free per-group coefficients: each group gets
its own value of every varying coefficient (its own intercept and slopes, estimated from its own
observations only), while the fixed columns that belong to no varying coefficient (level-1
predictors whose effect does not vary, such as ``basement`` in the radon model; see
:mod:`hierbayes.summaries.population`) keep one common coefficient estimated from the
within-group variation. This is the no-pooling model of Gelman & Hill (2007, ch. 12),
``lm(y ~ x + factor(county) - 1)``; when the fixed part has no such columns it is a separate
regression in each group. Level-2 predictors are absorbed by the group's own intercept and slopes.

A group's estimate is ``NaN``, with a reason, when its data cannot identify it: fewer observations
than coefficients, a predictor that does not vary within the group, or (bernoulli, binomial,
poisson) an infinite maximum-likelihood estimate — all responses 0 or all successes, or perfect
separation. Such groups are left out of the estimate of the common coefficients.

**Complete pooling** is one regression of the response on the fixed part, ignoring the groups.

The fits use iteratively reweighted least squares; each step solves the weighted least-squares
problem group by group (Frisch–Waugh–Lovell), so no dense n x (J q) matrix is built.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit, ndtri

from hierbayes.design import Design
from hierbayes.errors import SummaryError
from hierbayes.families import Family
from hierbayes.families.links import BINARY_LINKS, d_inverse_link, inverse_link
from hierbayes.linalg import column_scale, numerical_rank, scaled_lstsq
from hierbayes.summaries.population import PopulationMap
from hierbayes.summaries.posterior import FactorBlocks

__all__ = ["NoPooling", "complete_pooling", "no_pooling"]

_MAX_ITER = 100
_DIVERGED = 20.0  # |linear predictor| beyond which a logit/log fit is taken as infinite


@dataclass(frozen=True)
class NoPooling:
    """Per-group estimates without pooling.

    Attributes
    ----------
    terms : tuple of str
        Varying coefficients, the columns of ``estimates``.
    levels : tuple of str
        Group labels, the rows of ``estimates``.
    estimates : ndarray, shape (J, q)
        Each group's own coefficients (``NaN`` where not identified).
    reasons : tuple of str
        Why a group's estimates are ``NaN`` (``""`` where identified).
    shared_columns : tuple of str
        Fixed columns with one common coefficient.
    shared : ndarray
        Their estimates.
    """

    terms: tuple[str, ...]
    levels: tuple[str, ...]
    estimates: np.ndarray
    reasons: tuple[str, ...]
    shared_columns: tuple[str, ...]
    shared: np.ndarray


def _working(
    family: Family, eta: np.ndarray, y: np.ndarray, trials: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Working response and weights of one IRLS (Fisher scoring) step (a continuous response
    with the log link, gamma, with variance ∝ μ²)."""
    if family.link == "identity":  # lognormal: least squares on log y
        on_link = y if family.link_response is None else family.link_response(y)
        return on_link, np.ones_like(y)
    if family.link in ("probit", "cloglog"):
        n = np.ones_like(y) if trials is None else trials
        p = np.clip(inverse_link(family.link, eta), 1e-15, 1 - 1e-15)
        dp = np.maximum(d_inverse_link(family.link, eta), 1e-300)
        w = np.maximum(n * dp**2 / (p * (1 - p)), 1e-12)
        return eta + (y - n * p) / (n * dp + (n == 0)), w
    if family.link == "logit":
        n = np.ones_like(y) if trials is None else trials
        p = expit(eta)
        var = np.maximum(n * p * (1 - p), 1e-12)
        return eta + (y - n * p) / var, var
    if family.link == "log" and not family.discrete:
        return eta + y * np.exp(-eta) - 1.0, np.ones_like(y)
    if family.link == "log":
        mu = np.exp(eta)
        var = np.maximum(mu, 1e-12)
        return eta + (y - mu) / var, var
    raise SummaryError(f"No working weights for the {family.link} link.")


def working_weights(
    family: Family,
    eta: np.ndarray,
    trials: np.ndarray | None = None,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """IRLS weights ``(dμ/dη)² / Var(y)`` at linear predictor ``eta`` (1 for gaussian).

    A family with own parameters and no residual SD (negative binomial, gamma) needs their
    values in ``params``: its weights are the expected information ``-E[d²ℓ/dη²]``, from its
    compiled second derivative at ``y = E[y]`` (linear in ``y`` for these families): ``α`` for
    gamma, ``μ/(1 + μ/φ)`` for the negative binomial.

    Examples
    --------
    >>> from hierbayes.families import get_family
    >>> working_weights(get_family("bernoulli"), np.array([0.0])).tolist()
    [0.25]
    """
    if family.params and not family.has_sigma:
        from hierbayes.families.dispatch import eta_derivs

        if params is None:
            raise SummaryError(
                f"The working weights of the {family.name} family need its own parameters "
                f"({', '.join(family.params)})."
            )
        eta = np.ascontiguousarray(eta, dtype=float)
        theta = np.array([float(params[p]) for p in family.params])
        y = np.ascontiguousarray(family.expected(eta, params), dtype=float)
        d1, d2, d3 = (np.empty_like(eta) for _ in range(3))
        eta_derivs(family.code, y, eta, np.zeros(0), theta, d1, d2, d3)
        return -d2
    return _working(family, eta, np.zeros_like(eta), trials)[1]


def _start(family: Family, y: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    if family.link in BINARY_LINKS:
        n = np.ones_like(y) if trials is None else trials
        p = (y + 0.5) / (n + 1.0)
        if family.link == "probit":
            return ndtri(p)
        if family.link == "cloglog":
            return np.log(-np.log1p(-p))
        return logit(p)
    if family.link == "log":
        return np.log(y + 0.5)
    return np.zeros_like(y)


def _group_sum(values: np.ndarray, codes: np.ndarray, J: int) -> np.ndarray:
    out = np.zeros((J, *values.shape[1:]))
    np.add.at(out, codes, values)
    return out


def _wls(
    z: np.ndarray,
    w: np.ndarray,
    W: np.ndarray,
    Z: np.ndarray | None,
    codes: np.ndarray,
    J: int,
    rows: np.ndarray,
    shared_names: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Weighted least squares of ``z`` on ``W`` (common) and ``Z`` (per group), on ``rows``.

    Returns the common coefficients, the per-group coefficients (J, q) and the fitted values.
    """
    zr, wr, Wr, cr = z[rows], w[rows], W[rows], codes[rows]
    if Z is None:
        coef_g = None
        Wt, zt = Wr, zr
    else:
        Zr = Z[rows]
        q = Zr.shape[1]
        gram = _group_sum(wr[:, None, None] * Zr[:, :, None] * Zr[:, None, :], cr, J)
        empty = np.bincount(cr, minlength=J) == 0
        gram[empty] = np.eye(q)

        def within(v: np.ndarray) -> np.ndarray:
            rhs = _group_sum(wr[:, None, None] * Zr[:, :, None] * v[:, None, :], cr, J)
            coef = np.linalg.solve(gram, rhs)  # (J, q, r)
            return v - np.einsum("nq,nqr->nr", Zr, coef[cr])

        Wt = within(Wr) if Wr.shape[1] else Wr
        zt = within(zr[:, None])[:, 0]
    sw = np.sqrt(wr)
    beta = np.zeros(W.shape[1])
    if W.shape[1]:
        A = Wt * sw[:, None]
        # what the within-group projection leaves of each column, relative to the column
        if numerical_rank(A, scale=column_scale(Wr * sw[:, None])) < W.shape[1]:
            raise SummaryError(
                "The common coefficients of the no-pooling fit are not identified from the "
                f"variation within groups (columns {', '.join(shared_names)}): their effect is "
                "confounded with the groups' own coefficients."
            )
        beta = scaled_lstsq(A, zt * sw)
    fitted = W @ beta
    if Z is not None:
        resid = zr - Wr @ beta
        rhs = _group_sum(wr[:, None] * Zr * resid[:, None], cr, J)
        coef_g = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
        fitted = fitted + np.einsum("nq,nq->n", Z, coef_g[codes])
    return beta, coef_g, fitted


def _irls(
    design: Design,
    W: np.ndarray,
    Z: np.ndarray | None,
    codes: np.ndarray,
    J: int,
    ok: np.ndarray,
    shared_names: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, bool]:
    family, y, trials = design.family, design.y, design.trials
    rows = ok[codes]
    offset = design.offset_or_zero  # known part of η: regress the working response less it
    eta = _start(family, y, trials)
    converged = family.link == "identity"
    for _ in range(1 if converged else _MAX_ITER):
        z, w = _working(family, eta, y, trials)
        if design.weights is not None:
            w = w * design.weights  # likelihood weights multiply the working weights
        beta, coef_g, new = _wls(z - offset, w, W, Z, codes, J, rows, shared_names)
        new = new + offset
        change = np.max(np.abs(new[rows] - eta[rows])) if rows.any() else 0.0
        eta = new
        if not converged and change < 1e-9 * (1.0 + np.max(np.abs(eta[rows]))):
            converged = True
            break
    return beta, coef_g, eta, converged


def _diverged(family: Family, eta: np.ndarray) -> np.ndarray:
    if family.link in BINARY_LINKS:
        return np.abs(eta) > _DIVERGED
    if family.link == "log":
        return eta < -_DIVERGED
    return np.zeros(eta.shape, dtype=bool)


def _boundary_reason(family: Family, y: np.ndarray, trials: np.ndarray | None) -> str:
    if family.link in BINARY_LINKS:
        n = np.ones_like(y) if trials is None else trials
        if np.all(y == 0):
            return "all responses are 0: the estimate is -infinite (separation)"
        if np.all(y == n):
            return "all responses are successes: the estimate is +infinite (separation)"
    if family.link == "log" and np.all(y == 0):
        return "all counts are 0: the estimate is -infinite"
    return ""


def no_pooling(design: Design, fb: FactorBlocks, pmap: PopulationMap) -> NoPooling:
    """Each group's own coefficients (see the module docstring for the model and the reasons).

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> from hierbayes.summaries.population import population_map
    >>> from hierbayes.summaries.posterior import factor_blocks
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 10.0, 2.0], "g": ["a", "a", "b", "c"],
    ...                    "x": [0.0, 1.0, 0.0, 0.0]})
    >>> d = make_design(parse_formula("y ~ x + (1 + x | g)"), df)
    >>> fb = factor_blocks(d)
    >>> res = no_pooling(d, fb, population_map(d, fb))
    >>> res.estimates[0].round(6).tolist(), res.reasons[1]
    ([1.0, 2.0], '1 observation(s) for 2 coefficients')
    """
    family = design.family
    if family.cutpoints:
        raise SummaryError(
            "No-pooling fits (pooling, shrinkage, group lines) are not available for the "
            "cumulative family: each group's own ordinal model would need its own cut-points. "
            "Use fit.ranef() or fit.plot_caterpillar() for the group effects."
        )
    J, q = len(fb.levels), len(fb.terms)
    codes = fb.codes
    counts = fb.counts
    reasons = [""] * J
    for j in range(J):
        rows = codes == j
        if counts[j] < q:
            reasons[j] = f"{counts[j]} observation(s) for {q} coefficients"
        elif numerical_rank(fb.Z[rows]) < q:
            reasons[j] = (
                "the group's data cannot separate its coefficients (a predictor does not vary "
                "within it)"
            )
        elif "Intercept" in fb.terms:
            trials = None if design.trials is None else design.trials[rows]
            reasons[j] = _boundary_reason(family, design.y[rows], trials)
    shared_names = tuple(design.fixed_columns[i] for i in pmap.shared)
    W = design.X[:, list(pmap.shared)]
    while True:
        ok = np.array([r == "" for r in reasons])
        if not ok.any():
            beta, coef_g = np.full(W.shape[1], np.nan), np.full((J, q), np.nan)
            break
        beta, coef_g, eta, converged = _irls(design, W, fb.Z, codes, J, ok, shared_names)
        bad = _group_sum(_diverged(family, eta).astype(float), codes, J) > 0
        bad &= ok
        if not bad.any():
            if not converged:
                warnings.warn(
                    "The no-pooling fit did not converge; its estimates are approximate.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            break
        for j in np.flatnonzero(bad):
            reasons[j] = "perfect separation: the group's own estimate is infinite"
    assert coef_g is not None
    estimates = np.where(ok[:, None], coef_g, np.nan)
    return NoPooling(fb.terms, fb.levels, estimates, tuple(reasons), shared_names, beta)


def complete_pooling(design: Design) -> np.ndarray:
    """Fixed-effect estimates of one regression ignoring the groups (``NaN`` if infinite).

    Examples
    --------
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 3.0, 2.0, 4.0], "x": [0.0, 1.0, 0.0, 1.0],
    ...                    "g": ["a", "a", "b", "b"]})
    >>> complete_pooling(make_design(parse_formula("y ~ x + (1 | g)"), df)).round(6).tolist()
    [1.5, 2.0]
    """
    codes = np.zeros(design.n_obs, dtype=np.int64)
    ok = np.ones(1, dtype=bool)
    beta, _, eta, converged = _irls(design, design.X, None, codes, 1, ok, design.fixed_columns)
    if _diverged(design.family, eta).any():
        return np.full(design.X.shape[1], np.nan)
    if not converged:
        warnings.warn(
            "The complete-pooling fit did not converge; its estimates are approximate.",
            RuntimeWarning,
            stacklevel=2,
        )
    return beta
