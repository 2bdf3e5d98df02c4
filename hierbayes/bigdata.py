"""Gaussian models fitted from data larger than memory: a Dask DataFrame or a parquet path.

``hb.Model(formula, data=ddf)`` with a Dask DataFrame (or ``data="rows.parquet"``, read with
``dask.dataframe.read_parquet``) gives a :class:`StatisticsModel`. A gaussian model whose only
grouping factor (or nested factors, :mod:`hierbayes.build.nested_marginal`) is integrated out
needs just per-group sufficient statistics
(:mod:`hierbayes.design.dask_stats`); they are computed with Dask, on whatever cluster the user's
``dask.distributed.Client`` points at, and the model is then sampled without touching a row. The
compiled log-density reads the statistics exactly as the in-memory path's, so the same statistics
and seed give the same draws.

What needs rows is refused with :class:`~hierbayes.errors.RowsNotKeptError`, which says how to get
it on a sample of the data: the pointwise log-likelihood (``fit.loo()``), posterior predictive
checks, fitted values of the training rows, saving with ``fit.save`` (which rebuilds the model
from its rows; ``fit.idata.to_zarr`` keeps the draws), ``conditional_effects`` (its grid comes
from the rows). Summaries, group effects (drawn from their exact conditional posterior, from the
statistics), variance components, ICC and predictions on ``newdata`` work as for any fit; R²,
``pooling()`` and ``shrinkage()`` are computed exactly from the statistics
(:mod:`hierbayes.bigdata_summaries`) and the equations ask Dask at which level each predictor
varies (:mod:`hierbayes.bigdata_equations`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.bigdata_equations import statistics_equations
from hierbayes.bigdata_notes import statistics_notes
from hierbayes.bigdata_stats import complete_from_statistics, statistics_layout
from hierbayes.bigdata_summaries import (
    leaf_groups,
    statistics_pooling,
    statistics_r2,
    statistics_shrinkage,
)
from hierbayes.build import resolve_parameterization
from hierbayes.build.nested_marginal import NestedDesign, nested_chain
from hierbayes.build.priors import check_user_priors
from hierbayes.density.layout import Unsupported, make_layout
from hierbayes.density.sampler import CompiledDensity, compile_density
from hierbayes.design import Design, GroupBlock, categorical_variables, make_design
from hierbayes.design.dask_stats import (
    Statistics,
    check_complete,
    check_encoding,
    data_statistics,
    skeleton_frame,
)
from hierbayes.design.design import required_variables
from hierbayes.diagnostics import add_model_notes, check_convergence
from hierbayes.errors import (
    ArgumentError,
    FamilyError,
    MissingColumnError,
    ModelSpecError,
    PriorError,
    RowsNotKeptError,
)
from hierbayes.families import get_family
from hierbayes.fit import Fit
from hierbayes.fit_settings import fit_settings
from hierbayes.inference import sample_compiled
from hierbayes.model import Model
from hierbayes.priors import Prior, resolve_priors
from hierbayes.spec import parse_formula
from hierbayes.summaries.stats import DEFAULT_PROB

__all__ = ["StatisticsDesign", "StatisticsModel", "is_big_data"]

_ON_A_SAMPLE = (
    "A model fitted from Dask data keeps per-group statistics, not rows, and {what} needs the "
    "rows. Fit the same model on a sample that fits in memory, e.g. "
    "hb.Model(formula, data=ddf.sample(frac=0.01, random_state=1).compute()), and ask it there."
)


def is_big_data(data: Any) -> bool:
    """Whether ``data`` is a Dask DataFrame or a path (to parquet files) rather than a frame.

    Examples
    --------
    >>> is_big_data("rows.parquet"), is_big_data(pd.DataFrame({"y": [1.0]}))
    (True, False)
    """
    if isinstance(data, str | os.PathLike):
        return True
    return type(data).__module__.startswith("dask.")  # dask.dataframe (classic or dask-expr)


def _as_dask(data: Any) -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as err:  # pragma: no cover - the extra is installed in the test env
        raise ArgumentError(
            "Data larger than memory needs Dask: pip install 'hierbayes[dask]'."
        ) from err
    if isinstance(data, str | os.PathLike):
        if not os.path.exists(data):
            raise ArgumentError(f"data={str(data)!r} is not a parquet file or folder that exists.")
        try:
            return dd.read_parquet(data)
        except Exception as err:  # pyarrow's errors for a file that is not parquet
            raise ArgumentError(f"Could not read {str(data)!r} as parquet: {err}") from err
    if not isinstance(data, dd.DataFrame):
        raise ArgumentError(f"data must be a DataFrame, got {type(data).__name__}.")
    return data


class StatisticsBlock(GroupBlock):
    """A group term of a :class:`StatisticsDesign`: labels, columns and per-group counts,
    without the rows' ``Z`` and codes."""

    group_counts: np.ndarray
    factor_ztz: np.ndarray  # Z'Z over all rows of the factor's terms side by side

    def __init__(self, block: GroupBlock, counts: np.ndarray, factor_ztz: np.ndarray):
        for f in dataclasses.fields(GroupBlock):
            object.__setattr__(self, f.name, getattr(block, f.name))
        object.__setattr__(self, "group_counts", counts)
        object.__setattr__(self, "factor_ztz", factor_ztz)

    def __getattribute__(self, name: str) -> Any:
        if name in ("Z", "codes"):
            raise RowsNotKeptError(
                _ON_A_SAMPLE.format(what=f"this (it reads the group design {name})")
            )
        return object.__getattribute__(self, name)

    @property
    def counts(self) -> np.ndarray:
        """Number of observations in each group."""
        return self.group_counts


