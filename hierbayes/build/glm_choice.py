"""Centred or non-centred group effects for families other than the gaussian, chosen from the data.

The rule is the gaussian one (:func:`hierbayes.build.groups.choose_parameterization`): centre a
coefficient when a typical group's own data pin it down better than the population distribution
does, i.e. when ``τ²_k × I_jk > 1`` for the median group, with ``I_jk`` the Fisher information of
group ``j``'s data about its coefficient ``k`` and ``τ²_k`` the between-group variance. For a
non-gaussian family both come from a population-level GLM fit ``η̂ = Xβ̂`` (Newton's method on the
family's own log-likelihood derivatives, :func:`hierbayes.families.dispatch.eta_derivs`):

* each group's working least-squares fit, one Newton step from ``η̂`` (weights ``w = -d²ℓ/dη²``,
  working response ``d ℓ/dη / w``) gives its coefficients ``û_j`` and their sampling variances
  ``φ [(Z_jᵀ W Z_j)⁻¹]_kk``, where ``φ ≥ 1`` is the working residuals' dispersion within groups
  (rows that scatter more than the family says, e.g. through an observation-level effect, count
  as less information);
* ``τ²_k`` is the variance of ``û_jk`` across groups less the mean sampling variance (method of
  moments), as in the gaussian rule.

A family with parameters of its own (a negative binomial's or gamma's shape, a beta's precision,
a Student-t's σ and ν, a zero-inflation probability) gets them from the same population fit:
Newton's method in ``β`` alternates with a maximisation of the log-likelihood in the own
parameters (on their sampling scale, ``log`` or ``logit``) at fixed ``η̂``, so the weights are the
family's at its fitted dispersion (an ordinal family's cut-points likewise:
:mod:`hierbayes.build.ordinal_fit`; a zero-inflated family's rows are weighed by their expected
information: :mod:`hierbayes.build.expected_info`). Groups with no more rows than coefficients
give no estimate; a factor with fewer than three usable groups or a population fit that does not
converge keep the safe choice, non-centred.

On glmmTMB's Salamanders (negative binomial, 644 counts at 23 sites, about 28 a site) this centres
the sites: the smallest bulk ESS in 4 x 1000 draws rose from 861 (non-centred) to 1,628 at the
same wall time.

On lme4's VerbAgg (316 respondents x 24 items, bernoulli) this gives centred effects for both
factors (a respondent answers 24 items, an item is answered 316 times: ``τ² I`` about 8 and
15). Centred alone, the smallest bulk ESS of a population parameter in 4 x 1000 draws rose from
379 to 456; with the fixed terms constant within items and respondents sampled inside their
centred intercepts as well (:func:`hierbayes.density.layout.make_layout`), to 4,211. On the
grouse ticks (broods in locations, one chick per INDEX) all three stay non-centred: locations,
most with one or two broods, count their broods' information (centring them, counting rows, left
the SD of LOCATION at R-hat 1.15 and ESS 19), and a brood that is its location's only one cannot
be told from it.
"""

from __future__ import annotations

import weakref

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from scipy.special import logit as logit_

from hierbayes.build.expected_info import expected_weights
from hierbayes.build.nested import _nests, nested_child
from hierbayes.build.ordinal_fit import ordinal_population_fit
from hierbayes.design import Design, GroupBlock
from hierbayes.families.dispatch import eta_derivs
from hierbayes.linalg import numerical_rank, segment_ranks

__all__ = ["choose_glm_parameterization", "population_fit", "population_glm"]

_NEWTON_STEPS = 50
_TOL = 1e-8
_SEPARATED = 30.0
_OWN_ROUNDS = 20  # alternations of β and the own parameters (they settle in a few)
_OWN_ROWS = 20_000  # rows the own parameters are fitted on (evenly spaced beyond that)


