"""Draws from the priors, the log prior density of any draw, and prior predictive draws.

Every prior of the prior table (:attr:`hierbayes.Model.priors`) is drawn as the model defines it:
``Intercept`` is the intercept *at the means of the predictors* (``Intercept_c``), so the draws
of ``b[Intercept]`` are ``Intercept_c - mean(X) @ β``; ``sd|<term>`` per coefficient;
``cor|<term>`` from LKJ(eta) by the onion method (Lewandowski, Kurowicka & Joe 2009); group
effects ``u|<term>`` from ``N(0, T)`` with ``T = diag(sd) Ω diag(sd)``; ``sigma``. The
distributions the compiled log-density evaluates are drawn and scored with SciPy; any other
PyMC distribution with PyMC itself (``pymc.draw`` / ``pymc.logp``), which compiles a small
function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from scipy import stats
from scipy.special import gammaln

from hierbayes.build import FIXED_DIM, OBS_DIM, group_dim, response_name
from hierbayes.build.cutpoints import CUTPOINT_DIM
from hierbayes.density import codes as K
from hierbayes.density.layout import Unsupported, centred_fixed_design, prior_rows
from hierbayes.design import Design
from hierbayes.design.ordinal import cutpoint_labels
from hierbayes.errors import PriorError
from hierbayes.loglik import effects_term, observed_data
from hierbayes.predict.draws import new_group_effects
from hierbayes.predict.ordinal import ordered_prior_draws
from hierbayes.predict.response import sample_response
from hierbayes.priors import Prior
from hierbayes.validate import check_count, check_seed

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = [
    "lkj_logpdf",
    "log_prior",
    "prior_draws",
    "prior_logpdf",
    "prior_predictive",
    "sample_lkj",
    "sample_prior",
]


def _scipy(code: int, a: float, b: float, c: float) -> stats.rv_continuous | None:
    """The SciPy distribution of one row of the kernel's prior table (None: Half-StudentT)."""
    table = {
        K.NORMAL: lambda: stats.norm(a, b),
        K.STUDENT_T: lambda: stats.t(a, loc=b, scale=c),
        K.CAUCHY: lambda: stats.cauchy(a, b),
        K.LAPLACE: lambda: stats.laplace(a, b),
        K.HALF_NORMAL: lambda: stats.halfnorm(scale=a),
        K.HALF_CAUCHY: lambda: stats.halfcauchy(scale=a),
        K.EXPONENTIAL: lambda: stats.expon(scale=1.0 / a),
        K.GAMMA: lambda: stats.gamma(a, scale=1.0 / b),
        K.INVERSE_GAMMA: lambda: stats.invgamma(a, scale=b),
        K.LOG_NORMAL: lambda: stats.lognorm(b, scale=np.exp(a)),
        K.WEIBULL: lambda: stats.weibull_min(a, scale=b),
        K.HALF_STUDENT_T: lambda: None,
    }
    return table[code]()


def _rows(name: str, prior: Prior, size: int, positive: bool) -> np.ndarray | None:
    try:
        return prior_rows(name, prior, size, positive=positive)
    except Unsupported:
        return None


def _pymc_dist(name: str, prior: Prior, size: int):
    from hierbayes.build.priors import prior_dist

    return prior_dist(name, prior, shape=size)


def sample_prior(
    name: str, prior: Prior, size: int, n: int, rng: np.random.Generator, *, positive: bool
) -> np.ndarray:
    """``n`` draws of a prior over ``size`` coefficients, shape ``(n, size)``.

    Raises :class:`~hierbayes.errors.PriorError` for an improper prior (Flat, HalfFlat), which
    has no draws.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = sample_prior("b|x", Prior("Normal", mu=1.0, sigma=2.0), 1, 100_000, rng,
    ...                  positive=False)
    >>> round(float(x.mean()), 1), round(float(x.std()), 1)
    (1.0, 2.0)
    """
    rows = _rows(name, prior, size, positive)
    if rows is None:
        import pymc as pm

        seed = int(rng.integers(2**31))
        draws = pm.draw(_pymc_dist(name, prior, size), draws=n, random_seed=seed)
        return np.asarray(draws, dtype=float).reshape(n, size)
    out = np.empty((n, size))
    for k, (code, a, b, c) in enumerate(rows):
        if code in (K.FLAT, K.HALF_FLAT):
            raise PriorError(
                f"The prior of '{name}' is {prior.dist}, an improper prior that has no draws; "
                "give it a proper prior (e.g. Normal or HalfNormal) for prior predictive draws."
            )
        dist = _scipy(int(code), a, b, c)
        if dist is None:  # Half-StudentT: |t|
            out[:, k] = np.abs(stats.t(a, scale=b).rvs(n, random_state=rng))
        else:
            out[:, k] = dist.rvs(n, random_state=rng)
    return out