class StatisticsDesign(Design):
    """The design of a model fitted from Dask data: the encoding, group labels and sufficient
    statistics (``statistics``), no rows: ``data`` is None, and reading ``y``, ``X`` or
    ``offset`` raises :class:`~hierbayes.errors.RowsNotKeptError`."""

    statistics: Statistics

    def __init__(
        self,
        design: Design,
        statistics: Statistics,
        nested: NestedDesign | None,
        terms: tuple[str, ...],
    ):
        for f in dataclasses.fields(Design):
            object.__setattr__(self, f.name, getattr(design, f.name))
        total, starts = statistics.ztz.sum(axis=0), _starts(design, terms)
        # each factor's groups: the leaves' counts summed up the chain of parents
        group_of = leaf_groups(design, nested, len(statistics.counts))
        blocks = []
        for b in design.blocks:
            cols = [
                starts[o.name] + k
                for o in design.blocks
                if o.factor == b.factor
                for k in range(len(o.columns))
            ]
            counts = np.bincount(
                group_of[b.factor], weights=statistics.counts, minlength=len(b.levels)
            ).astype(np.int64)
            blocks.append(StatisticsBlock(b, counts, total[np.ix_(cols, cols)]))
        blocks = tuple(blocks)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "statistics", statistics)
        object.__setattr__(self, "data", None)

    def __getattribute__(self, name: str) -> Any:
        if name in ("y", "X", "offset"):
            raise RowsNotKeptError(_ON_A_SAMPLE.format(what=f"this (it reads the rows' {name})"))
        return object.__getattribute__(self, name)

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return self.statistics.n


def _two_points(mean: float, sd: float) -> np.ndarray:
    """Two values with exactly this mean and SD (ddof 1), for the moment-based priors."""
    half = sd / math.sqrt(2.0)
    return np.array([mean - half, mean + half])


def _starts(design: Design, terms: tuple[str, ...]) -> dict[str, int]:
    """First column of each group term in the statistics' ``Z``."""
    sizes = [len(design.block(t).columns) for t in terms]
    return dict(zip(terms, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True))


def _integrated_out(design: Design) -> tuple[NestedDesign | None, tuple[str, ...], str]:
    """The nested chain (None for one factor), the group terms in the statistics' column order
    and the term whose groups the statistics are summed over."""
    if len({b.factor for b in design.blocks}) == 1:
        return None, tuple(b.name for b in design.blocks), design.blocks[0].name
    nested = nested_chain(design)
    if nested is None:
        factors = ", ".join(dict.fromkeys(b.factor for b in design.blocks))
        raise ModelSpecError(
            f"Dask data fit models with one grouping factor or factors that nest ((1 | a/b)); "
            f"{factors} are crossed. Fit a sample in memory for crossed factors."
        )
    terms = tuple(b.name for f in reversed(nested.levels) for b in f.blocks)
    return nested, terms, nested.leaves.blocks[0].name


def _moment_design(design: Design, stats: Statistics, terms: tuple[str, ...]) -> Design:
    """A two-row stand-in for ``design`` with the data's means and SDs: what the data-scaled
    default priors (:func:`hierbayes.priors.default_priors`) read."""
    X = np.column_stack([_two_points(0.0, s) for s in stats.x_sd])
    blocks, starts = [], _starts(design, terms)
    for b in design.blocks:
        k, q = starts[b.name], len(b.columns)
        Z = np.column_stack([_two_points(0.0, s) for s in stats.z_sd[k : k + q]])
        blocks.append(dataclasses.replace(b, Z=Z, codes=np.zeros(2, dtype=np.int64)))
    return dataclasses.replace(
        design,
        y=_two_points(stats.y_mean, stats.y_sd),
        X=X,
        blocks=tuple(blocks),
        data=None,
        offset=None,
        weights=None,
        trials=None,
    )


