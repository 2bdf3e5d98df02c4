"""Simulation-based power and precision for a planned multilevel design (as R's simr for lme4).

For each candidate size (number of groups x observations per group) and each of ``n``
replicates: simulate a data set from the assumed parameter values
(:class:`~hierbayes.studies.planned.PlannedDesign`), fit the model with its priors, and record
whether the target effect's central ``prob`` interval excludes ``null``, the interval's width,
and whether it covers the assumed value. Power is the share of replicates whose interval
excludes ``null``; its Monte Carlo SE is ``sqrt(p (1 - p) / n)``. Every family takes part: its
own parameters' assumed values (``params=``) and its link (``link=``). A replicate whose fit did
not converge (divergences, or an R-hat above ``rhat_max``) is kept in the table, counted per
size (``nonconverged``), listed in :attr:`Power.nonconverged` and warned about, as
:func:`hierbayes.sbc` reports its own.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.errors import ConvergenceWarning, ModelSpecError
from hierbayes.priors import Prior
from hierbayes.studies.arguments import check_prob, check_sizes, check_study_arguments
from hierbayes.studies.executor import (
    ReplicateFailure,
    fit_cores,
    replicate_seeds,
    run_replicates,
)
from hierbayes.studies.planned import PlannedDesign
from hierbayes.studies.refit import study_refit

__all__ = ["Power", "power"]


@dataclass(frozen=True)
class PowerTask:
    """One replicate: the plan, its size, the target, priors, sampler settings and a seed."""

    index: int
    plan: PlannedDesign
    n_groups: int
    n_per_group: int
    target: str
    null: float
    prob: float
    priors: dict[str, Prior]
    settings: dict[str, Any]
    seed: int


def power_replicate(task: PowerTask) -> dict[str, Any]:
    """Simulate one data set, fit it, and summarise the target's interval (runs on a worker)."""
    from hierbayes.model import Model

    rng = np.random.default_rng(task.seed)
    plan = task.plan
    data = plan.simulate(task.n_groups, task.n_per_group, rng)
    model = Model(
        plan.formula,
        data,
        level2={plan.factor: list(plan.level2)} if plan.level2 else None,
        family=plan.family,
        link=plan.link,
        priors=task.priors,
        trials="trials" if plan.trials is not None else None,
    )
    settings = dict(task.settings)
    settings["cores"] = fit_cores(settings["cores"])
    refit = study_refit(model, random_seed=task.seed, **settings)
    draws = refit.draws[f"b[{task.target}]"].ravel()
    tail = (1 - task.prob) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail])
    truth = float(plan.fixed[task.target])
    return {
        "replicate": task.index,
        "n_groups": task.n_groups,
        "n_per_group": task.n_per_group,
        "mean": float(draws.mean()),
        "lower": float(lower),
        "upper": float(upper),
        "width": float(upper - lower),
        "excludes_null": bool(lower > task.null or upper < task.null),
        "covers_truth": bool(lower <= truth <= upper),
        "divergences": refit.divergences,
        "max_rhat": refit.max_rhat,
        "min_ess_bulk": refit.min_ess_bulk,
        "warning": refit.warning,
    }


def _se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n)) if n else np.nan


