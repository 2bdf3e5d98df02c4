"""``hb.Model``: a formula, data and priors, ready to build and fit."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import pymc as pm
import xarray as xr

from hierbayes.blas import one_blas_thread
from hierbayes.build import build_model, resolve_parameterization
from hierbayes.build.expanded import check_expanded
from hierbayes.build.priors import check_user_priors
from hierbayes.compile import compile_nutpie
from hierbayes.conditional import complete_marginal, marginal_blocks
from hierbayes.course import sample_on_course
from hierbayes.density.layout import Unsupported, make_layout
from hierbayes.density.sampler import CompiledDensity, compile_density
from hierbayes.design import make_design
from hierbayes.design.level2 import Level2Input
from hierbayes.diagnostics import add_model_notes, check_convergence
from hierbayes.families import Family
from hierbayes.fit import Fit
from hierbayes.fit_settings import fit_settings
from hierbayes.forwarding import forwards
from hierbayes.frames import as_pandas, level2_as_pandas
from hierbayes.inference import sample, sample_compiled
from hierbayes.laplace_fit import as_sampled, checked_laplace
from hierbayes.loglik import observed_data, pointwise_log_likelihood
from hierbayes.model_levels import from_levels
from hierbayes.prior_pull import shape_prior_notes
from hierbayes.priors import Prior, resolve_priors
from hierbayes.spec import parse_formula
from hierbayes.spec.dpar import dpar_formula
from hierbayes.uncentred_note import uncentred_slope_notes

if TYPE_CHECKING:
    from hierbayes.equations import Equations

__all__ = ["Model"]

_log = logging.getLogger("hierbayes")

# largest pointwise log-likelihood table (observations x draws) stored by default: 80 MB, a few
# tenths of a second of CPU; larger ones are computed when fit.loo() needs them (as brms does)
LOG_LIKELIHOOD_MAX_SIZE = 10_000_000


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
        One row per observation. Rows are never dropped silently: missing values are an error
        unless ``missing="drop"``.
        A Dask DataFrame or a parquet path fits a gaussian model with one grouping factor (or
        factors that nest) from per-group sufficient statistics (:mod:`hierbayes.bigdata`).
    level2 : dict, optional
        Group-level predictors by grouping factor: a one-row-per-group DataFrame merged by the
        factor's key (``{"school": schools}``), or a list of columns of ``data`` that are constant
        within each group (``{"school": ["meanses"]}``), which is checked.
    family : str
        ``"gaussian"`` (identity link), ``"bernoulli"`` and ``"binomial"`` (logit; ``link=``
        probit or cloglog), ``"poisson"``
        and ``"negativebinomial"`` (log); see :mod:`hierbayes.families`.
    link : str, optional
        The family's link, when not its default: ``"probit"`` or ``"cloglog"`` for bernoulli
        and binomial (brms's ``bernoulli(link = "probit")``), ``"probit"`` for cumulative
        (brms's ``cumulative("probit")``).
    priors : dict, optional
        Overrides of the default priors by the names :attr:`priors` lists, e.g.
        ``{"sd|school": hb.Prior("HalfNormal", sigma=5)}``.
    parameterization : str or dict
        ``"auto"`` (default: a gaussian model has the group effects of one factor integrated
        out, ``"marginal"``: the only factor, or the one with the fewest groups; every factor
        when they all nest, jointly (:mod:`hierbayes.build.nested_marginal`); other
        coefficients are centred or non-centred, chosen from how informative each group's data
        are), ``"marginal"``, ``"noncentered"``,
        ``"centered"``, ``"expanded"`` (:mod:`hierbayes.build.expanded`), or a dict by group
        term name (values: one of those, or a dict by
        coefficient). See :func:`hierbayes.build.resolve_parameterization`.
    trials : str, optional
        Column of binomial trials, instead of ``trials()`` in the formula.
    offset : str, optional
        Column added to the linear predictor with coefficient 1, as ``offset(column)`` in the
        formula (``offset(np.log(expected))`` there takes any expression; offsets add up).
    weights : str, optional
        Column of likelihood weights (brms's ``weights()``): each row's log-likelihood counts
        that many times, so aggregated rows with their counts as weights give the posterior of
        the expanded data.
    missing : {"raise", "drop"}
        Rows with a missing value in a column the model uses: an error naming the columns and
        rows (default), or ``"drop"``: dropped with a warning giving the count per column,
        recorded in ``fit.summary()`` and saved fits.
    sigma : str, optional
        A formula for the log of the residual SD, as brms's ``bf(y ~ ..., sigma ~ ...)``:
        ``sigma="~ treatment + (1 | school)"`` (fixed and group terms, no response). Families
        with a residual SD ``sigma`` (gaussian, student_t, lognormal). Coefficients are named as
        in brms (``sigma_Intercept``; see :mod:`hierbayes.spec.dpar` and
        :mod:`hierbayes.predict.dpar`).
    shape, phi : str, optional
        The same for the dispersion of the other families, by its name in brms: ``shape=`` for
        negativebinomial and gamma, ``phi=`` for beta (``shape_Intercept``, ``phi_Intercept``).

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> list(m.priors.index)
    ['Intercept', 'b|Days', 'sd|Subject', 'cor|Subject', 'sigma']
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        # a Dask DataFrame or a parquet path: fitted from statistics (hierbayes.bigdata)
        data = kwargs.get("data", args[1] if len(args) > 1 else None)
        if cls is Model and data is not None and not isinstance(data, pd.DataFrame):
            from hierbayes.bigdata import StatisticsModel, is_big_data

            cls = StatisticsModel if is_big_data(data) else cls
        return super().__new__(cls)

    @one_blas_thread
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
        offset: str | None = None,
        weights: str | None = None,
        missing: str = "raise",
        link: str | None = None,
        sigma: str | None = None,
        shape: str | None = None,
        phi: str | None = None,
    ):
        data, level2 = as_pandas(data), level2_as_pandas(level2)  # polars & co. -> pandas
        self.spec = parse_formula(formula)
        self.weights_column = weights
        self.missing = missing
        self.sigma_spec = dpar_formula(sigma=sigma, shape=shape, phi=phi)  # or shape=, phi=
        self.design = make_design(
            self.spec,
            data,
            level2=level2,
            family=family,
            trials=trials,
            offset=offset,
            weights=weights,
            missing=missing,
            link=link,
            sigma=self.sigma_spec,
        )
        self.prior_values, self._prior_table = resolve_priors(
            self.design, check_user_priors(priors)
        )
        self.parameterization = resolve_parameterization(self.design, parameterization)
        self.parameterization = check_expanded(  # build/expanded.py
            self.design, self.prior_values, self.parameterization, parameterization
        )
        self._requested_parameterization = parameterization  # what fit() may switch (course.py)
        self.obs_index = data.index if data.index.is_unique else pd.RangeIndex(len(data))
        if self.design.kept is not None:  # missing="drop": the rows modelled
            self.obs_index = self.obs_index[self.design.kept]
        self._compiled: tuple[str, pm.Model, Any] | None = None
        self._density: tuple[str, CompiledDensity | None] | None = None

    @property
    def family(self) -> Family:
        """The response family (name, link, inverse link).

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
        >>> m.family.name, m.family.link
        ('gaussian', 'identity')
        """
        return self.design.family

    @property
    def priors(self) -> pd.DataFrame:
        """Every prior of the model, defaults included, by the names that ``priors=`` accepts.

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
        >>> list(m.priors.index)
        ['Intercept', 'b|Days', 'sd|Subject', 'sigma']
        """
        return self._prior_table.copy()

    def build(self) -> pm.Model:
        """The PyMC model (a new one on every call).

        ``fit()`` samples hierbayes's own compiled log-density by default; this PyMC model is
        the same model, for PyMC's tools (prior predictive sampling, ``pm.model_to_graphviz``,
        other samplers).

        Returns
        -------
        pymc.Model
            Variables named as in ``fit.idata`` (``b``, ``sd|<term>``, ``u|<term>``, ``sigma``)
            with labelled coordinates.

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
        >>> pm_model = m.build()  # doctest: +SKIP
        >>> pm_model.coords["Subject"][:3]  # doctest: +SKIP
        """
        return build_model(self.design, self.prior_values, self.parameterization, self.obs_index)

    @one_blas_thread
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
        progressbar: bool | None = None,
        log_likelihood: bool | None = None,
    ) -> Fit:
        """Sample the posterior with NUTS and check convergence.

        With ``sampler="nutpie"`` (the default) the model is sampled through hierbayes's own
        log-density (:mod:`hierbayes.density`), compiled once per machine and cached on disk, so
        no model compiles anything; a prior it does not evaluate falls back to compiling the
        PyMC model, which is then kept on the model for later fits. The other samplers run the
        PyMC model (:meth:`build`).

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
            (:func:`hierbayes.build.settings.default_target_accept`); with the compiled
            log-density a default run that diverges is run again at 0.95, and a failing run with
            the group terms' parameterisation switched where its posterior says (``fit.summary()``
            says so; :mod:`hierbayes.course`).
        progressbar : bool, optional
            Show sampling progress. By default shown in interactive sessions (a Jupyter kernel,
            or a terminal) and hidden when standard output is not a terminal or the ``CI``
            environment variable is set.
        log_likelihood : bool, optional
            Store the pointwise log-likelihood (observations x draws numbers) in ``fit.idata``.
            By default it is stored when that table holds at most 10 million numbers (80 MB;
            e.g. 2,500 observations with 4,000 draws); ``fit.loo()`` computes it when called on
            a fit that did not store it.

        Returns
        -------
        Fit
            Warns with :class:`~hierbayes.errors.ConvergenceWarning` when R-hat, ESS or divergences
            suggest the draws cannot be trusted, naming the parameter in the model's terms.

        Examples
        --------
        >>> import hierbayes as hb
        >>> sleep = hb.datasets.load("sleepstudy")
        >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
        >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
        >>> fit.summary()  # doctest: +SKIP
        """
        settings, raise_target = fit_settings(
            self.design,
            self.parameterization,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            sampler=sampler,
            target_accept=target_accept,
            progressbar=progressbar,
            log_likelihood=log_likelihood,
        )
        draws, chains, random_seed = settings["draws"], settings["chains"], settings["random_seed"]
        density = self.compiled_density() if sampler == "nutpie" else None
        fitted = self  # the model as sampled: a copy when the parameterisation was switched
        if density is not None:
            idata, fitted = sample_on_course(self, density, raise_target, settings)
            idata, fitted = checked_laplace(  # a failed Laplace check: run with effects sampled
                fitted, idata, lambda d: sample_compiled(d, raise_target=raise_target, **settings)
            )
        else:
            pm_model, compiled = self._pymc_model(sampler)
            idata = sample(pm_model, sampler=sampler, compiled=compiled, **settings)
            fitted = as_sampled(self)  # "laplace" terms are sampled non-centred by PyMC
        if marginal_blocks(fitted.parameterization):
            idata = complete_marginal(
                idata, self.design, fitted.parameterization, random_seed=random_seed
            )
        idata["observed_data"] = xr.DataTree(observed_data(self.design, self.obs_index))
        if log_likelihood is None:
            post = idata["posterior"]  # more chains or draws than asked when extended
            sampled = post.sizes["chain"] * post.sizes["draw"]
            log_likelihood = self.design.n_obs * sampled <= LOG_LIKELIHOOD_MAX_SIZE
        if log_likelihood:
            idata = pointwise_log_likelihood(idata, self.design)
        extra = shape_prior_notes(idata["posterior"].to_dataset(), self.prior_values)
        extra += uncentred_slope_notes(self.design)
        if extra:  # with the sampling notes: summary() prints them, saved fits keep them
            add_model_notes(idata["posterior"], extra)  # the cause before the remedy
        diagnostics = check_convergence(idata)
        return Fit(idata=idata, model=fitted, diagnostics=diagnostics, sampler=sampler)

    def _key(self) -> str:
        # design, priors and parameterisation fix what is compiled
        return repr((self.parameterization, sorted(self.prior_values.items()), id(self.design)))

    def compiled_density(self) -> CompiledDensity | None:
        """The model's log-density packed for the cached kernel, or None when it has a prior
        the kernel does not evaluate (kept for later fits).

        Returns
        -------
        CompiledDensity or None
            What ``fit(sampler="nutpie")`` samples; ``None`` means ``fit`` compiles the PyMC
            model instead.

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
        >>> m.compiled_density() is not None  # doctest: +SKIP
        True
        """
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

    from_levels = classmethod(from_levels)

    def equations(
        self, notation: str = "rb", form: str = "both", *, priors: bool = True
    ) -> Equations:
        """The model as level-1/level-2 equations and as one combined equation.

        Plain text with ``print``; LaTeX in notebooks. See
        :func:`hierbayes.equations.equations`.

        Parameters
        ----------
        notation : {"rb", "gh"}
            Raudenbush & Bryk (``β_0j``, ``γ_00``, ``u_0j``, ``τ_00``, ``σ²``) or Gelman & Hill
            (``α_j``, ``β_j``, ``σ_α``, ``σ_y``).
        form : {"both", "levels", "combined"}
            The level-1 and level-2 equations, the one combined equation, or both.
        priors : bool
            Also list the priors.

        Returns
        -------
        Equations
            Prints as text, displays as LaTeX in a notebook.

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
        >>> print(m.equations(form="levels", priors=False))
        Level 1 (observation i):
          Reaction_ij = β_0j + β_1j·Days_ij + r_ij,   r_ij ~ N(0, σ²)
        Level 2 (Subject j):
          β_0j = γ_00 + u_0j
          β_1j = γ_10
          u_0j ~ N(0, τ_00)
        """
        from hierbayes.equations import equations

        return equations(self, notation, form, priors=priors)

    @forwards("hierbayes.predict.prior:prior_predictive")
    def prior_predictive(self, draws: int = 500, *, random_seed: int | None = 1) -> xr.DataTree:
        from hierbayes.predict.prior import prior_predictive

        return prior_predictive(self, draws, random_seed=random_seed)

    @forwards("hierbayes.plots.prior_predictive:plot_prior_predictive")
    def plot_prior_predictive(
        self,
        prior: xr.DataTree | None = None,
        *,
        factor: str | None = None,
        draws: int = 500,
        random_seed: int | None = 1,
        figsize: tuple[float, float] | None = None,
    ) -> tuple[Any, Any]:
        from hierbayes.plots import plot_prior_predictive

        return plot_prior_predictive(
            self, prior, factor=factor, draws=draws, random_seed=random_seed, figsize=figsize
        )

    def __repr__(self) -> str:
        from hierbayes.reprs import model_text

        return model_text(self)

    def _repr_html_(self) -> str:
        from hierbayes.reprs import model_html

        return model_html(self)