def _derivs(
    design: Design, eta: np.ndarray, theta: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    n = eta.size
    d1, d2, d3 = np.empty(n), np.empty(n), np.empty(n)
    trials = np.zeros(0) if design.trials is None else np.asarray(design.trials, dtype=float)
    y = np.asarray(design.y, dtype=float)
    theta = np.zeros(0) if theta is None else np.ascontiguousarray(theta, dtype=float)
    eta_derivs(design.family.code, y, np.ascontiguousarray(eta), trials, theta, d1, d2, d3)
    w = np.ones(n) if design.weights is None else np.asarray(design.weights, dtype=float)
    return w * d1, -w * d2


def population_glm(design: Design) -> np.ndarray | None:
    """The linear predictor ``η̂`` of the population-level GLM (fixed effects only) at its
    maximum likelihood (with the family's own parameters at theirs: :func:`population_fit`);
    None when it does not converge (e.g. complete separation).

    Examples
    --------
    >>> import hierbayes as hb
    >>> cbpp = hb.datasets.load("cbpp")
    >>> d = hb.Model("incidence | trials(size) ~ C(period) + (1 | herd)", cbpp,
    ...              family="binomial").design
    >>> eta = population_glm(d)
    >>> round(float(eta[0]), 4)   # logit of the pooled period-1 incidence, 61 of 278
    -1.269
    """
    fit = population_fit(design)
    return None if fit is None else fit[0]


def population_fit(design: Design) -> tuple[np.ndarray, np.ndarray] | None:
    """``(η̂, θ̂)``: the population-level GLM's linear predictor and the family's own parameters
    (natural scale, in the order of ``family.params``; empty for a family without) at their joint
    maximum likelihood: Newton's method in ``β`` at fixed ``θ`` alternates with a maximisation in
    ``θ`` at fixed ``η̂`` (Nelder-Mead on the sampling scale, deterministic) until ``θ`` settles.
    None when a step does not converge. An ordinal family's own parameters are its cut-points
    (:mod:`hierbayes.build.ordinal_fit`).

    Examples
    --------
    >>> import numpy as np, pandas as pd, hierbayes as hb
    >>> rng = np.random.default_rng(1)
    >>> y = rng.negative_binomial(2.0, 2.0 / (2.0 + 3.0), size=4000)   # mean 3, shape 2
    >>> d = hb.Model("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": np.arange(4000) % 40}),
    ...              family="negativebinomial").design
    >>> eta, theta = population_fit(d)
    >>> round(float(np.exp(eta[0])), 1), round(float(theta[0]), 1)
    (3.0, 2.0)
    """
    family = design.family
    if family.cutpoints:
        return ordinal_population_fit(design, _newton)
    X = np.asarray(design.X, dtype=float)
    if not family.params:
        beta = _newton(design, X, np.zeros(X.shape[1]), None)
        return None if beta is None else (_eta(design, X, beta), np.zeros(0))
    theta = _start(design)
    beta = _least_squares_start(design, X)
    for _ in range(_OWN_ROUNDS):
        beta = _newton(design, X, beta, theta)
        if beta is None:
            return None
        previous, theta = theta, _own_parameters(design, _eta(design, X, beta), theta)
        if theta is None:
            return None
        if np.allclose(theta, previous, rtol=1e-3):
            break
    beta = _newton(design, X, beta, theta)
    return None if beta is None else (_eta(design, X, beta), theta)


def _start(design: Design) -> np.ndarray:
    """Starting own parameters: a scale ``sigma`` at the spread of the response on the linear
    predictor's scale, a Student-t's ``nu`` at 30 (near the gaussian, whose log-likelihood is
    concave in ``β``), a probability at 0.5, anything else at 1."""
    family = design.family
    start = np.ones(len(family.params))
    for k, name in enumerate(family.params):
        if name == "sigma" and family.link_response is not None:
            spread = float(np.std(family.link_response(np.asarray(design.y, dtype=float))))
            start[k] = spread if np.isfinite(spread) and spread > 0 else 1.0
        elif name == "nu":
            start[k] = 30.0
        elif family.transform(name) == "logit":
            start[k] = 0.5  # a probability (zero-inflation)
    return start


def _least_squares_start(design: Design, X: np.ndarray) -> np.ndarray:
    """``β`` by least squares on the response on the linear predictor's scale (where the
    family gives it): Newton's method from ``β = 0`` may stall far out in a Student-t's tails,
    whose log-likelihood is not concave."""
    beta = np.zeros(X.shape[1])
    if design.family.link_response is None:
        return beta
    with np.errstate(all="ignore"):
        target = design.family.link_response(np.asarray(design.y, dtype=float))
    target = target - np.asarray(design.offset_or_zero, dtype=float)
    if not np.all(np.isfinite(target)):
        return beta
    return np.linalg.lstsq(X, target * np.ones(design.n_obs), rcond=None)[0]


def _eta(design: Design, X: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return np.asarray(design.offset_or_zero, dtype=float) * np.ones(design.n_obs) + X @ beta


def _own_parameters(design: Design, eta: np.ndarray, theta: np.ndarray) -> np.ndarray | None:
    """The own parameters maximising the log-likelihood at ``eta`` (None if not finite)."""
    family = design.family
    logit = np.array([family.transform(name) == "logit" for name in family.params])
    y = np.asarray(design.y, dtype=float)
    w = np.ones(y.size) if design.weights is None else np.asarray(design.weights, dtype=float)
    trials = None if design.trials is None else np.asarray(design.trials, dtype=float)
    if y.size > _OWN_ROWS:  # rough values suffice for the choice: evenly spaced rows
        rows = np.linspace(0, y.size - 1, _OWN_ROWS).astype(np.int64)
        y, eta, w = y[rows], eta[rows], w[rows]
        trials = None if trials is None else trials[rows]

    def natural(u: np.ndarray) -> np.ndarray:
        return np.where(logit, expit(u), np.exp(u))

    def loss(u: np.ndarray) -> float:
        params = dict(zip(family.params, natural(u), strict=True))
        with np.errstate(all="ignore"):
            value = -float(np.sum(w * family.log_density(y, eta, params, trials)))
        return value if np.isfinite(value) else np.inf

    start = np.where(logit, logit_(np.clip(theta, 1e-6, 1 - 1e-6)), np.log(theta))
    found = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-5, "fatol": 1e-8})
    if not np.all(np.isfinite(found.x)) or not np.isfinite(found.fun):
        return None
    return natural(np.clip(found.x, -30.0, 30.0))