def prior_logpdf(name: str, prior: Prior, values: np.ndarray, *, positive: bool) -> np.ndarray:
    """Log density of a prior at ``values`` (shape ``(n, size)``), elementwise.

    Flat priors have log density 0, as in PyMC.

    Examples
    --------
    >>> v = np.array([[0.0], [1.0]])
    >>> prior_logpdf("sigma", Prior("HalfNormal", sigma=1.0), v, positive=True).round(4).ravel()
    array([-0.2258, -0.7258])
    """
    values = np.asarray(values, dtype=float)
    size = values.shape[-1]
    rows = _rows(name, prior, size, positive)
    if rows is None:
        import pymc as pm

        logp = pm.logp(_pymc_dist(name, prior, size), values).eval()
        return np.asarray(logp, dtype=float)
    out = np.empty(values.shape)
    for k, (code, a, b, c) in enumerate(rows):
        v = values[..., k]
        if code in (K.FLAT, K.HALF_FLAT):
            out[..., k] = np.where(v >= 0, 0.0, -np.inf) if code == K.HALF_FLAT else 0.0
            continue
        dist = _scipy(int(code), a, b, c)
        if dist is None:
            out[..., k] = np.where(v >= 0, np.log(2.0) + stats.t(a, scale=b).logpdf(v), -np.inf)
        else:
            out[..., k] = dist.logpdf(v)
    return out


