"""``fit.hypothesis()``: posterior probabilities, evidence ratios and Savage–Dickey Bayes factors.

As brms's ``hypothesis()``: a hypothesis ``lhs <op> rhs`` is evaluated draw by draw as
``d = lhs - rhs``.

* One-sided (``<``, ``<=``, ``>``, ``>=``): the posterior probability ``P(d < 0 | y)`` (or
  ``> 0``) and the evidence ratio ``P / (1 - P)``, the posterior odds of the hypothesis
  against its complement.
* Point (``=``): the Savage–Dickey density ratio (Wagenmakers et al. 2010),
  ``BF01 = p(d = 0 | y) / p(d = 0)``, the Bayes factor of the model restricted to ``d = 0``
  against the full model, for a restriction the priors make nested. The posterior density at 0
  is a Gaussian kernel density estimate of the draws of ``d`` (reflected at the edge of its
  support for a hypothesis on one SD or sigma, e.g. ``sd|school[cses] = 0.5``). The prior
  density at 0 is exact when ``d`` is linear in population-level effects whose priors are all
  Normal (a linear combination of independent normals is normal; ``b[Intercept]``'s prior is
  induced by ``Intercept_c``'s and the slopes', which is accounted for), otherwise a kernel
  density estimate of 20,000 draws of ``d`` from the priors of the prior table. The posterior
  probability of the point hypothesis is ``BF01 / (1 + BF01)`` (equal prior odds).

Parameters are named as in the tables: population-level terms by their name
(``cses:sector[T.Public]``, ``Intercept``), ``sigma``, and ``sd|<term>[<coefficient>]`` for the
SD of a varying coefficient (``sd|school[cses]``). The hypothesis text is parsed against these
names without evaluating code (:mod:`hierbayes.summaries.hypothesis_parse`).
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from hierbayes.build import FIXED_DIM
from hierbayes.density.layout import centred_fixed_design
from hierbayes.design import Design
from hierbayes.errors import SummaryError
from hierbayes.priors import Prior
from hierbayes.summaries.hypothesis_parse import Hypothesis, parse_hypothesis
from hierbayes.summaries.stats import DEFAULT_PROB, hdi_columns

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = [
    "PRIOR_DRAWS",
    "hypothesis",
    "hypothesis_draws",
    "hypothesis_label",
    "hypothesis_parameters",
    "kernel_density",
    "linear_normal_prior",
    "savage_dickey",
    "support_edge",
]

PRIOR_DRAWS = 20_000


def hypothesis_parameters(design: Design) -> list[str]:
    """Names a hypothesis may use: fixed terms, the family's own parameters (``sigma``,
    Student-t's ``nu``, a ``shape``), ``sd|<term>[<coefficient>]``."""
    names = list(design.fixed_columns)
    dpar = design.dpar
    varying = dpar.name if dpar is not None else None
    vector = {"cutpoints"} if design.family.cutpoints else set()  # not one number per draw
    names.extend(p for p in design.family.params if p not in names and p not in (varying, *vector))
    if dpar is not None:  # sigma="~ ...": sigma_Intercept, sigma_x
        names.extend(dpar.labels)
    for block in (*design.blocks, *(dpar.blocks if dpar is not None else ())):
        names.extend(f"sd|{block.name}[{c}]" for c in block.columns)
    return names


def _flat(da: xr.DataArray) -> np.ndarray:
    values = np.asarray(da.transpose("chain", "draw", ...).values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], *values.shape[2:])


