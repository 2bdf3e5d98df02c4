"""``hb.Model``: a formula, data and priors, ready to build and fit."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import pymc as pm
import xarray as xr

from hierbayes.build import build_model, resolve_parameterization
from hierbayes.build.settings import default_target_accept
from hierbayes.compile import compile_nutpie
from hierbayes.conditional import complete_marginal, marginal_blocks
from hierbayes.density.layout import Unsupported, make_layout
from hierbayes.density.sampler import CompiledDensity, compile_density
from hierbayes.design import make_design
from hierbayes.design.level2 import Level2Input
from hierbayes.diagnostics import check_convergence
from hierbayes.families import Family
from hierbayes.fit import Fit
from hierbayes.inference import check_settings, sample, sample_compiled
from hierbayes.loglik import observed_data, pointwise_log_likelihood
from hierbayes.priors import Prior, resolve_priors
from hierbayes.spec import parse_formula

if TYPE_CHECKING:
    from hierbayes.equations import Equations

__all__ = ["Model"]

_log = logging.getLogger("hierbayes")

# largest pointwise log-likelihood table (observations x draws) stored by default
LOG_LIKELIHOOD_MAX_SIZE = 50_000_000


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
        ``"auto"`` (default: a gaussian model has the group effects of one factor integrated
        out, ``"marginal"``: the only factor, or the one with the fewest groups; other
        coefficients are centred or non-centred, chosen from how informative each group's data
        are), ``"marginal"``, ``"noncentered"``,
        ``"centered"``, or a dict by group term name (values: one of those, or a dict by
        coefficient). See :func:`hierbayes.build.resolve_parameterization`.
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
        self._compiled: tuple[str, pm.Model, Any] | None = None
        self._density: tuple[str, CompiledDensity | None] | None = None

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
        target_accept: float | None = None,
        progressbar: bool = False,
        log_likelihood: bool | None = None,
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
        sampler : {"nutpie", "pymc", "numpyro"}
            NUTS implementation; "numpyro" (JAX, GPU when available) needs the "jax" extra.
        target_accept : float, optional
            Target acceptance rate; raise it (e.g. 0.95) when there are divergences. Default:
            0.95 for small data with sampled group effects, else 0.8
            (:func:`hierbayes.build.settings.default_target_accept`).
        progressbar : bool
            Show sampling progress.
        log_likelihood : bool, optional
            Store the pointwise log-likelihood (observations x draws numbers) in ``fit.idata``.
            By default it is stored when that table holds at most 50 million numbers (400 MB;
            e.g. 12,500 observations with 4,000 draws); ``fit.loo()`` computes it when called on
            a fit that did not store it.

        With ``sampler="nutpie"`` (the default) the model is sampled through hierbayes's own
        log-density (:mod:`hierbayes.density`), compiled once per machine and cached on disk, so
        no model compiles anything; a prior it does not evaluate falls back to compiling the
        PyMC model, which is then kept on the model for later fits. The other samplers run the
        PyMC model (:meth:`build`).

        Returns
        -------
        Fit
            Warns with :class:`~hierbayes.errors.ConvergenceWarning` when R-hat, ESS or divergences
            suggest the draws cannot be trusted, naming the parameter in the model's terms.
        """
        if target_accept is None:
            target_accept = default_target_accept(self.design, self.parameterization)
        check_settings(
            sampler=sampler, draws=draws, tune=tune, chains=chains, target_accept=target_accept
        )
        settings = {
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "cores": cores,
            "random_seed": random_seed,
            "target_accept": target_accept,
            "progressbar": progressbar,
        }
        density = self.compiled_density() if sampler == "nutpie" else None
        if density is not None:
            idata = sample_compiled(density, **settings)
        else:
            pm_model, compiled = self._pymc_model(sampler)
            idata = sample(pm_model, sampler=sampler, compiled=compiled, **settings)
        if marginal_blocks(self.parameterization):
            idata = complete_marginal(
                idata, self.design, self.parameterization, random_seed=random_seed
            )
        idata["observed_data"] = xr.DataTree(observed_data(self.design, self.obs_index))
        if log_likelihood is None:
            log_likelihood = self.design.n_obs * chains * draws <= LOG_LIKELIHOOD_MAX_SIZE
        if log_likelihood:
            idata = pointwise_log_likelihood(idata, self.design)
        diagnostics = check_convergence(idata)
        return Fit(idata=idata, model=self, diagnostics=diagnostics, sampler=sampler)

    def _key(self) -> str:
        # design, priors and parameterisation fix what is compiled
        return repr((self.parameterization, sorted(self.prior_values.items()), id(self.design)))

    def compiled_density(self) -> CompiledDensity | None:
        """The model's log-density packed for the cached kernel, or None when it has a prior
        the kernel does not evaluate (kept for later fits)."""
        key = self._key()
        if self._density is None or self._density[0] != key:
            try:
                layout = make_layout(self.design, self.prior_values, self.parameterization)
                compiled: CompiledDensity | None = compile_density(layout)
            except Unsupported as reason:
                _log.info("compiling the PyMC model: the compiled log-density lacks %s", reason)
                compiled = None
            self._density = (key, compiled)
        return self._density[1]

    def _pymc_model(self, sampler: str) -> tuple[pm.Model, Any]:
        """The PyMC model and, for nutpie, its compiled form (kept for later fits)."""
        if sampler != "nutpie":
            return self.build(), None
        key = self._key()
        if self._compiled is None or self._compiled[0] != key:
            pm_model = self.build()
            self._compiled = (key, pm_model, compile_nutpie(pm_model))
        return self._compiled[1], self._compiled[2]

    @classmethod
    def from_levels(
        cls,
        level1: str,
        level2: Mapping[str, str] | None = None,
        *,
        random: Sequence[str] | Mapping[str, Sequence[str]] = ("Intercept",),
        group: str | Sequence[str],
        data: pd.DataFrame,
        level2_data: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
        correlated: bool = True,
        family: str | Family = "gaussian",
        priors: Mapping[str, Prior] | None = None,
        parameterization: str | Mapping[str, Any] = "auto",
        trials: str | None = None,
    ) -> Model:
        """A model written as level-1 and level-2 equations (Raudenbush & Bryk's spelling).

        The result is the same model as the equivalent formula (equal specs, designs, priors and,
        with the same seed, draws); :attr:`spec` ``.formula`` shows that formula. See
        :mod:`hierbayes.spec.levels` for the rules.

        Parameters
        ----------
        level1 : str
            Level-1 equation without group terms, e.g. ``"mAch ~ 1 + cses"``.
        level2 : dict, optional
            Level-2 equation of each level-1 coefficient, by ``"Intercept"`` or the level-1 term:
            ``{"Intercept": "~ 1 + meanses", "cses": "~ 1 + meanses"}``. Coefficients left out are
            constant (``"~ 1"``); a coefficient not in ``random`` has no group deviation but may
            still depend on level-2 predictors.
        random : list of str or dict, default ``["Intercept"]``
            Coefficients that vary randomly across groups; with three levels, the same list
            applies at both upper levels, or a dict by grouping column chooses per level.
        group : str or list of str
            Grouping column (``"school"``), or columns from the outermost level in
            (``["school", "class"]`` or ``"school/class"``: classes nested in schools, as lme4's
            ``(1 | school/class)``).
        data : DataFrame
            One row per observation.
        level2_data : DataFrame or dict of DataFrame, optional
            One row per group, merged by the grouping column (a dict by grouping column with
            several levels). Level-2 predictors may also be columns of ``data``: each must be
            constant within every group.
        correlated : bool
            Whether coefficients varying across the same groups are correlated (``|``) or not
            (``||``).
        family, priors, parameterization, trials
            As for :class:`Model`.

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.Model.from_levels(
        ...     level1="mAch ~ 1 + cses",
        ...     level2={"Intercept": "~ 1 + meanses + sector", "cses": "~ 1 + meanses + sector"},
        ...     random=["Intercept", "cses"], group="school",
        ...     data=hb.datasets.load("hsb").drop(columns=["meanses", "sector"]),
        ...     level2_data=hb.datasets.load("hsb_schools"))
        >>> m.spec.formula
        'mAch ~ 1 + cses + meanses + sector + cses:meanses + cses:sector + (1 + cses | school)'
        """
        from hierbayes.design.levels import level_data
        from hierbayes.spec.levels import parse_levels

        levels = parse_levels(level1, level2, random=random, group=group, correlated=correlated)
        merged, declared = level_data(levels, data, level2_data)
        return cls(
            levels.formula,
            merged,
            level2=declared or None,
            family=family,
            priors=priors,
            parameterization=parameterization,
            trials=trials,
        )

    def equations(
        self, notation: str = "rb", form: str = "both", *, priors: bool = True
    ) -> Equations:
        """The model as level-1/level-2 equations and as one combined equation.

        ``notation="rb"`` (Raudenbush & Bryk: ``β_0j``, ``γ_00``, ``u_0j``, ``τ_00``, ``σ²``) or
        ``"gh"`` (Gelman & Hill: ``α_j``, ``β_j``, ``σ_α``, ``σ_y``); ``form="levels"``,
        ``"combined"`` or ``"both"``. Plain text with ``print``; LaTeX in notebooks. See
        :func:`hierbayes.equations.equations`.
        """
        from hierbayes.equations import equations

        return equations(self, notation, form, priors=priors)

    def __repr__(self) -> str:
        return (
            f"<hierbayes.Model {self.spec.formula} ({self.family.name}, {self.design.n_obs} obs)>"
        )