def _newton(
    design: Design, X: np.ndarray, beta: np.ndarray, theta: np.ndarray | None
) -> np.ndarray | None:
    """``β`` at the maximum likelihood given ``theta``, by Newton's method with step halving."""
    offset = np.asarray(design.offset_or_zero, dtype=float) * np.ones(design.n_obs)
    eta = offset + X @ beta
    for _ in range(_NEWTON_STEPS):
        d1, w = _derivs(design, eta, theta)
        if not (np.all(np.isfinite(d1)) and np.all(np.isfinite(w))):
            return None
        grad = X.T @ d1
        H = X.T @ (w[:, None] * X)
        try:
            step = np.linalg.solve(H + 1e-10 * np.trace(H) / max(len(H), 1) * np.eye(len(H)), grad)
        except np.linalg.LinAlgError:
            return None
        decrement = float(grad @ step)
        # the log-likelihood is concave in β: along the step its slope falls from the Newton
        # decrement; halve the step while it overshoots the line's maximum by more than it
        # started below it (Poisson's exponential, a logit's flat tails)
        scale = 1.0
        while scale > 1e-4:
            moved = offset + X @ (beta + scale * step)
            slope = float(X.T @ _derivs(design, moved, theta)[0] @ step)
            if np.isfinite(slope) and slope > -decrement:
                break
            scale *= 0.5
        beta = beta + scale * step
        eta = offset + X @ beta
        if decrement < _TOL:
            # a fitted probability or rate beyond e^±30 is a separated (or degenerate) fit: its
            # maximum lies at infinity, where the gradient vanishes too (an identity link's
            # predictor is on the response's own scale)
            identity = design.family.link == "identity"
            return beta if identity or np.max(np.abs(eta - offset)) < _SEPARATED else None
    return None


def _at_bound(design: Design) -> np.ndarray | None:
    """Rows of a binary or binomial response at a bound of its support (0, or all trials)."""
    if design.family.name not in ("bernoulli", "binomial"):
        return None
    y = np.asarray(design.y, dtype=float)
    top = 1.0 if design.trials is None else np.asarray(design.trials, dtype=float)
    return np.stack([y == 0, y == top])