def _draws(design: Design, dataset: xr.Dataset, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Draws of the named parameters, each (S,)."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name in design.fixed_columns:
            out[name] = _flat(dataset["b"].sel({FIXED_DIM: name}))
        elif design.dpar is not None and name in design.dpar.labels:
            out[name] = _flat(dataset[f"b_{design.dpar.name}"].sel({design.dpar.term_dim: name}))
        elif name in design.family.params:
            out[name] = _flat(dataset[name])
        else:
            dpar_blocks = design.dpar.blocks if design.dpar is not None else ()
            for block in (*design.blocks, *dpar_blocks):
                prefix = f"sd|{block.name}["
                if name.startswith(prefix):
                    coef = name[len(prefix) : -1]
                    out[name] = _flat(dataset[f"sd|{block.name}"].sel({block.term_dim: coef}))
                    break
    return out


def savage_dickey(
    posterior: np.ndarray,
    prior_density: float,
    point: float = 0.0,
    boundary: float | None = None,
) -> tuple[float, float]:
    """``(BF01, posterior density at point)`` from draws of ``d`` and the prior density of ``d``
    at ``point``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> post = rng.normal(0.0, 1.0, 20_000)   # posterior N(0, 1), prior N(0, 2): BF01 = 2
    >>> bf, _ = savage_dickey(post, float(stats.norm(0, 2).pdf(0)))
    >>> round(bf, 1)
    2.0
    """
    density = kernel_density(posterior, point, boundary)
    return density / prior_density, density


def kernel_density(draws: np.ndarray, point: float, boundary: float | None = None) -> float:
    """Gaussian kernel density estimate of ``draws`` at ``point`` (Scott's bandwidth),
    reflected at ``boundary`` when given (the edge of the support, e.g. an SD's 0), so that the
    mass the kernel would put beyond it is not lost near the edge.

    Examples
    --------
    >>> sd = np.abs(np.random.default_rng(0).normal(0.0, 1.0, 50_000))  # HalfNormal(1)
    >>> round(kernel_density(sd, 0.1, boundary=0.0) / float(stats.halfnorm.pdf(0.1)), 1)
    1.0
    """
    values = np.asarray(draws, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2 or np.ptp(values) == 0:
        return float("nan")
    kde = stats.gaussian_kde(values)
    density = float(kde(point)[0])
    if boundary is not None:
        density += float(kde(2 * boundary - point)[0])
    return density


def support_edge(hyp: Hypothesis, design: Design) -> float | None:
    """The edge of ``d``'s support when it is linear in one positive parameter (an SD or
    sigma): its value where that parameter is 0."""
    if len(hyp.parameters) != 1 or not hyp.is_linear():
        return None
    (name,) = hyp.parameters
    if name in design.fixed_columns:
        return None
    return float(hyp.evaluate({name: np.zeros(1)})[0])


def linear_normal_prior(
    hyp: Hypothesis, design: Design, priors: dict[str, Prior]
) -> tuple[float, float] | None:
    """Mean and SD of the prior of ``d`` when it is linear in population effects whose priors
    are all Normal (None otherwise).

    ``b = A θ`` with ``θ = [Intercept_c, β]`` independent (``b[Intercept] = Intercept_c -
    mean(X) @ β``), so ``d = c' b + d0`` is normal with mean ``c' A μ + d0`` and variance
    ``Σ_k (c' A)_k² σ_k²``.
    """
    columns = list(design.fixed_columns)
    if not hyp.is_linear() or any(p not in columns for p in hyp.parameters):
        return None
    p = len(columns)
    zero = {c: np.zeros(1) for c in hyp.parameters}
    offset = float(hyp.evaluate(zero)[0])
    c = np.zeros(p)
    for j, name in enumerate(columns):
        if name in hyp.parameters:
            unit = {k: np.array([1.0 if k == name else 0.0]) for k in hyp.parameters}
            c[j] = float(hyp.evaluate(unit)[0]) - offset
    _, means, has_intercept = centred_fixed_design(design)
    slopes = [j for j, name in enumerate(columns) if name != "Intercept"]
    thetas = (["Intercept"] if has_intercept else []) + [f"b|{columns[j]}" for j in slopes]
    A = np.zeros((p, len(thetas)))
    k0 = 1 if has_intercept else 0
    for k, j in enumerate(slopes):
        A[j, k0 + k] = 1.0
    if has_intercept:
        i = columns.index("Intercept")
        A[i, 0] = 1.0
        A[i, k0:] = -means
    weights = c @ A
    mean, var = offset, 0.0
    for w, name in zip(weights, thetas, strict=True):
        if w == 0:
            continue
        prior = priors[name]
        kwargs = prior.kwargs
        if prior.dist != "Normal" or set(kwargs) - {"mu", "sigma"}:
            return None
        mean += w * float(kwargs.get("mu", 0.0))
        var += (w * float(kwargs.get("sigma", 1.0))) ** 2
    if var == 0:
        return None
    return mean, float(np.sqrt(var))


def _prior_density(hyp: Hypothesis, fit: Fit, prior_values: dict[str, np.ndarray]) -> float:
    exact = linear_normal_prior(hyp, fit.design, fit.model.prior_values)
    if exact is not None:
        return float(stats.norm(*exact).pdf(0.0))
    return kernel_density(hyp.evaluate(prior_values), 0.0, support_edge(hyp, fit.design))


def _prior_draws(fit: Fit, random_seed: int | None) -> xr.Dataset:
    from hierbayes.predict.prior import prior_draws

    rng = np.random.default_rng(random_seed)
    return prior_draws(fit.design, fit.model.prior_values, PRIOR_DRAWS, rng)


def hypothesis_draws(
    fit: Fit, text: str, *, random_seed: int | None = 1
) -> tuple[Hypothesis, np.ndarray, np.ndarray]:
    """The parsed hypothesis and the draws of ``d = lhs - rhs`` from the posterior (S,) and
    from the priors of the prior table (:data:`PRIOR_DRAWS`), for plots.

    Examples
    --------
    >>> hyp, post, prior = hypothesis_draws(fit, "cses = 0")  # doctest: +SKIP
    """
    design = fit.design
    hyp = parse_hypothesis(text, hypothesis_parameters(design))
    posterior = fit.idata["posterior"].to_dataset()
    d = hyp.evaluate(_draws(design, posterior, hyp.parameters))
    prior = _prior_draws(fit, random_seed)
    return hyp, d, hyp.evaluate(_draws(design, prior, hyp.parameters))


def hypothesis_label(hyp: Hypothesis) -> str:
    """The hypothesis as ``lhs - rhs <op> 0`` with the parameter names."""
    return _label(hyp)


def hypothesis(
    fit: Fit,
    hypotheses: str | Sequence[str],
    *,
    prob: float = DEFAULT_PROB,
    random_seed: int | None = 1,
) -> pd.DataFrame:
    """Test hypotheses about the parameters, as brms's ``hypothesis()`` (see the module notes).

    Parameters
    ----------
    fit : Fit
    hypotheses : str or list of str
        E.g. ``"cses:sector[T.Public] < 0"``, ``"meanses - sector[T.Public] = 0"``,
        ``"2 * cses > meanses"``, ``"sd|school[cses] < 1"``.
    prob : float
        HDI probability of the estimate, and the posterior probability a one-sided hypothesis
        needs for a star.
    random_seed : int, optional
        Seeds the prior draws a point hypothesis may need.

    Returns
    -------
    DataFrame
        One row per hypothesis (index ``hypothesis``, written as ``lhs - rhs <op> 0``):
        ``estimate`` (posterior mean of ``d``), ``sd``, HDI bounds, ``post_prob``,
        ``evid_ratio``, and for point hypotheses ``bf01`` (= ``evid_ratio``),
        ``prior_density`` and ``posterior_density`` of ``d`` at 0; ``star`` is ``"*"`` when
        the HDI excludes 0 (point hypotheses) or ``post_prob > prob`` (one-sided).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.hypothesis(["Days > 5", "Days = 0"])  # doctest: +SKIP
    """
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    if not isinstance(hypotheses, Sequence) or not all(isinstance(h, str) for h in hypotheses):
        raise SummaryError(
            "hypothesis() takes a hypothesis as text, e.g. 'x > 0', or a list of them; got "
            f"{hypotheses!r}."
        )
    if not hypotheses:
        raise SummaryError("hypothesis() needs at least one hypothesis, e.g. 'x > 0'.")
    lo, hi = hdi_columns(prob)
    design = fit.design
    names = hypothesis_parameters(design)
    posterior = fit.idata["posterior"].to_dataset()
    parsed = [parse_hypothesis(h, names) for h in hypotheses]
    prior: xr.Dataset | None = None
    rows = []
    for hyp in parsed:
        d = hyp.evaluate(_draws(design, posterior, hyp.parameters))
        hdi = _hdi(d, prob)
        row = {
            "hypothesis": _label(hyp),
            "estimate": float(np.mean(d)),
            "sd": float(np.std(d, ddof=1)),
            lo: hdi[0],
            hi: hdi[1],
        }
        if hyp.point:
            needs_draws = linear_normal_prior(hyp, design, fit.model.prior_values) is None
            if needs_draws and prior is None:
                prior = _prior_draws(fit, random_seed)
            prior_values = _draws(design, prior, hyp.parameters) if needs_draws else {}
            prior_density = _prior_density(hyp, fit, prior_values)
            bf, post_density = savage_dickey(d, prior_density, 0.0, support_edge(hyp, design))
            row.update(
                post_prob=bf / (1 + bf) if np.isfinite(bf) else np.nan,
                evid_ratio=bf,
                bf01=bf,
                prior_density=prior_density,
                posterior_density=post_density,
                star="" if hdi[0] <= 0 <= hdi[1] else "*",
            )
        else:
            below = hyp.operator in ("<", "<=")
            p = float(np.mean(d < 0) if below else np.mean(d > 0))
            row.update(
                post_prob=p,
                evid_ratio=p / (1 - p) if p < 1 else np.inf,
                bf01=np.nan,
                prior_density=np.nan,
                posterior_density=np.nan,
                star="*" if p > prob else "",
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("hypothesis")


def _hdi(values: np.ndarray, prob: float) -> tuple[float, float]:
    interval = az.hdi(xr.DataArray(values[None, :], dims=("chain", "draw")), prob=prob)
    return float(interval.sel(ci_bound="lower")), float(interval.sel(ci_bound="upper"))


def _label(hyp: Hypothesis) -> str:
    class _Names(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.Name(id=hyp.names[node.id], ctx=ast.Load())

    expression = _Names().visit(copy.deepcopy(hyp.expression))
    return f"{ast.unparse(expression)} {hyp.operator} 0"