def _refuse(
    family: Any, link: Any, *, level2: Any, trials: Any, weights: Any, missing: str, sigma: Any
) -> None:
    fam = get_family(family, link)
    if fam.name != "gaussian" or fam.link != "identity":
        raise FamilyError(
            f"Dask data fit gaussian models (identity link) only, not {fam.name} ({fam.link}): "
            "their likelihood needs every row. Fit a sample in memory (ddf.sample(frac=...)"
            ".compute())."
        )
    for what, value, hint in (
        ("sigma=", sigma, "a residual SD that varies needs the rows"),
        ("weights=", weights, "aggregate rows of equal weight instead, or fit in memory"),
        ("trials=", trials, "trials apply to the binomial family"),
        ("level2=", level2, "merge the group-level table into the Dask data (ddf.merge)"),
    ):
        if value is not None:
            raise ArgumentError(f"{what} is not available with Dask data: {hint}.")
    if missing != "raise":
        raise ArgumentError(
            f"missing={missing!r} is not available with Dask data: drop the rows first "
            "(ddf.dropna(subset=[...])), so that the rows modelled are the data's."
        )


class StatisticsModel(Model):
    """A gaussian model with one grouping factor or factors that nest, fitted from a Dask
    DataFrame or parquet path through per-group sufficient statistics (see the module
    docstring).

    Built by :class:`~hierbayes.Model` when ``data`` is a Dask DataFrame or a path; arguments
    as there.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (1 + Days | Subject)",
    ...              data=dd.from_pandas(sleep, npartitions=3))
    >>> type(m).__name__, m.design.n_obs
    ('StatisticsModel', 180)
    """

    def __init__(
        self,
        formula: str,
        data: Any,
        *,
        level2: Any = None,
        family: Any = "gaussian",
        priors: Mapping[str, Prior] | None = None,
        parameterization: str | Mapping[str, Any] = "auto",
        trials: str | None = None,
        offset: str | None = None,
        weights: str | None = None,
        missing: str = "raise",
        link: str | None = None,
        sigma: str | None = None,
    ):
        _refuse(
            family,
            link,
            level2=level2,
            trials=trials,
            weights=weights,
            missing=missing,
            sigma=sigma,
        )
        ddf = _as_dask(data)
        self.spec = parse_formula(formula)
        self.weights_column, self.missing, self.sigma_spec = None, missing, None
        columns = required_variables(self.spec) + ([offset] if offset is not None else [])
        absent = [c for c in columns if c not in ddf.columns]
        if absent:
            raise MissingColumnError(
                f"Column(s) {absent} used by the model are not in the Dask data; it has "
                f"{list(ddf.columns)}."
            )
        factors = {f for g in self.spec.groups for f in g.factor}
        if not self.spec.groups:
            raise ModelSpecError(
                "Dask data fit models with group terms ((... | g)); fit a model without any "
                "in memory, or from a sample."
            )
        dtypes = ddf[columns].dtypes
        keys = sorted(
            factors | {c for c in columns if not pd.api.types.is_numeric_dtype(dtypes[c])}
        )
        design = None
        while design is None:
            skeleton = skeleton_frame(ddf, columns, keys)
            check_complete(skeleton, columns)
            design = make_design(  # rank: on the whole data, by data_statistics
                self.spec, skeleton, family=family, offset=offset, link=link, check_rank=False
            )
            more = sorted(set(categorical_variables(design)) - set(keys))
            if more:  # C(x) of a numeric column: every value is a level
                keys, design = sorted(set(keys) | set(more)), None
        check_encoding(design)
        self._nested, terms, leaf = _integrated_out(design)
        self._terms = terms  # the group terms in the statistics' column order
        self.parameterization = resolve_parameterization(design, parameterization)
        sampled = [n for n, how in self.parameterization.items() if how[0] != "marginal"]
        if sampled:
            raise ModelSpecError(
                f"With Dask data the group effects are integrated out ('marginal'); "
                f"'{sampled[0]}' is {self.parameterization[sampled[0]][0]}. Leave "
                "parameterization='auto'."
            )
        stats = data_statistics(ddf, design, columns, terms, leaf)
        self.prior_values, self._prior_table = resolve_priors(
            _moment_design(design, stats, terms), check_user_priors(priors)
        )
        try:
            layout = make_layout(design, self.prior_values, self.parameterization)
        except Unsupported as reason:
            raise PriorError(
                f"With Dask data the model is sampled by the compiled log-density, which lacks "
                f"{reason}: choose a prior from hierbayes.priors's table."
            ) from None
        self._layout = statistics_layout(layout, stats)
        self.design = StatisticsDesign(design, stats, self._nested, terms)
        self.obs_index = pd.RangeIndex(stats.n)
        self._compiled = None
        self._density = None
        self._data = ddf  # lazy: read again only by equations()

    def compiled_density(self) -> CompiledDensity:
        """The model's log-density from its sufficient statistics (compiled kernel, cached)."""
        if self._density is None:
            self._density = ("statistics", compile_density(self._layout))
        return self._density[1]

    def equations(self, notation: str = "rb", form: str = "both", *, priors: bool = True) -> Any:
        """The model's equations (see :meth:`Model.equations`); which predictors vary at which
        level is asked of the Dask data (:mod:`hierbayes.bigdata_equations`)."""
        return statistics_equations(self, notation, form, priors=priors)

    def build(self) -> Any:
        """Not available: the PyMC model needs the rows."""
        raise RowsNotKeptError(_ON_A_SAMPLE.format(what="the PyMC model (build())"))

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
        """Sample the posterior from the sufficient statistics (see :meth:`Model.fit`).

        ``sampler`` must be ``"nutpie"`` and ``log_likelihood`` not True: both need the rows.
        """
        if sampler != "nutpie" or log_likelihood:
            what = "the pointwise log-likelihood" if log_likelihood else f"sampler={sampler!r}"
            raise RowsNotKeptError(_ON_A_SAMPLE.format(what=what))
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
        idata = sample_compiled(self.compiled_density(), raise_target=raise_target, **settings)
        idata = complete_from_statistics(idata, self.design, self._nested, settings["random_seed"])
        starts, posterior = _starts(self.design, self._terms), idata["posterior"]
        extra = statistics_notes(self.design, starts, posterior.to_dataset(), self.prior_values)
        if extra:  # the notes of an in-memory fit (bigdata_notes.py), where the statistics tell
            add_model_notes(posterior, extra)  # the cause before the remedy
        diagnostics = check_convergence(idata)
        return StatisticsFit(idata=idata, model=self, diagnostics=diagnostics, sampler=sampler)