def sample_lkj(eta: float, q: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of a ``q x q`` correlation matrix from LKJ(eta) (onion method).

    Examples
    --------
    >>> r = sample_lkj(2.0, 2, 200_000, np.random.default_rng(1))[:, 0, 1]
    >>> round(float(r.var()), 2)  # LKJ(2) for 2 x 2: r ~ 2 Beta(2, 2) - 1, variance 1/5
    0.2
    """
    out = np.broadcast_to(np.eye(q), (n, q, q)).copy()
    if q < 2:
        return out
    beta = eta + (q - 2) / 2.0
    r = 2.0 * rng.beta(beta, beta, n) - 1.0
    out[:, 0, 1] = out[:, 1, 0] = r
    for k in range(2, q):
        beta -= 0.5
        y = rng.beta(k / 2.0, beta, n)
        direction = rng.standard_normal((n, k))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        w = np.sqrt(y)[:, None] * direction
        chol = np.linalg.cholesky(out[:, :k, :k])
        z = np.einsum("nij,nj->ni", chol, w)
        out[:, :k, k] = z
        out[:, k, :k] = z
    return out


def lkj_logpdf(eta: float, cor: np.ndarray) -> np.ndarray:
    """Log density of LKJ(eta) at correlation matrices ``cor`` (shape ``(..., q, q)``).

    Examples
    --------
    >>> round(float(np.exp(lkj_logpdf(1.0, np.eye(2)))), 12)  # uniform on [-1, 1]
    0.5
    """
    q = cor.shape[-1]
    k = np.arange(1, q)
    constant = (q - 1) * gammaln(eta + 0.5 * (q - 1)) - (
        0.5 * k * np.log(np.pi) + gammaln(eta + 0.5 * (q - 1 - k))
    ).sum()
    _, logdet = np.linalg.slogdet(cor)
    return (eta - 1.0) * logdet + constant


def _eta(prior: Prior, name: str) -> float:
    eta = float(prior.kwargs.get("eta", 1.0))
    if not eta > 0:
        raise PriorError(f"The LKJ prior of '{name}' needs eta > 0, got {eta}.")
    return eta


def _fixed(design: Design, priors: dict[str, Prior], n: int, rng) -> np.ndarray:
    """Draws of ``b`` (n, p) in the order of ``design.fixed_columns``."""
    columns = list(design.fixed_columns)
    _, means, has_intercept = centred_fixed_design(design)
    slopes = [c for c in columns if c != "Intercept"]
    beta = np.column_stack(
        [sample_prior(f"b|{c}", priors[f"b|{c}"], 1, n, rng, positive=False) for c in slopes]
        or [np.zeros((n, 0))]
    )
    b = np.zeros((n, len(columns)))
    for k, c in enumerate(slopes):
        b[:, columns.index(c)] = beta[:, k]
    if has_intercept:
        centred = sample_prior("Intercept", priors["Intercept"], 1, n, rng, positive=False)
        b[:, columns.index("Intercept")] = centred[:, 0] - beta @ means
    return b


def prior_draws(
    design: Design, priors: dict[str, Prior], draws: int, rng: np.random.Generator
) -> xr.Dataset:
    """Draws of every parameter from its prior, labelled as the posterior is.

    Variables ``b`` (``term``), ``sd|<term>``, ``cor|<term>`` (correlated terms), ``u|<term>``
    (group labels x coefficients) and ``sigma``, with dims ``(chain, draw, ...)`` and one chain.
    """
    n = int(draws)
    coords: dict[str, Any] = {"chain": [0], "draw": np.arange(n)}
    out: dict[str, Any] = {}

    def put(name: str, values: np.ndarray, dims: tuple[str, ...], extra: dict) -> None:
        # (dims, values) and the coordinates once for the whole dataset: one alignment, not one
        # per variable
        out[name] = (("chain", "draw", *dims), values.reshape(1, n, *values.shape[1:]))
        coords.update(extra)

    b = _fixed(design, priors, n, rng)
    put("b", b, (FIXED_DIM,), {FIXED_DIM: list(design.fixed_columns)})
    for block in design.blocks:
        q, tdim = len(block.columns), block.term_dim
        terms = {tdim: list(block.columns)}
        sd = sample_prior(f"sd|{block.name}", priors[f"sd|{block.name}"], q, n, rng, positive=True)
        put(f"sd|{block.name}", sd, (tdim,), terms)
        cor = None
        if block.correlated:
            name = f"cor|{block.name}"
            cor = sample_lkj(_eta(priors[name], name), q, n, rng)
            put(name, cor, (tdim, f"{tdim}_bis"), {**terms, f"{tdim}_bis": list(block.columns)})
        u = new_group_effects(sd, cor, len(block.levels), rng)
        gdim = group_dim(block)
        put(f"u|{block.name}", u, (gdim, tdim), {gdim: list(block.levels), **terms})
    if design.family.cutpoints:  # ordered, at the predictors' means; then as the model is written
        labels = cutpoint_labels(design.response_levels or ())
        prior = priors["cutpoints"]
        centred = ordered_prior_draws(
            lambda m: sample_prior("cutpoints", prior, len(labels), m, rng, positive=False),
            n,
            "cutpoints",
            exchangeable=all(np.size(v) == 1 for v in prior.kwargs.values()),
        )
        shift = b @ centred_fixed_design(design)[1]
        put("cutpoints", centred + shift[:, None], (CUTPOINT_DIM,), {CUTPOINT_DIM: labels})
    else:
        if design.dpar is not None:  # sigma="~ ...": b_sigma and its group terms
            from hierbayes.predict.prior_dpar import dpar_prior_draws

            out |= dict(dpar_prior_draws(design, priors, n, rng).data_vars)
        varying = design.dpar.name if design.dpar is not None else None
        for name in design.family.params:  # sigma, Student-t's nu, a shape: all positive
            if name != varying:
                value = sample_prior(name, priors[name], 1, n, rng, positive=True)[:, 0]
                put(name, value, (), {})
    dataset = xr.Dataset(out, coords=coords)
    dataset.attrs = {"generated_by": "hierbayes.predict.prior.prior_draws"}
    return dataset


def _values(da: xr.DataArray) -> np.ndarray:
    values = np.asarray(da.transpose("chain", "draw", ...).values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])


def log_prior(design: Design, priors: dict[str, Prior], draws: xr.Dataset) -> xr.Dataset:
    """Log prior density of each draw, one variable per prior of the prior table.

    ``Intercept`` is scored at ``Intercept_c = b[Intercept] + mean(X) @ β`` (the scale its prior
    is on), the others at the draws of ``b``, ``sd|<term>``, ``cor|<term>`` and ``sigma``,
    summed over the coefficients a prior covers. Group effects are not scored: as in brms's
    ``lprior``, the population distribution of the effects is part of the model, not of its
    priors. Power-scaling sensitivity scales these values
    (:mod:`hierbayes.summaries.sensitivity`).
    """
    chain, draw = draws["chain"].values, draws["draw"].values
    columns = list(design.fixed_columns)
    b = _values(draws["b"].sel({FIXED_DIM: columns}))
    _, means, has_intercept = centred_fixed_design(design)
    slopes = [j for j, c in enumerate(columns) if c != "Intercept"]
    out: dict[str, np.ndarray] = {}
    if has_intercept:
        centred = b[:, columns.index("Intercept")] + b[:, slopes] @ means
        out["Intercept"] = prior_logpdf(
            "Intercept", priors["Intercept"], centred[:, None], positive=False
        )[:, 0]
    for j in slopes:
        name = f"b|{columns[j]}"
        out[name] = prior_logpdf(name, priors[name], b[:, [j]], positive=False)[:, 0]
    for block in design.blocks:
        name = f"sd|{block.name}"
        sd = _values(draws[name].sel({block.term_dim: list(block.columns)}))
        out[name] = prior_logpdf(name, priors[name], sd, positive=True).sum(axis=1)
        name = f"cor|{block.name}"
        if block.correlated and name in draws:
            tdim = block.term_dim
            sel = {tdim: list(block.columns), f"{tdim}_bis": list(block.columns)}
            out[name] = lkj_logpdf(_eta(priors[name], name), _values(draws[name].sel(sel)))
    if design.dpar is not None:  # sigma="~ ...": sigma_Intercept, b|sigma_x, sd|sigma_g
        from hierbayes.predict.prior_dpar import dpar_log_prior

        out |= {k: v.reshape(-1) for k, v in dpar_log_prior(design, priors, draws).items()}
    varying = design.dpar.name if design.dpar is not None else None
    for name in design.family.params:  # positive (a probability: on (0, 1))
        if name not in (varying, "cutpoints"):
            value = _values(draws[name])[:, None]
            out[name] = prior_logpdf(name, priors[name], value, positive=True)[:, 0]
    if design.family.cutpoints and "cutpoints" in draws:  # at the predictors' means
        centred = _values(draws["cutpoints"]) - (b[:, slopes] @ means)[:, None]
        cut = prior_logpdf("cutpoints", priors["cutpoints"], centred, positive=False)
        out["cutpoints"] = cut.sum(axis=1)
    shape = (chain.size, draw.size)
    return xr.Dataset(
        {k: (("chain", "draw"), v.reshape(shape)) for k, v in out.items()},
        coords={"chain": chain, "draw": draw},
    )


def _linear_predictor(design: Design, draws: xr.Dataset) -> np.ndarray:
    eta = _values(draws["b"].sel({FIXED_DIM: list(design.fixed_columns)})) @ design.X.T
    for block in design.blocks:
        u = draws[f"u|{block.name}"].sel(
            {group_dim(block): list(block.levels), block.term_dim: list(block.columns)}
        )
        effects_term(block, _values(u), out=eta)
    return eta


def _response_draws(design: Design, draws: xr.Dataset, rng) -> np.ndarray:
    eta = _linear_predictor(design, draws)
    if "cutpoints" in draws:  # an ordinal model: category numbers
        cut = {"cutpoints": _values(draws["cutpoints"])[:, None, :]}
        return sample_response(design.family, eta, rng=rng, params=cut)
    own = {name: _values(draws[name])[:, None] for name in design.family.params if name in draws}
    if design.dpar is not None:  # each row's σ
        from hierbayes.predict.prior_dpar import dpar_prior_rows

        own[design.dpar.name] = dpar_prior_rows(design, draws)
    try:
        return sample_response(design.family, eta, rng=rng, params=own, trials=design.trials)
    except ValueError as err:  # e.g. numpy's Poisson sampler refuses rates above ~1e19
        raise PriorError(
            f"The priors give {design.family.name} responses that cannot be drawn ({err}): "
            f"the linear predictor reaches {np.max(eta):.3g} (link {design.family.link}). "
            "Priors this wide simulate absurd data; give the intercept, effects and group "
            "SDs priors on the scale of the data (see the prior table)."
        ) from err


def prior_predictive(
    model: Model, draws: int = 500, *, random_seed: int | np.random.Generator | None = 1
) -> xr.DataTree:
    """Draws of every parameter from the priors and of the response for the observed design.

    Parameters
    ----------
    model : Model
    draws : int
        Number of prior draws.
    random_seed : int or numpy.random.Generator, optional
        The same seed gives the same draws.

    Returns
    -------
    xarray.DataTree
        Groups ``prior`` (``b``, ``sd|<term>``, ``cor|<term>``, ``u|<term>``, ``sigma``, labelled
        like the posterior: term names and group labels), ``prior_predictive`` (the response,
        dims ``(chain, draw, obs)`` with the data's index) and ``observed_data``. Plot them with
        :func:`hierbayes.plots.plot_prior_predictive`.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> prior = m.prior_predictive(draws=200, random_seed=1)
    >>> dict(prior["prior_predictive"]["Reaction"].sizes)
    {'chain': 1, 'draw': 200, 'obs': 180}
    """
    draws = check_count("draws", draws)
    rng = np.random.default_rng(check_seed(random_seed, generator=True))
    design = model.design
    parameters = prior_draws(design, model.prior_values, int(draws), rng)
    y = _response_draws(design, parameters, rng)
    observed = observed_data(design, model.obs_index)
    name = response_name(design)
    predictive = xr.Dataset(
        {
            name: xr.DataArray(
                y.reshape(1, int(draws), design.n_obs),
                dims=("chain", "draw", OBS_DIM),
                coords={
                    "chain": [0],
                    "draw": np.arange(int(draws)),
                    OBS_DIM: observed[OBS_DIM].values,
                },
            )
        }
    )
    predictive.attrs = {"generated_by": "hierbayes.predict.prior.prior_predictive"}
    return xr.DataTree.from_dict(
        {"prior": parameters, "prior_predictive": predictive, "observed_data": observed}
    )