def _group_estimates(
    block: GroupBlock, d1: np.ndarray, w: np.ndarray, bound: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One Newton step of each group's coefficients from the population fit: estimates and
    sampling variances (J x q; NaN for groups with no more rows than coefficients), the latter
    times the working residuals' dispersion within groups (at least 1).

    With ``bound`` (:func:`_at_bound`), a group whose responses all lie at the same bound (a
    patient never or always ill) gives no estimate either: its likelihood rises towards an
    infinite effect, and the Fisher information at the population fit, which it has there,
    is not what it has where its effect lies (on HSAUR3's toenail data, 61% of 294 patients,
    SD 4.1 on the logit scale: centred, bulk ESS 412 and 336 with R-hat up to 1.013 in 4 x
    1000 draws, seeds 1 and 2; non-centred 704 and 668, R-hat 1.006)."""
    q, J = len(block.columns), len(block.levels)
    order = np.argsort(block.codes, kind="stable")
    bounds = np.searchsorted(block.codes[order], np.arange(J + 1))
    estimates = np.full((J, q), np.nan)
    sampling = np.full((J, q), np.nan)
    rss, dof = 0.0, 0
    # one coefficient: every group's rank at once (thousands of one-column QRs otherwise)
    ranks = segment_ranks(block.Z[order, 0], bounds) if q == 1 else None
    for j in range(J):
        rows = order[bounds[j] : bounds[j + 1]]
        Zj, wj = block.Z[rows], w[rows]
        if len(rows) <= q or not np.all(wj > 0):
            continue
        if (numerical_rank(Zj) if ranks is None else ranks[j]) < q:
            continue
        if bound is not None and (bound[0, rows].all() or bound[1, rows].all()):
            continue  # separated: no finite estimate
        info = Zj.T @ (wj[:, None] * Zj)
        try:
            cov = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            continue
        coef = cov @ (Zj.T @ d1[rows])
        working = d1[rows] / wj - Zj @ coef
        rss += float((wj * working**2).sum())
        dof += len(rows) - q
        estimates[j] = coef
        sampling[j] = np.diag(cov)
    phi = max(rss / dof, 1.0) if dof else 1.0
    return estimates, phi * sampling


def _between_variance(estimates: np.ndarray, variances: np.ndarray) -> float:
    """Method of moments: the estimates' variance less their mean sampling variance."""
    return max(float(np.var(estimates, ddof=1) - variances.mean()), 0.0)


def _parent_codes(design: Design, block: GroupBlock, k: int) -> np.ndarray | None:
    """Each group of ``block``'s factor's group in the factor just above it that varies
    coefficient ``k`` too (the factor with the most groups, fewer than ``block``'s, in which
    ``block``'s factor nests and one of whose terms has ``block``'s column ``k``), or None.

    An upper factor that does not vary the coefficient (``(0 + x | pop) + (1 | gen)`` for the
    intercept) leaves its differences in the lower factor's effects: they are then measured
    across all groups."""
    J = len(block.levels)
    column = block.Z[:, k]
    above = None
    for other in design.blocks:
        jp = len(other.levels)
        if other.factor == block.factor or not 1 < jp < J:
            continue
        if not any(np.array_equal(other.Z[:, i], column) for i in range(other.Z.shape[1])):
            continue
        if _nests(block.codes, J, other.codes, jp) and (above is None or jp > len(above.levels)):
            above = other
    if above is None:
        return None
    parent = np.zeros(J, dtype=np.int64)
    parent[block.codes] = above.codes
    return parent


def _within_variance(
    estimates: np.ndarray, variances: np.ndarray, parent: np.ndarray | None
) -> float:
    """:func:`_between_variance` of a factor nested in another, with each estimate centred on
    its upper group's mean: the variance of the factor's own effects. Across all groups the
    estimates vary by the upper factor's effects too (Arabidopsis: genotypes in populations,
    whose SD is three times the genotypes'), which made a weak lower level look well informed
    (centred, with a funnel) and, counted as its variance in :func:`_nested_ratio`, an
    informative upper level look weak (non-centred)."""
    if parent is None:
        return _between_variance(estimates, variances)
    counts = np.bincount(parent)
    means = np.bincount(parent, weights=estimates) / np.maximum(counts, 1)
    dof = estimates.size - np.count_nonzero(counts)
    if dof < 2 or np.median(counts[counts > 0]) < 2:
        # most upper groups hold one lower group: the two effects are not told apart there
        # (grouse ticks' broods in locations; :func:`_alone_in_parents`)
        return _between_variance(estimates, variances)
    spread = float(((estimates - means[parent]) ** 2).sum()) / dof
    return max(spread - float(variances.mean()), 0.0)


def _nested_ratio(design: Design, block: GroupBlock, k: int, child: GroupBlock) -> float | None:
    """Median over ``block``'s groups of ``τ² I`` for coefficient ``k`` when ``child``'s factor
    nests in ``block``'s: a group's information counts its child groups, each worth
    ``1 / (τ²_child + v_c)``, not its rows (see :func:`hierbayes.build.nested`)."""
    kc = next(i for i in range(len(child.columns)) if np.array_equal(child.Z[:, i], block.Z[:, k]))
    found = _design_group_estimates(design, child)
    if found is None:
        return None
    est, var = found
    ok = ~np.isnan(est[:, kc])
    if ok.sum() < 3:
        return None
    parent = np.zeros(len(child.levels), dtype=np.int64)
    parent[child.codes] = block.codes  # each child group's group of block
    tau2_child = _within_variance(est[ok, kc], var[ok, kc], parent[ok])
    J = len(block.levels)
    precision = 1.0 / (tau2_child + var[ok, kc])
    info = np.bincount(parent[ok], weights=precision, minlength=J)
    total = np.bincount(parent[ok], weights=precision * est[ok, kc], minlength=J)
    has = info > 0
    if has.sum() < 3:
        return None
    above = _parent_codes(design, block, k)
    tau2 = _within_variance(
        total[has] / info[has], 1.0 / info[has], None if above is None else above[has]
    )
    return float(np.median(tau2 * info))


def _alone_in_parents(design: Design, block: GroupBlock) -> bool:
    """Whether ``block``'s factor nests in another factor whose typical (median) group holds one
    group of it: there a group's effect and its parent's are only identified as a sum, and
    centring the child leaves a ridge between the two (grouse ticks: 35 of 63 locations hold one
    brood; broods centred gave R-hat 1.05 and ESS 113 on the SDs, non-centred 1.03 and 148)."""
    J = len(block.levels)
    for other in design.blocks:
        jp = len(other.levels)
        if other.factor == block.factor or not jp < J:
            continue
        if not _nests(block.codes, J, other.codes, jp):
            continue
        parent = np.zeros(J, dtype=np.int64)
        parent[block.codes] = other.codes
        if np.median(np.bincount(parent, minlength=jp)) <= 1:
            return True
    return False


# each design's population fit, once for all its group terms (entries go with the design)
_WEIGHTS: weakref.WeakKeyDictionary[Design, tuple[np.ndarray, np.ndarray] | None]
_WEIGHTS = weakref.WeakKeyDictionary()


def _population_weights(design: Design) -> tuple[np.ndarray, np.ndarray] | None:
    """``(dℓ/dη, w)`` of every row at the population fit (:func:`population_fit`), the
    weights as :func:`~hierbayes.build.expected_info.expected_weights` gives them; None when the
    fit does not converge. Computed once per design (a :class:`Design` is immutable)."""
    if design in _WEIGHTS:
        return _WEIGHTS[design]
    fit = population_fit(design)
    found = None
    if fit is not None:
        d1, w = _derivs(design, *fit)
        found = (d1, expected_weights(design, *fit, w))
        for values in found:
            values.setflags(write=False)  # shared by the design's group terms
    _WEIGHTS[design] = found
    return found


# each design's group estimates per group term, with the weights they were computed at
_ESTIMATES: weakref.WeakKeyDictionary[Design, dict[int, tuple[tuple, tuple]]]
_ESTIMATES = weakref.WeakKeyDictionary()


def _design_group_estimates(
    design: Design, block: GroupBlock
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_group_estimates` of ``block`` at the design's population weights
    (:func:`_population_weights`), computed once per design and group term (read-only arrays:
    the choice of parameterisation, the nested rule and the partial weights each ask for them);
    None when the population fit does not converge."""
    weights = _population_weights(design)
    if weights is None:
        return None
    position = next((i for i, b in enumerate(design.blocks) if b is block), None)
    found = _ESTIMATES.setdefault(design, {})
    if position is not None and position in found and found[position][0] is weights:
        return found[position][1]  # type: ignore[return-value]
    estimates = _group_estimates(block, *weights, _at_bound(design))
    if position is not None:  # a term of the design (else computed each time)
        for values in estimates:
            values.setflags(write=False)
        found[position] = (weights, estimates)
    return estimates


def choose_glm_parameterization(design: Design, block: GroupBlock) -> tuple[str, ...]:
    """``"centered"`` or ``"noncentered"`` for each varying coefficient of ``block`` (see the
    module docstring).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    ...              hb.datasets.load("verbagg"), family="bernoulli")
    >>> [choose_glm_parameterization(m.design, b) for b in m.design.blocks]
    [('centered',), ('centered',)]
    """
    q = len(block.columns)
    safe = ("noncentered",) * q
    if _alone_in_parents(design, block):
        return safe
    found = _design_group_estimates(design, block)
    if found is None:
        return safe
    estimates, sampling = found
    usable = ~np.isnan(estimates).any(axis=1)
    if usable.sum() < 3:
        return safe
    choice = []
    for k in range(q):
        child = nested_child(design, block, k)
        if child is not None:
            nested = _nested_ratio(design, block, k, child)
            choice.append("centered" if nested is not None and nested > 1.0 else "noncentered")
            continue
        above = _parent_codes(design, block, k)
        tau2 = _within_variance(
            estimates[usable, k], sampling[usable, k], None if above is None else above[usable]
        )
        # groups without an estimate (too few rows) count as uninformative
        ratio = np.zeros(len(block.levels))
        ratio[usable] = tau2 / sampling[usable, k]
        choice.append("centered" if np.median(ratio) > 1.0 else "noncentered")
    if choice == ["noncentered"]:  # groups straddling τ² I = 1 (build.partial_choice)
        from hierbayes.build.partial_choice import auto_partial

        return auto_partial(design, block) or safe
    return tuple(choice)