class StatisticsFit(Fit):
    """A fit of a :class:`StatisticsModel`: what needs the rows is refused with a
    :class:`~hierbayes.errors.RowsNotKeptError` that says how to get it on a sample."""

    def loo(self) -> Any:
        """Refused: the pointwise log-likelihood needs the rows."""
        raise RowsNotKeptError(_ON_A_SAMPLE.format(what="fit.loo() (pointwise log-likelihood)"))

    def save(self, path: Any, *, overwrite: bool = False) -> Any:
        """Refused: a saved fit is rebuilt from its training rows (:mod:`hierbayes.io`)."""
        raise RowsNotKeptError(
            "A saved fit is rebuilt from its training rows, which a model fitted from Dask data "
            "does not keep: save the draws with fit.idata.to_zarr(path) (xarray), and refit "
            "from the parquet files (the same seed gives the same draws)."
        )

    def kfold(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: refitting without some rows needs the rows."""
        raise RowsNotKeptError(_ON_A_SAMPLE.format(what="fit.kfold()"))

    def pooling(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Pooling estimates per group from the statistics (see
        :func:`hierbayes.bigdata_summaries.statistics_pooling`)."""
        return statistics_pooling(self, prob=prob)

    def shrinkage(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Shrinkage factor per group from the statistics (see
        :func:`hierbayes.bigdata_summaries.statistics_shrinkage`)."""
        return statistics_shrinkage(self, prob=prob)

    def r2(self, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Bayesian R² from the sums of squares (see
        :func:`hierbayes.bigdata_summaries.statistics_r2`)."""
        return statistics_r2(self, prob=prob)

    def plot_group_lines(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: each group's line is drawn over its own rows."""
        raise RowsNotKeptError(_ON_A_SAMPLE.format(what="fit.plot_group_lines() (its points)"))

    def plot_new_groups(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: the simulated groups are drawn against the observed rows
        (``fit.simulate_new_groups`` works)."""
        raise RowsNotKeptError(_ON_A_SAMPLE.format(what="fit.plot_new_groups() (its points)"))

    def conditional_effects(self, x: str, **kwargs: Any) -> Any:
        """Refused: the grid spans ``x``'s range and holds the other predictors at their means or
        reference levels, all read from the rows."""
        raise RowsNotKeptError(
            f"fit.conditional_effects({x!r}) spans {x!r} over its range and holds the other "
            "predictors at their means or reference levels, which a model fitted from Dask data "
            "does not keep. Build the grid yourself (one row per value of "
            f"{x!r}, the other predictors fixed) and call fit.predict(grid, groups='population', "
            "summary=True): the same population-level values."
        )
