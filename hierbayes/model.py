"""``hb.Model``: a formula, data and priors, ready to build and fit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pymc as pm

from hierbayes.build import build_model, resolve_parameterization
from hierbayes.design import make_design
from hierbayes.design.level2 import Level2Input
from hierbayes.diagnostics import check_convergence
from hierbayes.families import Family
from hierbayes.fit import Fit
from hierbayes.inference import sample
from hierbayes.priors import Prior, resolve_priors
from hierbayes.spec import parse_formula

__all__ = ["Model"]


class Model:
    """A Bayesian multilevel regression model.

    Parameters
    ----------
    formula : str
        lme4/brms syntax: ``"mAch ~ cses * (meanses + sector) + (1 + cses | school)"``. Group terms:
        ``(1 | g)``, ``(1 + x | g)`` (correlated, LKJ prior), ``(x || g)`` (uncorrelated),
        ``(0 + x | g)``, nested ``(1 | g1/g2)``, interactions ``(1 | g1:g2)``, crossed
        ``(1 | a) + (1 | b)``. Binomial: ``"k | trials(n) ~ ..."``.
    data : DataFrame
        One row per observation. Rows are never dropped: missing values are an error.
    level2 : dict, optional
        Group-level predictors by grouping factor: a one-row-per-group DataFrame merged by the
        factor's key (``{"school": schools}``), or a list of columns of ``data`` that are constant
        within each group (``{"school": ["meanses"]}``), which is checked.
    family : str
        ``"gaussian"`` (identity link), ``"bernoulli"`` and ``"binomial"`` (logit), ``"poisson"``
        (log).
    priors : dict, optional
        Overrides of the default priors by the names :attr:`priors` lists, e.g.
        ``{"sd|school": hb.Prior("HalfNormal", sigma=5)}``.
    parameterization : str or dict
        ``"auto"`` (default: centred or non-centred per varying coefficient, chosen from how
        informative each group's data are), ``"noncentered"``, ``"centered"``, or a dict by group
        term name (values: one of those, or a dict by coefficient). See
        :func:`hierbayes.build.resolve_parameterization`.
    trials : str, optional
        Column of binomial trials, instead of ``trials()`` in the formula.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> list(m.priors.index)
    ['Intercept', 'b|Days', 'sd|Subject', 'cor|Subject', 'sigma']
    """

    def __init__(
        self,
        formula: str,
        data: pd.DataFrame,
        *,
        level2: Level2Input | None = None,
        family: str | Family = "gaussian",
        priors: Mapping[str, Prior] | None = None,
        parameterization: str | Mapping[str, Any] = "auto",
        trials: str | None = None,
    ):
        self.spec = parse_formula(formula)
        self.design = make_design(self.spec, data, level2=level2, family=family, trials=trials)
        self.prior_values, self._prior_table = resolve_priors(self.design, dict(priors or {}))
        self.parameterization = resolve_parameterization(self.design, parameterization)
        self.obs_index = data.index if data.index.is_unique else pd.RangeIndex(len(data))

    @property
    def family(self) -> Family:
        """The response family."""
        return self.design.family

    @property
    def priors(self) -> pd.DataFrame:
        """Every prior of the model, defaults included, by the names that ``priors=`` accepts."""
        return self._prior_table.copy()

    def build(self) -> pm.Model:
        """The PyMC model (a new one on every call)."""
        return build_model(self.design, self.prior_values, self.parameterization, self.obs_index)

    def fit(
        self,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        cores: int | None = None,
        random_seed: int | None = None,
        *,
        sampler: str = "nutpie",
        target_accept: float = 0.8,
        progressbar: bool = False,
    ) -> Fit:
        """Sample the posterior with NUTS and check convergence.

        Parameters
        ----------
        draws, tune, chains : int
            Draws kept per chain, tuning steps per chain, number of chains.
        cores : int, optional
            Chains run in parallel (default: all cores).
        random_seed : int, optional
            The same seed gives the same draws.
        sampler : {"nutpie", "pymc"}
            NUTS implementation.
        target_accept : float
            Target acceptance rate; raise it (e.g. 0.95) when there are divergences.
        progressbar : bool
            Show sampling progress.

        Returns
        -------
        Fit
            Warns with :class:`~hierbayes.errors.ConvergenceWarning` when R-hat, ESS or divergences
            suggest the draws cannot be trusted, naming the parameter in the model's terms.
        """
        idata = sample(
            self.build(),
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            sampler=sampler,
            target_accept=target_accept,
            progressbar=progressbar,
        )
        diagnostics = check_convergence(idata)
        return Fit(idata=idata, model=self, diagnostics=diagnostics, sampler=sampler)

    def __repr__(self) -> str:
        return (
            f"<hierbayes.Model {self.spec.formula} ({self.family.name}, {self.design.n_obs} obs)>"
        )
