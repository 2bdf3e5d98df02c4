"""Predictive accuracy: PSIS-LOO, model comparison and exact grouped K-fold cross-validation.

PSIS-LOO (:func:`loo`) estimates how well the model predicts a left-out *observation* of a group
it keeps. "How well does it predict a new school?" is a different question: leave whole groups
out, refit, and score the held-out groups as new groups (:func:`kfold` with ``by="group"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import arviz_stats as az
import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.diagnostics import requested_chains
from hierbayes.errors import (
    ArgumentError,
    ConvergenceWarning,
    DataError,
    LooWarning,
    PriorError,
)
from hierbayes.loglik import pointwise_log_likelihood
from hierbayes.predict.density import log_predictive_density
from hierbayes.rebuild import Recipe
from hierbayes.validate import check_count, check_seed

if TYPE_CHECKING:
    from hierbayes.diagnostics import Problem
    from hierbayes.fit import Fit

__all__ = ["KFold", "compare", "kfold", "loo"]

_ARVIZ_PARETO = ".*shape parameter of Pareto distribution.*"


def _pareto_message(fit: Fit, bad: np.ndarray, threshold: float, name: str | None) -> str:
    where = []
    for block in fit.design.blocks:
        if block.factor in {w[0] for w in where}:
            continue
        counts = pd.Series(np.asarray(block.levels, dtype=object)[block.codes[bad]]).value_counts()
        shown = ", ".join(f"{label} ({n})" for label, n in counts.head(5).items())
        more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
        where.append((block.factor, f"{block.factor} {shown}{more}"))
    located = f" They are in {'; '.join(w[1] for w in where)}." if where else ""
    model = f" of model '{name}'" if name else ""
    return (
        f"PSIS-LOO is unreliable for {int(bad.sum())} of {bad.size} observations{model}: "
        f"leaving one of them out changes the posterior too much (Pareto k above "
        f"{threshold:.2f}) for importance sampling to estimate its effect.{located} Their "
        "pointwise values (and the total) may be off: refit without them, or use fit.kfold() "
        "for an exact answer."
    )


def _with_log_likelihood(fit: Fit) -> xr.DataTree:
    if "log_likelihood" in fit.idata.children:
        return fit.idata
    return pointwise_log_likelihood(fit.idata, fit.model.design)


def loo(fit: Fit, *, name: str | None = None) -> Any:
    """PSIS-LOO cross-validation of the observations (``arviz.loo``), with plain-word warnings.

    Uses the pointwise log-likelihood stored in ``fit.idata``, computing it first for a fit sampled
    with ``log_likelihood=False``. The result is cached on the fit: later calls (and
    :func:`compare`) return the same object without recomputing it. When some observations have a
    Pareto k above the reliability threshold (0.7, lower for few draws), warns with
    :class:`~hierbayes.errors.LooWarning`, saying how many observations and which groups they
    belong to.

    Parameters
    ----------
    fit : Fit
        A fitted model.
    name : str, optional
        Name of the model in the warning message (as in :func:`compare`).

    Returns
    -------
    arviz_stats.ELPDData
        ``elpd`` (expected log pointwise predictive density), ``se``, ``p`` (effective number of
        parameters), pointwise ``elpd_i`` and ``pareto_k``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.loo()  # doctest: +SKIP
    """
    cache = getattr(fit, "_cache", None)
    result = cache.get("loo") if cache is not None else None
    if result is None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_ARVIZ_PARETO, category=UserWarning)
            result = az.loo(_with_log_likelihood(fit), pointwise=True)
        if cache is not None:
            cache["loo"] = result
    pareto_k = np.asarray(result.pareto_k).ravel()
    threshold = float(result.good_k)
    bad = ~(pareto_k <= threshold)  # a NaN k (the importance ratios overflowed) is bad too
    if bad.any():
        warnings.warn(_pareto_message(fit, bad, threshold, name), LooWarning, stacklevel=2)
    return result


def compare(fits: Mapping[str, Fit | KFold], *, method: str = "stacking") -> pd.DataFrame:
    """Compare models by PSIS-LOO or by exact K-fold cross-validation, best model first.

    The first columns are what to read: ``elpd_diff``, the expected log predictive density
    (ELPD) of each model minus that of the best, and ``dse``, the standard error of that
    difference, computed pointwise (pairing the same observations, or the same held-out groups);
    as in ``arviz.compare``. A difference within about two ``dse`` of zero does not separate the
    models.

    The ``weight`` column (``method="stacking"``, the default) holds stacking weights (Yao et al.
    2018): the weights of the mixture of the models' predictive distributions that best predicts
    the left-out data. They are not probabilities that a model is the true one: of two models
    that predict alike, one may get all the weight; a model with a lower ELPD can still get
    weight when it predicts some observations better than the others do. The table's display
    ends with these notes.

    Parameters
    ----------
    fits : dict
        Model name -> :class:`~hierbayes.Fit` (compared by PSIS-LOO, :func:`loo`, cached on
        each fit) or model name -> :class:`KFold` (``fit.kfold(...)`` of each model, with the
        same ``by``; the same ``k`` and ``random_seed`` make the folds identical). A mix of fits
        and K-fold results is an error: LOO and K-fold ELPDs estimate different things.
    method : {"stacking", "BB-pseudo-BMA", "pseudo-BMA"}
        How the model weights are computed (K-fold results: stacking only).

    Returns
    -------
    DataFrame
        One row per model, best first: ``rank``, ``elpd_diff``, ``dse``, ``p_worse`` (normal
        approximation of the probability that the model predicts worse than the best), then
        LOO's diagnostics columns (``diag_diff``, ``diag_elpd``) and ``p`` (effective number of
        parameters), ``elpd``, ``se``, ``weight``; for K-fold, ``elpd``, ``se``, ``weight`` and
        ``k``. A :class:`~hierbayes.elpd_table.ComparisonTable`: a DataFrame with ``notes``.

    Examples
    --------
    >>> hb.compare({"varying slopes": fit1, "varying intercepts": fit2})  # doctest: +SKIP
    >>> c5, d5 = c.kfold(k=5, random_seed=1), d.kfold(k=5, random_seed=1)  # doctest: +SKIP
    >>> hb.compare({"c": c5, "d": d5})  # doctest: +SKIP
    """
    from hierbayes.compare_inputs import check_compare_inputs, check_method
    from hierbayes.elpd_table import check_kinds, compare_kfold, with_notes

    fits, method = check_compare_inputs(fits), check_method(method)
    if check_kinds(fits):
        if method.lower() != "stacking":
            raise ArgumentError(
                f"K-fold results are compared with stacking weights only, not method={method!r}."
            )
        return compare_kfold(fits)  # type: ignore[arg-type]
    names = list(fits)
    first = fits[names[0]].design
    for name in names[1:]:
        design = fits[name].design
        if design.n_obs != first.n_obs or not np.array_equal(design.y, first.y):
            raise DataError(
                f"Models '{names[0]}' and '{name}' were not fitted to the same observations "
                f"({first.n_obs} and {design.n_obs} rows, or different responses); LOO values "
                "are only comparable on the same data."
            )
    results = {name: loo(fit, name=name) for name, fit in fits.items()}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_ARVIZ_PARETO, category=UserWarning)
        table = az.compare(results, method=method, round_to="none")
    return with_notes(table, method=method)


@dataclass(frozen=True)
class KFold:
    """Result of K-fold cross-validation.

    Attributes
    ----------
    elpd : float
        Expected log predictive density of the held-out data: the sum of ``pointwise``.
    se : float
        Its standard error. With ``by`` a grouping factor, from the spread of the per-group sums
        (observations of one held-out group are not independent): ``sqrt(J var(elpd_g))``;
        with ``by="obs"``, ``sqrt(n var(elpd_i))``.
    pointwise : DataFrame
        One row per observation (index: the data's labels): ``fold``, ``group`` (the label it was
        held out with; the observation label with ``by="obs"``), ``elpd``.
    folds : DataFrame
        One row per fold: ``n_obs``, ``n_groups``, ``elpd``.
    by : str
        Grouping factor whose groups were held out together, or ``"obs"``.
    k : int
        Number of folds.
    """

    elpd: float
    se: float
    pointwise: pd.DataFrame
    folds: pd.DataFrame
    by: str
    k: int

    def __str__(self) -> str:
        unit = "observations" if self.by == "obs" else f"'{self.by}' groups"
        return (
            f"{self.k}-fold cross-validation holding out {unit}: elpd {self.elpd:.2f} "
            f"(SE {self.se:.2f}) over {len(self.pointwise)} observations."
        )

    def __repr__(self) -> str:
        folds = self.folds.to_string(float_format=lambda v: f"{v:.2f}")
        return f"<KFold> {self}\n" + "\n".join("  " + line for line in folds.splitlines())


def _fold_units(fit: Fit, by: str) -> tuple[str, np.ndarray]:
    design = fit.design
    factors = list(dict.fromkeys(block.factor for block in design.blocks))
    if by == "obs":
        return "obs", np.asarray([str(i) for i in fit.model.obs_index], dtype=object)
    if by == "group":
        if len(factors) != 1:
            raise ArgumentError(
                f"by='group' needs a model with one grouping factor; this one has {factors}. "
                "Pass the factor whose groups to hold out, e.g. by='" + (factors or ["g"])[0] + "'."
            )
        by = factors[0]
    block = next((b for b in design.blocks if b.factor == by), None)
    if block is None:
        raise ArgumentError(
            f"Unknown by={by!r}; choose 'group', 'obs' or a grouping factor of the model "
            f"({factors})."
        )
    return by, np.asarray(block.levels, dtype=object)[block.codes]


def _assign_folds(units: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    labels, inverse = np.unique(units.astype(str), return_inverse=True)
    if not isinstance(k, int | np.integer) or not 2 <= k <= len(labels):
        raise ArgumentError(
            f"k must be an integer between 2 and the number of units to hold out "
            f"({len(labels)}), got {k!r}."
        )
    fold_of_unit = np.empty(len(labels), dtype=np.int64)
    fold_of_unit[rng.permutation(len(labels))] = np.arange(len(labels)) % k
    return fold_of_unit[inverse]


def _sampler_settings(fit: Fit) -> dict[str, Any]:
    posterior = fit.idata["posterior"]
    draws = int(posterior.sizes["draw"])
    tune = posterior.attrs.get("tuning_steps", draws)
    # the chains the user asked for, not those an extension added (course_extend)
    return {"draws": draws, "tune": int(tune), "chains": requested_chains(posterior)}


def kfold(
    fit: Fit,
    k: int = 10,
    *,
    by: str = "group",
    random_seed: int | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    n_effect_draws: int = 20,
    client: Any = None,
    progressbar: bool = False,
) -> KFold:
    """Exact K-fold cross-validation: refit the model K times, each time without one fold.

    With ``by="group"`` (or the name of a grouping factor) whole groups are held out, so a fold
    never splits a group, and the held-out groups are scored as *new* groups: their effects are
    integrated over the refitted population distribution (exactly for gaussian models, by Monte
    Carlo otherwise; see :func:`hierbayes.predict.density.log_predictive_density`). This answers
    "how well does the model predict a new school?", which PSIS-LOO cannot. ``by="obs"`` holds
    out single observations at random.

    Each refit uses the same formula, family, level-2 predictors, priors (fixed to the full fit's
    values) and parameterisation, the same sampler, and by default the full fit's numbers of
    draws, tuning steps and chains.

    Parameters
    ----------
    fit : Fit
    k : int
        Number of folds (at most the number of groups).
    by : str
        ``"group"`` (the model's grouping factor), a grouping factor's name, or ``"obs"``.
    random_seed : int, optional
        Seeds the fold assignment, the refits and the Monte Carlo integration.
    draws, tune, chains : int, optional
        Override the sampler settings of the refits.
    n_effect_draws : int
        Monte Carlo draws of new groups' effects per posterior draw (non-gaussian families).
    client : dask.distributed.Client, optional
        Refit the folds on this client's workers (``pip install hierbayes[dask]``); the same
        ``random_seed`` gives the same result as refitting here.
    progressbar : bool
        Show a progress bar over folds (with ``client``).

    Returns
    -------
    KFold

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> cv = fit.kfold(k=10, by="group", random_seed=1)  # doctest: +SKIP
    >>> print(cv)  # doctest: +SKIP
    """
    design = fit.design
    k, random_seed = check_count("k", k, minimum=2), check_seed(random_seed)
    for name, value, least in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if value is not None:  # checked before any refit, not in each fold
            check_count(name, value, minimum=least)
    check_count("n_effect_draws", n_effect_draws)
    by, units = _fold_units(fit, by)
    seeds = np.random.SeedSequence(random_seed)
    fold_seed, *refit_seeds = seeds.spawn(k + 1)
    fold = _assign_folds(units, k, np.random.default_rng(fold_seed))
    settings = _sampler_settings(fit)
    for key, value in (("draws", draws), ("tune", tune), ("chains", chains)):
        if value is not None:
            settings[key] = value
    recipe = Recipe.of(fit.model)
    assert design.data is not None
    data = design.data.set_axis(fit.model.obs_index, axis=0)
    tasks = [
        FoldTask(
            recipe=recipe,
            train=data[fold != f],
            test=data[fold == f],
            fold=f,
            settings=settings,
            sampler=fit.sampler,
            seed=int(refit_seeds[f].generate_state(1)[0]),
            n_effect_draws=n_effect_draws,
        )
        for f in range(k)
    ]
    elpd = np.empty(design.n_obs)
    if client is None:
        results = [_fold_elpd(task) for task in tasks]
    else:
        from hierbayes.studies.executor import ReplicateFailure, run_replicates

        results = run_replicates(
            _fold_elpd, tasks, client=client, progressbar=progressbar, label="K-fold"
        )
        failed = [r for r in results if isinstance(r, ReplicateFailure)]
        if failed:
            raise DataError(
                "K-fold refits failed on the cluster: "
                + "; ".join(f"fold {r.index}: {r.error}: {r.message}" for r in failed)
            )
    troubled: dict[int, tuple[Problem, ...]] = {}  # convergence problems of each fold's refit
    for f, (scored, problems) in enumerate(results):
        elpd[fold == f] = scored
        if problems:
            troubled[f] = problems
    pointwise = pd.DataFrame({"fold": fold, "group": units, "elpd": elpd}, index=data.index)
    folds = pointwise.groupby("fold").agg(
        n_obs=("elpd", "size"), n_groups=("group", "nunique"), elpd=("elpd", "sum")
    )
    per_unit = pointwise.groupby("group", sort=False)["elpd"].sum().to_numpy()
    se = float(np.sqrt(len(per_unit) * np.var(per_unit, ddof=1)))
    if troubled:
        _warn_folds(troubled, k)
    return KFold(float(elpd.sum()), se, pointwise, folds, by, k)


@dataclass(frozen=True)
class FoldTask:
    """One K-fold refit: the model's recipe, its training and held-out rows, and a seed."""

    recipe: Recipe
    train: pd.DataFrame
    test: pd.DataFrame
    fold: int
    settings: dict[str, Any]
    sampler: str
    seed: int
    n_effect_draws: int


def _fold_elpd(task: FoldTask) -> tuple[np.ndarray, tuple[Problem, ...]]:
    """Refit without one fold and score it: the elpd of each held-out row, and the refit's
    convergence problems (empty when it converged)."""
    fold_fit = _refit(task.recipe, task.train, task.fold, task.settings, task.sampler, task.seed)
    scored = log_predictive_density(
        fold_fit, task.test, n_effect_draws=task.n_effect_draws, random_seed=task.seed
    )
    return scored.to_numpy(), fold_fit.diagnostics.problems


def _refit(
    recipe: Recipe, train: pd.DataFrame, fold: int, settings: dict, sampler: str, seed: int
) -> Fit:
    try:
        model = recipe.build(train, all_priors=True)
    except (PriorError, DataError) as err:
        raise DataError(
            f"Fold {fold} cannot be refitted without its held-out rows: {err} Use fewer folds or "
            "hold out other units."
        ) from err
    from hierbayes.studies.executor import fit_cores  # on a cluster worker: its share of cores

    settings = {"cores": fit_cores(None), **settings}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fold_fit = model.fit(sampler=sampler, random_seed=seed, progressbar=False, **settings)
    for warning in caught:
        if not issubclass(warning.category, ConvergenceWarning):  # summarised by kfold()
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return fold_fit


def _warn_folds(troubled: Mapping[int, Sequence[Problem]], k: int) -> None:
    """One :class:`~hierbayes.errors.ConvergenceWarning` for all refits with problems (by fold)."""
    from hierbayes.diagnostics import problem_table, warn_convergence

    rows = [
        (str(f), p.parameter, p.problem, p.value, p.advice)
        for f, problems in troubled.items()
        for p in problems
    ]
    folds = ", ".join(str(f) for f in troubled)
    warn_convergence(
        f"The refits of {len(troubled)} of {k} folds ({folds}) have convergence problems; their "
        "held-out scores, and so the elpd, are imprecise. Raise draws= and tune= of kfold().\n"
        + problem_table(rows, ("fold", "parameter", "problem", "value", "what to try"))
    )