@dataclass(frozen=True)
class Power:
    """Result of :func:`hierbayes.power`.

    Attributes
    ----------
    replicates : DataFrame
        One row per successful replicate: size, the target's posterior ``mean``, interval
        ``lower``/``upper``/``width``, ``excludes_null``, ``covers_truth``, the fit's
        ``divergences``, largest population-level ``max_rhat``, smallest ``min_ess_bulk`` and
        first convergence ``warning``.
    failures : list of ReplicateFailure
        Replicates that raised (their ``index`` counts replicates over all sizes).
    target : str
    prob : float
    null : float
    truth : float
        The assumed value of the target.
    rhat_max : float
        Fits with divergences or an R-hat above this did not converge (:attr:`nonconverged`).
    """

    replicates: pd.DataFrame
    failures: list[ReplicateFailure] = field(default_factory=list)
    target: str = ""
    prob: float = 0.95
    null: float = 0.0
    truth: float = 0.0
    failed_sizes: tuple[tuple[int, int], ...] = ()
    sizes: tuple[tuple[int, int], ...] = ()
    rhat_max: float = 1.1

    def _unconverged(self) -> pd.Series:
        """Per replicate: whether its fit did not converge."""
        done = self.replicates
        if not len(done) or "divergences" not in done:
            return pd.Series(False, index=done.index, dtype=bool)
        return (done["divergences"] > 0) | (done["max_rhat"] > self.rhat_max)

    @property
    def nonconverged(self) -> pd.DataFrame:
        """Replicates whose fit did not converge: ``replicate``, ``n_groups``,
        ``n_per_group``, ``divergences``, ``max_rhat``, ``min_ess_bulk``, ``warning``.

        Examples
        --------
        >>> done = pd.DataFrame({"replicate": [0, 1], "n_groups": 5, "n_per_group": 4,
        ...     "divergences": [0, 2], "max_rhat": [1.0, 1.01], "min_ess_bulk": [300.0, 90.0],
        ...     "warning": ""})
        >>> Power(done).nonconverged["replicate"].tolist()
        [1]
        """
        columns = [
            "replicate",
            "n_groups",
            "n_per_group",
            "divergences",
            "max_rhat",
            "min_ess_bulk",
            "warning",
        ]
        bad = self._unconverged()
        if not bad.any():
            return pd.DataFrame(columns=columns)
        return self.replicates.loc[bad, columns].reset_index(drop=True)

    def table(self) -> pd.DataFrame:
        """Per size: ``n_obs``, ``replicates``, ``power`` and ``power_se``, mean interval
        ``width`` and ``width_se``, ``coverage`` (of the assumed value) and ``coverage_se``,
        ``bias`` of the posterior mean, ``failed`` replicates and ``nonconverged`` ones (kept
        in the other columns; see :attr:`nonconverged`)."""
        rows = []
        done = self.replicates
        unconverged = self._unconverged()
        sizes = sorted(set(self.sizes) | set(self.failed_sizes))
        if len(done):
            sizes = sorted(
                set(sizes) | set(zip(done["n_groups"], done["n_per_group"], strict=True))
            )
        for j, m in sizes:
            part = done[(done["n_groups"] == j) & (done["n_per_group"] == m)] if len(done) else done
            n = len(part)
            p = float(part["excludes_null"].mean()) if n else np.nan
            c = float(part["covers_truth"].mean()) if n else np.nan
            rows.append(
                {
                    "n_groups": j,
                    "n_per_group": m,
                    "n_obs": j * m,
                    "replicates": n,
                    "power": p,
                    "power_se": _se(p, n),
                    "width": float(part["width"].mean()) if n else np.nan,
                    "width_se": float(part["width"].std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
                    "coverage": c,
                    "coverage_se": _se(c, n),
                    "bias": float(part["mean"].mean() - self.truth) if n else np.nan,
                    "failed": sum(1 for f in self.failed_sizes if f == (j, m)),
                    "nonconverged": int(unconverged[part.index].sum()) if n else 0,
                }
            )
        return pd.DataFrame(rows).set_index(["n_groups", "n_per_group"])

    def plot(self, **kwargs: Any) -> tuple[Any, Any]:
        """Power curve and interval width against the number of groups, one line per group
        size; see :func:`hierbayes.plots.power.plot_power`."""
        from hierbayes.plots.power import plot_power

        return plot_power(self.table(), target=self.target, prob=self.prob, **kwargs)

    def __str__(self) -> str:
        return (
            f"Power for {self.target} (assumed {self.truth:g}): share of {self.prob:.0%} "
            f"intervals that exclude {self.null:g}, {len(self.replicates)} replicates, "
            f"{len(self.failures)} failed, {len(self.nonconverged)} did not converge.\n"
            + self.table().to_string()
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p>Power for <code>{self.target}</code> (assumed {self.truth:g}): share of "
            f"{self.prob:.0%} intervals that exclude {self.null:g}; {len(self.failures)} "
            f"replicates failed, {len(self.nonconverged)} did not converge.</p>"
        )
        return head + self.table()._repr_html_()


def power(
    formula: str,
    *,
    fixed: Mapping[str, float],
    sd: Mapping[str, Any],
    target: str,
    cor: Mapping[str, Any] | None = None,
    sigma: float | None = None,
    n_groups: Sequence[int] = (20, 40, 80),
    n_per_group: Sequence[int] = (5, 10, 20),
    level1: Mapping[str, Any] | None = None,
    level2: Mapping[str, Any] | None = None,
    family: str = "gaussian",
    trials: int | None = None,
    params: Mapping[str, Any] | None = None,
    link: str | None = None,
    priors: Mapping[str, Prior] | None = None,
    prob: float = 0.95,
    null: float = 0.0,
    n: int = 100,
    random_seed: int | None = 1,
    client: Any = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    cores: int | None = None,
    sampler: str = "nutpie",
    progressbar: bool = True,
    rhat_max: float = 1.1,
) -> Power:
    """Simulation-based power and precision of a planned two-level design.

    Parameters
    ----------
    formula : str
        The model to fit, with one grouping factor: ``"y ~ x * w + (1 + x | g)"``.
    fixed : dict
        Assumed fixed effects by design column, ``{"Intercept": 0, "x": 0.3, "w": 0.2,
        "x:w": 0.2}`` (categorical columns as the model names them, ``"sector[T.Public]"``).
    sd : dict
        Assumed SD of each group term's coefficients: ``{"g": [0.5, 0.2]}`` or
        ``{"g": {"Intercept": 0.5, "x": 0.2}}``.
    target : str
        The fixed effect whose interval is checked (a key of ``fixed``).
    cor : dict, optional
        Correlation of a term's two coefficients (``{"g": 0.3}``) or its correlation matrix.
    sigma : float, optional
        Residual SD (gaussian, student_t, lognormal).
    n_groups, n_per_group : list of int
        Candidate sizes; every combination is simulated.
    level1, level2 : dict
        Distribution of each level-1 (per row) and level-2 (per group) predictor: a frozen
        ``scipy.stats`` distribution, a list of category labels (equal shares, random order),
        or ``f(rng, size)``.
    family : str
    trials : int, optional
        Binomial trials per observation.
    params : dict, optional
        Assumed values of the family's other own parameters, each one it has:
        ``{"nu": 4}`` (student_t), ``{"shape": 2}`` (negativebinomial, gamma),
        ``{"phi": 10}`` (beta), ``{"zi": 0.2}`` (zero-inflated; with ``"shape"`` for the
        negative binomial), ``{"cutpoints": [-1, 0, 1]}`` (cumulative). A missing one is a
        :class:`~hierbayes.errors.ModelSpecError` naming it.
    link : str, optional
        The family's link (``None``: its default), e.g. ``"probit"``.
    priors : dict, optional
        Prior overrides of the fitted model (defaults: the data-scaled ones).
    prob : float
        Probability of the central interval.
    null : float
        The value the interval must exclude.
    n : int
        Replicates per size.
    random_seed : int, optional
        One child seed per replicate via ``numpy.random.SeedSequence.spawn``: the same seed
        gives the same table serially and on any cluster.
    client : dask.distributed.Client, optional
        Fit the replicates on this client's workers; ``None`` fits them here.
    draws, tune, chains, cores, sampler
        Sampler settings of each fit (``cores=None``: chains in parallel here; on a cluster,
        each worker's share of its machine).
    progressbar : bool
    rhat_max : float
        A replicate's fit with divergences or an R-hat above this did not converge: kept,
        counted per size, listed in ``result.nonconverged`` and warned about.

    Returns
    -------
    Power
        ``table()`` per size (power with its Monte Carlo SE, interval width, coverage),
        ``replicates``, ``failures`` and ``plot()``.

    Examples
    --------
    >>> from scipy import stats
    >>> import hierbayes as hb
    >>> result = hb.power(  # doctest: +SKIP
    ...     "y ~ x * w + (1 + x | school)", target="x:w",
    ...     fixed={"Intercept": 0, "x": 0.3, "w": 0.2, "x:w": 0.15},
    ...     sd={"school": [0.5, 0.1]}, cor={"school": 0.2}, sigma=1.0,
    ...     level1={"x": stats.norm()}, level2={"w": [0, 1]},
    ...     n_groups=[20, 40, 80], n_per_group=[10, 20], n=100)
    >>> result.table()  # doctest: +SKIP
    >>> result.plot()  # doctest: +SKIP
    """
    plan = PlannedDesign(
        formula=formula,
        fixed={str(k): float(v) for k, v in fixed.items()},
        sd=dict(sd),
        cor=dict(cor or {}),
        sigma=sigma,
        level1=dict(level1 or {}),
        level2=dict(level2 or {}),
        family=family,
        trials=trials,
        params=dict(params or {}),
        link=link,
    )
    if target not in plan.fixed:
        raise ModelSpecError(
            f"target '{target}' is not one of the fixed effects given in fixed=: "
            f"{list(plan.fixed)}."
        )
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": cores,
        "sampler": sampler,
    }
    n = check_study_arguments(n, random_seed, settings, rhat_max=rhat_max)
    prob = check_prob(prob)
    groups, per_group = check_sizes("n_groups", n_groups), check_sizes("n_per_group", n_per_group)
    sizes = list(itertools.product(sorted(set(groups)), sorted(set(per_group))))
    # check the plan once, on the smallest size, before sending anything out
    plan.coefficients(plan.design(plan.predictors(*sizes[0], np.random.default_rng(0))))
    seeds = replicate_seeds(random_seed, len(sizes) * n)
    tasks = [
        PowerTask(
            index=s * n + r,
            plan=plan,
            n_groups=size[0],
            n_per_group=size[1],
            target=target,
            null=null,
            prob=prob,
            priors=dict(priors or {}),
            settings=settings,
            seed=seeds[s * n + r],
        )
        for s, size in enumerate(sizes)
        for r in range(n)
    ]
    results = run_replicates(
        power_replicate, tasks, client=client, progressbar=progressbar, label="power"
    )
    rows = [r for r in results if not isinstance(r, ReplicateFailure)]
    failures = [r for r in results if isinstance(r, ReplicateFailure)]
    if failures:
        warnings.warn(
            f"{len(failures)} of {len(tasks)} power replicates failed ({failures[0]}); see "
            "result.failures.",
            RuntimeWarning,
            stacklevel=2,
        )
    result = Power(
        replicates=pd.DataFrame(rows),
        failures=failures,
        target=target,
        prob=prob,
        null=null,
        truth=plan.fixed[target],
        failed_sizes=tuple(sizes[f.index // n] for f in failures),
        sizes=tuple(sizes),
        rhat_max=rhat_max,
    )
    unconverged = result.nonconverged
    if len(unconverged):
        warnings.warn(
            f"{len(unconverged)} of {len(rows)} power replicates did not converge (divergences "
            f"or R-hat above {rhat_max:g}; replicates "
            f"{', '.join(str(i) for i in unconverged['replicate'][:10])}"
            f"{', ...' if len(unconverged) > 10 else ''}); they are kept in the table and "
            "counted in its nonconverged column: see result.nonconverged, and consider more "
            "tune= or draws=.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return result
