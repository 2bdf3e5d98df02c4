"""Simulation-based calibration (Talts et al. 2018; Modrák et al. 2023) on a model's own design.

For each replicate: draw every parameter from the model's priors and the response for the
model's predictors and groups given them (:meth:`hierbayes.Model.prior_predictive`), fit the
same model (same formula, priors fixed to the original model's values, same parameterisation
and sampler) to the simulated response, and rank each population-level parameter's true value
among the posterior draws. If the sampler, the log-density and the priors agree, each rank is
uniform; :class:`~hierbayes.studies.calibration.SBC` tests that and plots it.

Ranks are taken among draws thinned so that they are close to independent: each chain is
thinned by ``ceil(total draws / smallest bulk ESS)`` of the replicate's ranked parameters
(autocorrelated draws give ranks that are too often extreme). A rank ``r`` among ``L`` thinned
draws becomes the randomised PIT ``(r + U) / (L + 1)`` with ``U ~ Uniform(0, 1)``, exactly
uniform under calibration whatever ``L`` is, so replicates with different thinning pool.

A replicate draws its parameters and data where it runs (here, or on a dask worker) from its
own seed: the client sends the model's recipe, its data and the seeds, and gathers tables.
Refits that did not converge (divergences, or an R-hat above ``rhat_max``) keep their ranks
in the result but are left out of the uniformity test and the plot, and are listed.
"""

from __future__ import annotations

import math
import uuid
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from arviz_stats.base import array_stats

from hierbayes.errors import ArgumentError, ModelSpecError, RowsNotKeptError
from hierbayes.predict.prior import _response_draws, prior_draws
from hierbayes.rebuild import Recipe
from hierbayes.studies.arguments import check_study_arguments
from hierbayes.studies.calibration import SBC
from hierbayes.studies.executor import ReplicateFailure, fit_cores, run_replicates
from hierbayes.studies.parameters import population_values
from hierbayes.studies.refit import study_refit
from hierbayes.studies.same_design import same_design_model

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["rank_draws", "sbc"]


#: a replicate whose refit has divergences or a population parameter's R-hat above this did not
#: converge (see :func:`sbc`)
RHAT_MAX = 1.1


@dataclass(frozen=True)
class SBCTask:
    """What a worker needs to run one SBC replicate (no fitted model travels): the model's
    recipe and data, and the replicate's seeds; the worker draws the parameters and the
    response itself."""

    index: int
    study: str
    recipe: Recipe
    data: pd.DataFrame
    response: str
    settings: dict[str, Any]
    prior_seed: np.random.SeedSequence
    seed: int


#: the model of the study a process last ran a replicate of (study token -> model): the study's
#: token stands for its recipe and data, so each process builds the design once per study
_MODELS: dict[str, Model] = {}


def _study_model(task: SBCTask) -> Model:
    """The checked model, built once per process and study from its recipe: replicates draw
    their data from it and refit it with their response (:mod:`hierbayes.studies.same_design`)."""
    model = _MODELS.get(task.study)
    if model is None:
        model = task.recipe.build(task.data, all_priors=True)
        _MODELS.clear()
        _MODELS[task.study] = model
    return model


def simulate_replicate(
    model: Model, response: str, prior_seed: np.random.SeedSequence
) -> tuple[dict[str, float], pd.DataFrame]:
    """One replicate's true values (drawn from the priors) and data (the model's data with the
    response drawn given them)."""
    # what model.prior_predictive(1, random_seed=rng) draws, without labelling the response
    rng = np.random.default_rng(prior_seed)
    prior = prior_draws(model.design, model.prior_values, 1, rng)
    simulated = _response_draws(model.design, prior, rng)[0]
    values = {name: prior[name].to_numpy()[0, 0] for name in prior.data_vars}
    truth = population_values(model.design, values)
    assert model.design.data is not None
    data = model.design.data.copy()
    if model.design.family.cutpoints:  # category numbers 1..K: every category is kept
        original = data[response]
        dtype = (
            original.dtype
            if isinstance(original.dtype, pd.CategoricalDtype)
            else pd.CategoricalDtype(np.sort(original.unique()), ordered=True)
        )
        simulated = pd.Categorical.from_codes(simulated.astype(int) - 1, dtype=dtype)
    data[response] = simulated
    return truth, data


