"""The refit of one simulation-study replicate: posterior draws of the population-level
parameters and the convergence numbers a study reports, nothing else.

A study (SBC, power) refits a model hundreds of times and keeps a few numbers per refit: the
draws of its population-level parameters, the divergences, the largest R-hat and the smallest
bulk ESS. :meth:`hierbayes.Model.fit` does more, for a user who looks at one fit: it draws the
group effects a marginal model integrates out, stores the observed data, and checks R-hat and
ESS parameter by parameter with labelled messages; on a small model that costs as much CPU
time as the sampling itself. :func:`study_refit` samples the same posterior with the same
seed (so the draws are those of ``model.fit``) and computes R-hat and bulk ESS of the ranked
parameters in one vectorised call. Models the compiled log-density does not evaluate, and the
other samplers, go through ``model.fit``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr
from arviz_stats.base import array_stats

from hierbayes.blas import one_blas_thread
from hierbayes.build.settings import default_target_accept
from hierbayes.course import sample_on_course
from hierbayes.diagnostics import ESS_PER_CHAIN_MIN, requested_chains
from hierbayes.diagnostics import RHAT_MAX as FIT_RHAT_MAX
from hierbayes.errors import ConvergenceWarning
from hierbayes.inference import sample_compiled
from hierbayes.laplace_fit import checked_laplace
from hierbayes.studies.parameters import population_draws

if TYPE_CHECKING:
    from hierbayes.model import Model

__all__ = ["Refit", "convergence", "study_refit"]


@dataclass(frozen=True)
class Refit:
    """What a study keeps of one refit.

    Attributes
    ----------
    draws : dict
        Label (``b[x]``, ``sd|g[Intercept]``, ``sigma``, ...) -> draws, shape (chain, draw).
    divergences : int
        Divergent transitions after tuning.
    max_rhat, min_ess_bulk : float
        Largest rank-normalised R-hat and smallest bulk ESS among ``draws``.
    warning : str
        The convergence problems in a few words (``""`` when there are none), judged as
        :meth:`hierbayes.Model.fit` judges them: R-hat above 1.01, bulk ESS below 100 per
        chain, divergences.
    ess_bulk : dict
        Label -> bulk ESS of its draws (what SBC thins the draws by).
    """

    draws: dict[str, np.ndarray]
    divergences: int
    max_rhat: float
    min_ess_bulk: float
    warning: str
    ess_bulk: dict[str, float] = field(default_factory=dict)


def convergence(draws: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rank-normalised R-hat and bulk ESS of each labelled (chain, draw) array, in one call.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rhat, ess = convergence({"a": rng.normal(size=(2, 500)), "b": rng.normal(size=(2, 500))})
    >>> bool((abs(rhat - 1) < 0.01).all() and (ess > 700).all())
    True
    """
    stacked = np.stack(list(draws.values()))  # (parameter, chain, draw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = np.asarray(array_stats.rhat(stacked, chain_axis=-2, draw_axis=-1))
        ess = np.asarray(array_stats.ess(stacked, chain_axis=-2, draw_axis=-1, method="bulk"))
    return rhat, ess


def _warning(
    labels: list[str], rhat: np.ndarray, ess: np.ndarray, divergences: int, ess_min: float
) -> str:
    problems = []
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    high = [f"{label} {r:.3f}" for label, r in zip(labels, rhat, strict=True) if r > FIT_RHAT_MAX]
    if high:
        problems.append(f"R-hat > {FIT_RHAT_MAX}: " + ", ".join(high))
    low = [f"{label} {e:.0f}" for label, e in zip(labels, ess, strict=True) if e < ess_min]
    if low:
        problems.append(f"bulk ESS < {ess_min:.0f}: " + ", ".join(low))
    return "; ".join(problems)


@one_blas_thread
def study_refit(
    model: Model,
    *,
    random_seed: int,
    draws: int,
    tune: int,
    chains: int,
    cores: int | None = None,
    sampler: str = "nutpie",
    target_accept: float | None = None,
) -> Refit:
    """Sample ``model``'s posterior as ``model.fit`` does (same seed, same draws) and keep the
    population-level draws and the convergence numbers.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> refit = study_refit(m, random_seed=1, draws=100, tune=100, chains=2)  # doctest: +SKIP
    >>> sorted(refit.draws)  # doctest: +SKIP
    ['b[Days]', 'b[Intercept]', 'sd|Subject[Intercept]', 'sigma']
    """
    density = model.compiled_density() if sampler == "nutpie" else None
    if density is None:
        return _through_fit(model, random_seed, draws, tune, chains, cores, sampler, target_accept)
    raise_target = target_accept is None  # as model.fit: a default run that diverged runs again
    if target_accept is None:
        target_accept = default_target_accept(model.design, model.parameterization)
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": cores,
        "random_seed": random_seed,
        "target_accept": target_accept,
        "progressbar": False,
    }
    # as model.fit: a failed default run changes course, a failed Laplace check samples the effects
    idata, fitted = sample_on_course(model, density, raise_target, settings)
    idata, fitted = checked_laplace(
        fitted, idata, lambda d: sample_compiled(d, raise_target=raise_target, **settings)
    )
    posterior = idata["posterior"].to_dataset()
    divergences = int(idata["sample_stats"]["diverging"].sum())
    return _refit(population_draws(model.design, posterior), divergences, posterior)


def _refit(
    draws: dict[str, np.ndarray], divergences: int, posterior: xr.Dataset | None = None
) -> Refit:
    rhat, ess = convergence(draws)
    # 100 ESS a chain asked for, not a chain added (hierbayes.course_extend)
    chains = (
        next(iter(draws.values())).shape[0] if posterior is None else requested_chains(posterior)
    )
    note = _warning(list(draws), rhat, ess, divergences, ESS_PER_CHAIN_MIN * chains)
    return Refit(
        draws=draws,
        divergences=divergences,
        max_rhat=float(np.nanmax(rhat)),
        min_ess_bulk=float(np.nanmin(ess)),
        warning=note,
        ess_bulk=dict(zip(draws, ess.tolist(), strict=True)),
    )


def _through_fit(
    model: Model,
    random_seed: int,
    draws: int,
    tune: int,
    chains: int,
    cores: int | None,
    sampler: str,
    target_accept: float | None,
) -> Refit:
    settings: dict[str, Any] = {"draws": draws, "tune": tune, "chains": chains, "cores": cores}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = model.fit(
            sampler=sampler,
            random_seed=random_seed,
            log_likelihood=False,
            target_accept=target_accept,
            **settings,
        )
    posterior = fit.idata["posterior"].to_dataset()
    divergences = fit.diagnostics.divergences
    return _refit(population_draws(model.design, posterior), divergences, posterior)
