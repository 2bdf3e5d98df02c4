"""The result of fitting: the posterior ``DataTree`` plus the model it came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import xarray as xr

from hierbayes import summaries
from hierbayes.diagnostics import Diagnostics
from hierbayes.forwarding import forwards
from hierbayes.summaries.stats import DEFAULT_PROB

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    from matplotlib.figure import Figure

    from hierbayes.comparison import KFold
    from hierbayes.design import Design
    from hierbayes.model import Model
    from hierbayes.predict import SimulatedGroups
    from hierbayes.spec import ModelSpec

__all__ = ["Fit"]


@dataclass(frozen=True)
class Fit:
    """An immutable fitted model. Summaries are functions of a fit; these methods forward to them.

    Attributes
    ----------
    idata : xarray.DataTree
        Posterior draws (``b``, ``sd|<term>``, ``cor|<term>``, ``u|<term>``, ``sigma``), sample
        stats, observed data and the pointwise log-likelihood.
    model : Model
        The model that was fitted (spec, design with its encoding state, priors).
    diagnostics : Diagnostics
        Post-sampling convergence checks.
    sampler : str
        The NUTS implementation used.
    """

    idata: xr.DataTree
    model: Model
    diagnostics: Diagnostics
    sampler: str
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def spec(self) -> ModelSpec:
        """The model specification."""
        return self.model.spec

    @property
    def design(self) -> Design:
        """The design (arrays, labels and encoding state) the model was fitted to."""
        return self.model.design

    @forwards("hierbayes.summaries.tables:fixef")
    def fixef(
        self, *, prob: float = DEFAULT_PROB, by: str | None = None, notation: str = "rb"
    ) -> pd.DataFrame:
        """Population-level effects (``by="level"``: by level equation, with their ``γ``
        symbols); see :func:`hierbayes.summaries.fixef`."""
        return summaries.fixef(self, prob=prob, by=by, notation=notation)

    @forwards("hierbayes.summaries.tables:ranef")
    def ranef(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Group deviations; see :func:`hierbayes.summaries.ranef`."""
        return summaries.ranef(self, prob=prob)

    @forwards("hierbayes.summaries.tables:coef")
    def coef(self, *, prob: float = DEFAULT_PROB, kind: str = "lme4") -> pd.DataFrame:
        """Each group's coefficients: lme4's fixef + ranef of every term (non-varying terms
        repeated), or ``kind="level"``: the level-equation coefficients ``β_qj`` including
        level-2 predictors; see :func:`hierbayes.summaries.coef`."""
        return summaries.coef(self, prob=prob, kind=kind)

    @forwards("hierbayes.summaries.tables:varcorr")
    def varcorr(self, *, prob: float = DEFAULT_PROB, labels: str | None = None) -> pd.DataFrame:
        """SDs, correlations and residual SD (``labels="rb"``/``"gh"``: with variances,
        covariances and their symbols); see :func:`hierbayes.summaries.varcorr`."""
        return summaries.varcorr(self, prob=prob, labels=labels)

    @forwards("hierbayes.summaries.summary:summary")
    def summary(self, *, prob: float = DEFAULT_PROB) -> summaries.Summary:
        """lme4-like summary; see :func:`hierbayes.summaries.summary`."""
        return summaries.summary(self, prob=prob)

    @forwards("hierbayes.summaries.pooling:pooling")
    def pooling(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Pooling estimates per group; see :func:`hierbayes.summaries.pooling`."""
        return summaries.pooling(self, prob=prob)

    @forwards("hierbayes.summaries.pooling:shrinkage")
    def shrinkage(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Shrinkage factor per group; see :func:`hierbayes.summaries.shrinkage`."""
        return summaries.shrinkage(self, prob=prob)

    @forwards("hierbayes.summaries.variance:icc")
    def icc(
        self,
        *,
        at: pd.DataFrame | Mapping[str, Any] | None = None,
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        """Intraclass correlation per grouping factor; see :func:`hierbayes.summaries.icc`."""
        return summaries.icc(self, at=at, prob=prob)

    @forwards("hierbayes.summaries.variance:r2")
    def r2(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Bayesian R², marginal and conditional; see :func:`hierbayes.summaries.r2`."""
        return summaries.r2(self, prob=prob)

    @forwards("hierbayes.summaries.lines:group_lines")
    def group_lines(
        self,
        x: str,
        *,
        grid: Sequence[float] | None = None,
        groups: Sequence[Any] | None = None,
        at: Mapping[str, Any] | None = None,
        scale: str = "response",
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        """Each group's line over ``x``; see :func:`hierbayes.summaries.group_lines`."""
        return summaries.group_lines(
            self, x, grid=grid, groups=groups, at=at, scale=scale, prob=prob
        )

    @forwards("hierbayes.plots.group_lines:plot_group_lines")
    def plot_group_lines(
        self,
        x: str | None = None,
        *,
        groups: Sequence[Any] | None = None,
        max_groups: int = 12,
        grid: Sequence[float] | None = None,
        at: Mapping[str, Any] | None = None,
        prob: float = DEFAULT_PROB,
        ncols: int | None = None,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        """Data and lines per group; see :func:`hierbayes.plots.plot_group_lines`."""
        from hierbayes import plots

        return plots.plot_group_lines(
            self,
            x,
            groups=groups,
            max_groups=max_groups,
            grid=grid,
            at=at,
            prob=prob,
            ncols=ncols,
            figsize=figsize,
        )

    @forwards("hierbayes.plots.pooling:plot_pooling")
    def plot_pooling(
        self,
        *,
        terms: Sequence[str] | None = None,
        kind: str = "1d",
        order: str = "no_pool",
        levels: Sequence[float] = (0.5, 0.9),
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        """The shrinkage plot; see :func:`hierbayes.plots.plot_pooling`."""
        from hierbayes import plots

        return plots.plot_pooling(
            self, terms=terms, kind=kind, order=order, levels=levels, figsize=figsize
        )

    @forwards("hierbayes.plots.caterpillar:plot_caterpillar")
    def plot_caterpillar(
        self,
        *,
        factor: str | None = None,
        terms: Sequence[str] | None = None,
        sort_by: str | None = None,
        prob: float = DEFAULT_PROB,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        """Sorted group deviations with HDIs; see :func:`hierbayes.plots.plot_caterpillar`."""
        from hierbayes import plots

        return plots.plot_caterpillar(
            self, factor=factor, terms=terms, sort_by=sort_by, prob=prob, figsize=figsize
        )

    @forwards("hierbayes.plots.ppc:plot_ppc")
    def plot_ppc(
        self,
        *,
        kind: str = "density",
        factor: str | None = None,
        n_draws: int = 100,
        random_seed: int | None = 0,
        prob: float = DEFAULT_PROB,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        """Posterior predictive check; see :func:`hierbayes.plots.plot_ppc`."""
        from hierbayes import plots

        return plots.plot_ppc(
            self,
            kind=kind,
            factor=factor,
            n_draws=n_draws,
            random_seed=random_seed,
            prob=prob,
            figsize=figsize,
        )

    @forwards("hierbayes.predict.predict:predict")
    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        groups: str = "existing",
        kind: str = "mean",
        level2: Mapping[str, pd.DataFrame] | None = None,
        random_seed: int | np.random.Generator | None = None,
        summary: bool = False,
        prob: float = DEFAULT_PROB,
        dpar: str | None = None,
    ) -> xr.DataArray | pd.DataFrame:
        """Predictions for existing, new or average groups; see
        :func:`hierbayes.predict.predict`."""
        from hierbayes.predict import predict

        return predict(
            self,
            newdata,
            groups=groups,
            kind=kind,
            level2=level2,
            random_seed=random_seed,
            summary=summary,
            prob=prob,
            dpar=dpar,
        )

    @forwards("hierbayes.predict.predict:posterior_predictive")
    def posterior_predictive(
        self, *, random_seed: int | np.random.Generator | None = None
    ) -> xr.DataTree:
        """``idata`` plus a posterior predictive group for the observed data; see
        :func:`hierbayes.predict.posterior_predictive`."""
        from hierbayes.predict import posterior_predictive

        return posterior_predictive(self, random_seed=random_seed)

    @forwards("hierbayes.predict.simulate:simulate_new_groups")
    def simulate_new_groups(
        self,
        n_groups: int = 1000,
        *,
        factor: str | None = None,
        x: pd.DataFrame | None = None,
        n_per_group: int | None = None,
        level2: Mapping[str, Any] | pd.DataFrame | str | None = None,
        observations: bool = False,
        random_seed: int | np.random.Generator | None = None,
    ) -> SimulatedGroups:
        """Simulate whole new groups; see :func:`hierbayes.predict.simulate_new_groups`."""
        from hierbayes.predict import simulate_new_groups

        return simulate_new_groups(
            self,
            n_groups,
            factor=factor,
            x=x,
            n_per_group=n_per_group,
            level2=level2,
            observations=observations,
            random_seed=random_seed,
        )

    @forwards("hierbayes.plots.new_groups:plot_new_groups")
    def plot_new_groups(
        self,
        x: str | None = None,
        *,
        n_groups: int = 100,
        factor: str | None = None,
        grid: Sequence[float] | None = None,
        at: Mapping[str, Any] | None = None,
        level2: Mapping[str, Any] | pd.DataFrame | str | None = None,
        by: str | None = None,
        kind: str = "mean",
        prob: float = DEFAULT_PROB,
        random_seed: int | None = None,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        """Population line and simulated new groups; see
        :func:`hierbayes.plots.plot_new_groups`."""
        from hierbayes import plots

        return plots.plot_new_groups(
            self,
            x,
            n_groups=n_groups,
            factor=factor,
            grid=grid,
            at=at,
            level2=level2,
            by=by,
            kind=kind,
            prob=prob,
            random_seed=random_seed,
            figsize=figsize,
        )

    @forwards("hierbayes.comparison:loo")
    def loo(self) -> Any:
        """PSIS-LOO with Pareto-k warnings in plain words, cached on the fit (the same object on
        every call); see :func:`hierbayes.comparison.loo`."""
        from hierbayes.comparison import loo

        return loo(self)

    @forwards("hierbayes.comparison:kfold")
    def kfold(
        self,
        k: int = 10,
        *,
        by: str = "group",
        random_seed: int | None = None,
        draws: int | None = None,
        tune: int | None = None,
        chains: int | None = None,
        n_effect_draws: int = 20,
        client: Any = None,
    ) -> KFold:
        """Exact (grouped) K-fold cross-validation by refitting, on a dask ``client``'s
        workers when given; see :func:`hierbayes.comparison.kfold`."""
        from hierbayes.comparison import kfold

        return kfold(
            self,
            k,
            by=by,
            random_seed=random_seed,
            draws=draws,
            tune=tune,
            chains=chains,
            n_effect_draws=n_effect_draws,
            client=client,
        )

    @forwards("hierbayes.io:save")
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save to a folder (zarr + JSON, no pickle); see :func:`hierbayes.io.save`."""
        from hierbayes.io import save

        return save(self, path, overwrite=overwrite)

    @forwards("hierbayes.summaries.hypothesis:hypothesis")
    def hypothesis(
        self,
        hypotheses: str | Sequence[str],
        *,
        prob: float = DEFAULT_PROB,
        random_seed: int | None = 1,
    ) -> pd.DataFrame:
        from hierbayes.summaries.hypothesis import hypothesis

        return hypothesis(self, hypotheses, prob=prob, random_seed=random_seed)

    @forwards("hierbayes.plots.hypothesis:plot_hypothesis")
    def plot_hypothesis(
        self,
        hypotheses: str | Sequence[str],
        *,
        random_seed: int | None = 1,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        from hierbayes.plots.hypothesis import plot_hypothesis

        return plot_hypothesis(self, hypotheses, random_seed=random_seed, figsize=figsize)

    @forwards("hierbayes.summaries.effects:conditional_effects")
    def conditional_effects(
        self,
        x: str,
        *,
        by: str | None = None,
        at: Mapping[str, Any] | None = None,
        grid: Sequence[Any] | None = None,
        scale: str = "response",
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        from hierbayes.summaries.effects import conditional_effects

        return conditional_effects(self, x, by=by, at=at, grid=grid, scale=scale, prob=prob)

    @forwards("hierbayes.plots.effects:plot_effects")
    def plot_effects(
        self,
        x: str,
        *,
        by: str | None = None,
        at: Mapping[str, Any] | None = None,
        grid: Sequence[Any] | None = None,
        scale: str = "response",
        prob: float = DEFAULT_PROB,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        from hierbayes.plots.effects import plot_effects

        return plot_effects(
            self, x, by=by, at=at, grid=grid, scale=scale, prob=prob, figsize=figsize
        )

    @forwards("hierbayes.predict.average:predictions")
    def predictions(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        by: str | Sequence[str] | None = None,
        groups: str = "existing",
        scale: str = "response",
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        from hierbayes.predict.average import predictions

        return predictions(self, newdata, by=by, groups=groups, scale=scale, prob=prob)

    @forwards("hierbayes.predict.average:comparisons")
    def comparisons(
        self,
        variable: str,
        newdata: pd.DataFrame | None = None,
        *,
        by: str | Sequence[str] | None = None,
        delta: float = 1.0,
        groups: str = "existing",
        scale: str = "response",
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        from hierbayes.predict.average import comparisons

        return comparisons(
            self, variable, newdata, by=by, delta=delta, groups=groups, scale=scale, prob=prob
        )

    @forwards("hierbayes.predict.average:slopes")
    def slopes(
        self,
        variable: str,
        newdata: pd.DataFrame | None = None,
        *,
        by: str | Sequence[str] | None = None,
        groups: str = "existing",
        scale: str = "response",
        prob: float = DEFAULT_PROB,
    ) -> pd.DataFrame:
        from hierbayes.predict.average import slopes

        return slopes(self, variable, newdata, by=by, groups=groups, scale=scale, prob=prob)

    @forwards("hierbayes.summaries.sensitivity:sensitivity")
    def sensitivity(
        self, *, threshold: float = 0.05, alphas: tuple[float, float] = (0.99, 1.01)
    ) -> pd.DataFrame:
        from hierbayes.summaries.sensitivity import sensitivity

        return sensitivity(self, threshold=threshold, alphas=alphas)

    @forwards("hierbayes.plots.sensitivity:plot_sensitivity")
    def plot_sensitivity(
        self,
        *,
        threshold: float = 0.05,
        alphas: tuple[float, float] = (0.99, 1.01),
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Figure, np.ndarray]:
        from hierbayes.plots.sensitivity import plot_sensitivity

        return plot_sensitivity(self, threshold=threshold, alphas=alphas, figsize=figsize)

    def __repr__(self) -> str:
        from hierbayes.reprs import fit_text

        return fit_text(self)

    def _repr_html_(self) -> str:
        from hierbayes.reprs import fit_html

        return fit_html(self)