def rank_draws(
    draws: dict[str, np.ndarray],
    truth: dict[str, float],
    rng: np.random.Generator,
    ess_bulk: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Rank each true value among thinned posterior draws.

    Parameters
    ----------
    draws : dict
        Label -> posterior draws (chain, draw).
    truth : dict
        Label -> true value.
    rng : Generator
        Draws the PIT's randomisation.
    ess_bulk : dict, optional
        Label -> bulk ESS of ``draws`` when already computed (:class:`~.refit.Refit`); the
        same numbers are computed here otherwise (each parameter's ESS is its own).

    Returns
    -------
    DataFrame
        One row per parameter: ``parameter``, ``true``, ``rank`` (thinned draws below the true
        value), ``n_ranked`` (thinned draws), ``pit``, ``mean`` and ``sd`` (of all draws),
        ``thin``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = rank_draws({"a": rng.normal(size=(2, 200))}, {"a": 10.0}, rng)
    >>> int(t["rank"].iloc[0]) == int(t["n_ranked"].iloc[0])
    True
    """
    stacked = np.stack([draws[label] for label in truth])  # (parameter, chain, draw)
    chains, n_draws = stacked.shape[1:]
    if ess_bulk is not None and all(label in ess_bulk for label in truth):
        ess = np.array([ess_bulk[label] for label in truth])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ess = np.asarray(array_stats.ess(stacked, chain_axis=-2, draw_axis=-1, method="bulk"))
    finite = ess[np.isfinite(ess) & (ess > 0)]
    min_ess = float(finite.min()) if finite.size else 1.0
    thin = max(1, math.ceil(chains * n_draws / min_ess))
    kept = stacked[:, :, ::thin].reshape(len(truth), -1)
    true = np.array(list(truth.values()))
    rank = (kept < true[:, None]).sum(axis=1)
    n_ranked = kept.shape[1]
    pit = (rank + rng.uniform(size=len(true))) / (n_ranked + 1)
    flat = stacked.reshape(len(truth), -1)
    return pd.DataFrame(
        {
            "parameter": list(truth),
            "true": true,
            "rank": rank,
            "n_ranked": n_ranked,
            "pit": pit,
            "mean": flat.mean(axis=1),
            "sd": flat.std(axis=1, ddof=1),
            "thin": thin,
        }
    )


def sbc_replicate(task: SBCTask) -> pd.DataFrame:
    """Draw one replicate's parameters and data, refit and rank the true values (runs on a
    worker)."""
    base = _study_model(task)
    truth, data = simulate_replicate(base, task.response, task.prior_seed)
    model = same_design_model(base, task.recipe, data)  # the design is built once per process
    settings = dict(task.settings)
    settings["cores"] = fit_cores(settings["cores"])
    refit = study_refit(model, random_seed=task.seed, **settings)
    rng = np.random.default_rng(task.seed)
    table = rank_draws(refit.draws, truth, rng, refit.ess_bulk)
    table.insert(0, "replicate", task.index)
    table["divergences"] = refit.divergences
    table["max_rhat"] = refit.max_rhat
    table["min_ess_bulk"] = refit.min_ess_bulk
    table["warning"] = refit.warning
    return table


def _response_column(model: Model) -> str:
    from hierbayes.model import Model

    if not isinstance(model, Model):
        raise ArgumentError(f"sbc() takes a hierbayes.Model, got {type(model).__name__}.")
    response = model.spec.fixed.response
    data = model.design.data
    if data is None:
        raise RowsNotKeptError(
            "SBC refits the model to responses simulated on its own rows, which a model fitted "
            "from Dask data does not keep: run it on a sample that fits in memory, e.g. "
            "hb.Model(formula, data=ddf.sample(frac=0.01, random_state=1).compute())."
        )
    if data is None or response not in data.columns:
        raise ModelSpecError(
            f"SBC replaces the response column with simulated values, but the response "
            f"'{response}' is not a column of the data. Compute it as a column first "
            "(e.g. data['log_y'] = np.log(data['y'])) and use that name in the formula."
        )
    return response


def sbc(
    model: Model,
    n: int = 200,
    random_seed: int | None = 1,
    client: Any = None,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    cores: int | None = None,
    sampler: str = "nutpie",
    target_accept: float = 0.8,
    rhat_max: float = RHAT_MAX,
    progressbar: bool = True,
) -> SBC:
    """Simulation-based calibration of ``model`` on its own design.

    Each of ``n`` replicates draws the parameters from the model's priors and the response
    given them (predictors, groups and trials as in the model's data), fits the model to the
    simulated response and ranks each population-level parameter's true value (fixed effects,
    group SDs, correlations, sigma) among the posterior draws. Uniform ranks mean the posterior
    is calibrated: the sampler, the log-density and the priors agree.

    Parameters
    ----------
    model : Model
        The model to check; its priors (defaults included) are fixed to their values.
    n : int
        Number of replicates.
    random_seed : int, optional
        One child of ``numpy.random.SeedSequence(random_seed)`` per replicate seeds its prior
        draw (:meth:`hierbayes.Model.prior_predictive`) and its refit: the same seed gives the
        same table serially and on any cluster, and replicate ``i`` does not depend on ``n``.
    client : dask.distributed.Client, optional
        Fit the replicates on this client's workers (``pip install hierbayes[dask]``); ``None``
        fits them here, one after another.
    draws, tune, chains, cores, sampler, target_accept
        Sampler settings of each refit. ``cores=None``: here, each refit runs its chains in
        parallel as a fit does; on a cluster, each worker's refits share its machine's cores
        with the other workers on it (two single-threaded workers on two cores: one core
        each).
    rhat_max : float
        A refit with divergences, or with a population parameter's R-hat above ``rhat_max``,
        did not converge: its ranks are kept in ``result.ranks`` but left out of the
        uniformity test and the plot, and the replicate is listed in ``result.nonconverged``
        and warned about. Ranks are only valid for converged fits; leaving replicates out by
        their data (not their true values) keeps the others' ranks uniform (the SBC R package
        of Modrák et al.). Short refits need a loose limit: with 2 chains of 150 draws,
        refits of calibrated models had a largest R-hat of 1.04 in the median and up to
        1.16, while stuck chains gave 1.3 to 2.3.
    progressbar : bool
        Show a progress bar over replicates.

    Returns
    -------
    SBC
        Ranks per replicate and parameter, a uniformity test per parameter, failed and
        non-converged replicates, and ``plot()``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> result = hb.sbc(m, n=100, random_seed=1)  # doctest: +SKIP
    >>> result.test()  # doctest: +SKIP
    >>> result.plot()  # doctest: +SKIP
    """
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": cores,
        "sampler": sampler,
        "target_accept": target_accept,
    }
    n = check_study_arguments(n, random_seed, settings, rhat_max=rhat_max)
    response = _response_column(model)
    recipe = Recipe.of(model)
    assert model.design.data is not None
    base = model.design.data
    study = uuid.uuid4().hex
    tasks = []
    for i, child in enumerate(np.random.SeedSequence(random_seed).spawn(n)):
        prior_seed, fit_seed = child.spawn(2)
        seed = int(fit_seed.generate_state(1, dtype=np.uint32)[0])
        tasks.append(SBCTask(i, study, recipe, base, response, settings, prior_seed, seed))
    results = run_replicates(
        sbc_replicate, tasks, client=client, progressbar=progressbar, label="SBC"
    )
    tables = [r for r in results if not isinstance(r, ReplicateFailure)]
    failures = [r for r in results if isinstance(r, ReplicateFailure)]
    if failures:
        warnings.warn(
            f"{len(failures)} of {n} SBC replicates failed ({failures[0]}); see "
            "result.failures. The ranks of the others are kept, but failures that depend on "
            "the simulated values bias the check.",
            RuntimeWarning,
            stacklevel=2,
        )
    ranks = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    truths = _truths(model, response, tasks, ranks)
    result = SBC(
        ranks=ranks,
        failures=failures,
        n=n,
        model=repr(model),
        truths=truths,
        rhat_max=rhat_max,
    )
    unconverged = result.nonconverged
    if len(unconverged):
        shown = ", ".join(str(i) for i in unconverged["replicate"][:10])
        more = ", ..." if len(unconverged) > 10 else ""
        warnings.warn(
            f"{len(unconverged)} of {n} SBC refits did not converge (divergences, or R-hat "
            f"above {rhat_max}): replicates {shown}{more}. Their ranks are left out of "
            "result.test() and result.plot() (see result.nonconverged): leaving out data "
            "sets by what they look like keeps the others' ranks uniform, but the sampler "
            "fails on such data. Check the priors for absurd simulated data "
            "(m.prior_predictive()), or try another parameterization.",
            RuntimeWarning,
            stacklevel=2,
        )
    return result


def _truths(model: Model, response: str, tasks: list[SBCTask], ranks: pd.DataFrame) -> pd.DataFrame:
    """The true values, one row per replicate: from the ranks, and drawn again here for the
    replicates that failed."""
    done = {}
    if len(ranks):
        wide = ranks.pivot(index="replicate", columns="parameter", values="true")
        order = list(dict.fromkeys(ranks["parameter"]))
        done = {int(i): row[order].to_dict() for i, row in wide.iterrows()}
    rows = [
        done[t.index] if t.index in done else simulate_replicate(model, response, t.prior_seed)[0]
        for t in tasks
    ]
    return pd.DataFrame(rows)
