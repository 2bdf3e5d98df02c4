"""Simulate whole new groups: their effects, coefficients and, when asked, their observations.

"Imagine 1000 new schools": each simulated group takes one posterior draw of the parameters
(chosen at random, so parameter uncertainty is carried along), draws its effects from that draw's
population distribution ``N(0, T)`` with the estimated correlations, and, given level-1 predictor
values, its expected responses and simulated observations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hierbayes.build import response_name
from hierbayes.design import Design, GroupBlock
from hierbayes.design.na_hint import na_level_hint
from hierbayes.errors import (
    ArgumentError,
    DataError,
    Level2Error,
    MissingColumnError,
    MissingValueError,
)
from hierbayes.families.cumulative import expected_category
from hierbayes.frames import as_pandas
from hierbayes.predict.dpar import dpar_draws, new_groups_dpar
from hierbayes.predict.draws import PosteriorDraws, new_group_effects, posterior_draws
from hierbayes.predict.encode import block_matrix, encode, predictor_variables
from hierbayes.predict.ordinal import labels_of
from hierbayes.predict.response import sample_response
from hierbayes.summaries.tables import unaligned_terms
from hierbayes.validate import check_count, check_seed

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = [
    "SimulatedGroups",
    "choose_factor",
    "level1_variables",
    "level2_variables",
    "simulate_new_groups",
]


@dataclass(frozen=True)
class SimulatedGroups:
    """Simulated new groups of one grouping factor.

    Attributes
    ----------
    factor : str
        The grouping factor whose new groups were simulated.
    coefficients : DataFrame
        One row per group and varying coefficient: ``group`` (label), ``chain`` and ``draw`` (the
        posterior draw the group used), ``term``, ``effect`` (the group's deviation ``u``) and
        ``coefficient`` (population effect plus deviation, as :func:`hierbayes.summaries.coef`
        defines it).
    groups : DataFrame
        One row per group: ``group``, ``chain``, ``draw`` and its level-2 predictors.
    data : DataFrame or None
        One row per simulated observation: ``group``, ``chain``, ``draw``, the predictor values,
        ``linear`` (linear predictor), ``mean`` (expected response) and, when observations were
        asked for, the simulated response. ``None`` when no level-1 rows were asked for.
    """

    factor: str
    coefficients: pd.DataFrame
    groups: pd.DataFrame
    data: pd.DataFrame | None

    def __repr__(self) -> str:
        from hierbayes.reprs import simulated_groups_text

        return simulated_groups_text(self)


def level2_variables(design: Design) -> list[str]:
    """Level-2 columns the model's predictors use, in the order of the level-2 tables."""
    used = set(predictor_variables(design))
    return [c for cols in design.level2_columns.values() for c in cols if c in used]


def level1_variables(design: Design) -> list[str]:
    """Predictor columns that are neither level-2 predictors nor grouping factors."""
    factors = {name for block in design.blocks for name in block.term.factor}
    level2 = set(level2_variables(design))
    return [v for v in predictor_variables(design) if v not in factors | level2]


def choose_factor(design: Design, factor: str | None) -> str:
    """``factor``, checked, or the model's only grouping factor."""
    factors = list(dict.fromkeys(block.factor for block in design.blocks))
    if not factors:
        raise DataError("This model has no group-level terms, so it has no groups to simulate.")
    if factor is None:
        if len(factors) > 1:
            raise DataError(
                f"This model has several grouping factors ({', '.join(factors)}): say which one "
                "to simulate new groups of, e.g. factor='" + factors[0] + "'."
            )
        return factors[0]
    if factor not in factors:
        raise DataError(f"Unknown grouping factor {factor!r}; this model has {factors}.")
    return factor


def _labels(design: Design, n_groups: int) -> list[str]:
    taken = {label for block in design.blocks for label in block.levels}
    prefix = "new"
    while any(f"{prefix}{j}" in taken for j in range(1, n_groups + 1)):
        prefix = "_" + prefix
    return [f"{prefix}{j}" for j in range(1, n_groups + 1)]


def _level2_values(
    design: Design,
    factor: str,
    level2: Mapping[str, Any] | pd.DataFrame | str | None,
    n_groups: int,
    provided: set[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    needed = [c for c in level2_variables(design) if c not in provided]
    if not needed:
        return pd.DataFrame(index=range(n_groups))
    if level2 is None:
        raise Level2Error(
            f"New groups need values of the level-2 predictor(s) {', '.join(needed)}: pass "
            f"level2={{{', '.join(repr(c) + ': ...' for c in needed)}}} (the same for every "
            "group), a DataFrame with one row per new group, or level2='sample' to draw them "
            "from the groups the model was fitted to."
        )
    if isinstance(level2, str):
        if level2 != "sample":
            raise ArgumentError(f"level2 must be a dict, a DataFrame or 'sample', got {level2!r}.")
        own = design.level2_columns.get(factor, ())
        foreign = [c for c in needed if c not in own]
        if foreign or design.data is None:
            raise Level2Error(
                f"level2='sample' draws level-2 rows of '{factor}' groups, but "
                f"{', '.join(foreign)} belong(s) to another factor: give their values instead."
            )
        table = design.data.groupby(factor, sort=True, observed=True)[needed].first()
        rows = rng.integers(0, len(table), size=n_groups)
        return table.iloc[rows].reset_index(drop=True)
    if isinstance(level2, pd.DataFrame):
        if len(level2) != n_groups:
            raise Level2Error(
                f"The level-2 table has {len(level2)} rows; it needs one per new group "
                f"({n_groups})."
            )
        table = level2.reset_index(drop=True)
    elif isinstance(level2, Mapping):
        table = pd.DataFrame({k: [v] * n_groups for k, v in level2.items()})
    else:
        raise ArgumentError(
            f"level2 must be a dict, a DataFrame or 'sample', got {type(level2).__name__}."
        )
    absent = [c for c in needed if c not in table.columns]
    if absent:
        raise MissingColumnError(
            f"level2 lacks the level-2 predictor(s) {', '.join(repr(c) for c in absent)}."
        )
    for column in needed:
        missing = table[column].isna().to_numpy()
        if missing.any():
            raise MissingValueError(
                f"level2's '{column}' has {int(missing.sum())} missing value(s) (new groups "
                f"{np.flatnonzero(missing)[:5].tolist()}); every new group needs a value."
                + na_level_hint(table[column])
            )
    return table[needed]


def _level1_rows(
    design: Design,
    x: pd.DataFrame | None,
    n_per_group: int | None,
    n_groups: int,
    observations: bool,
    rng: np.random.Generator,
) -> list[pd.DataFrame] | None:
    if x is not None:
        if not isinstance(x, pd.DataFrame) or len(x) == 0:
            raise ArgumentError("x must be a non-empty DataFrame of level-1 predictor values.")
        return [x.reset_index(drop=True)] * n_groups
    if n_per_group is None:
        if observations:
            raise ArgumentError("observations=True needs rows: pass x or n_per_group.")
        return None
    if not isinstance(n_per_group, int | np.integer) or n_per_group < 1:
        raise ArgumentError(f"n_per_group must be a positive integer, got {n_per_group!r}.")
    if design.data is None:
        raise DataError("This design does not keep its training data to resample rows from.")
    columns = level1_variables(design)
    if design.spec.fixed.trials is not None:
        columns.append(design.spec.fixed.trials)
    pool = design.data[columns]
    picks = rng.integers(0, len(pool), size=(n_groups, int(n_per_group)))
    return [pool.iloc[rows].reset_index(drop=True) for rows in picks]


def simulate_new_groups(
    fit: Fit,
    n_groups: int = 1000,
    *,
    factor: str | None = None,
    x: pd.DataFrame | None = None,
    n_per_group: int | None = None,
    level2: Mapping[str, Any] | pd.DataFrame | str | None = None,
    observations: bool = False,
    random_seed: int | np.random.Generator | None = None,
) -> SimulatedGroups:
    """Simulate ``n_groups`` new groups of ``factor`` from the fitted model.

    Each new group takes one posterior draw at random and draws its effects from that draw's
    ``N(0, T)``, keeping the estimated correlations between its coefficients. Effects of other
    grouping factors are set to zero (their average group); for new groups of several factors at
    once use :func:`hierbayes.predict.predict` with ``groups="new"``.

    Parameters
    ----------
    fit : Fit
    n_groups : int
        Number of new groups.
    factor : str, optional
        Grouping factor (needed when the model has several).
    x : DataFrame, optional
        Level-1 predictor values; every new group gets all these rows (e.g. a grid of ``cses``
        values to draw each group's line).
    n_per_group : int, optional
        Instead of ``x``: each new group gets this many rows of level-1 predictors drawn at random
        (with replacement) from the training data, like a new group whose members resemble the
        observed ones.
    level2 : dict, DataFrame or "sample"
        Level-2 predictors of the new groups (needed when the model has any): a dict of values
        shared by every group, a DataFrame with one row per new group, or ``"sample"`` to take
        each new group's values from a randomly chosen training group.
    observations : bool
        Also simulate each row's response (the family's noise around ``mean``; binomial needs the
        trials column in ``x``).
    random_seed : int or numpy.random.Generator, optional
        The same seed gives the same groups.

    Returns
    -------
    SimulatedGroups

    Examples
    --------
    >>> import hierbayes as hb
    >>> import pandas as pd
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> sim = fit.simulate_new_groups(1000, x=pd.DataFrame({"Days": range(10)}),
    ...                               random_seed=1)  # doctest: +SKIP
    >>> sim.coefficients.groupby("term")["coefficient"].std()  # doctest: +SKIP
    """
    n_groups = check_count("n_groups", n_groups)
    x, level2 = as_pandas(x), as_pandas(level2)  # polars & co. -> pandas
    if x is not None and n_per_group is not None:
        raise ArgumentError("Give x (rows shared by every group) or n_per_group, not both.")
    design = fit.design
    factor = choose_factor(design, factor)
    rng = np.random.default_rng(check_seed(random_seed, generator=True))
    draws = posterior_draws(fit)
    n_chain, n_draw = draws.shape
    flat = rng.integers(0, n_chain * n_draw, size=n_groups)
    ci, di = flat // n_draw, flat % n_draw
    labels = _labels(design, n_groups)
    blocks = [b for b in design.blocks if b.factor == factor]
    effects = {
        b.name: new_group_effects(
            draws.sd[b.name][ci, di],
            None if draws.cor[b.name] is None else draws.cor[b.name][ci, di],
            1,
            rng,
        )[:, 0, :]
        for b in blocks
    }
    provided = set(x.columns) if isinstance(x, pd.DataFrame) else set()
    level2_table = _level2_values(design, factor, level2, n_groups, provided, rng)
    info = pd.DataFrame({"group": labels, "chain": draws.chain[ci], "draw": draws.draw[di]})
    groups_table = pd.concat([info, level2_table], axis=1)
    coefficients = _coefficients(design, draws.b[ci, di], blocks, effects, info)

    level1 = _level1_rows(design, x, n_per_group, n_groups, observations, rng)
    data = None
    if level1 is not None:
        sigma_draws = None
        if design.dpar is not None:
            sigma_draws = dpar_draws(fit.idata["posterior"].to_dataset(), design)
        data = _simulate_rows(
            draws,
            (ci, di),
            design,
            blocks,
            effects,
            level1,
            groups_table,
            observations,
            rng,
            sigma_draws,
        )
    return SimulatedGroups(factor, coefficients, groups_table, data)


def _coefficients(
    design: Design,
    b: np.ndarray,
    blocks: list[GroupBlock],
    effects: dict[str, np.ndarray],
    info: pd.DataFrame,
) -> pd.DataFrame:
    """Long table: one row per group and varying coefficient, groups in order."""
    fixed = list(design.fixed_columns)
    terms = [term for block in blocks for term in block.columns]
    u = np.concatenate([effects[block.name] for block in blocks], axis=1)  # (G, T)
    base = np.stack(
        [b[:, fixed.index(t)] if t in fixed else np.zeros(len(b)) for t in terms], axis=1
    )
    table = info.loc[info.index.repeat(len(terms))].reset_index(drop=True)
    table["term"] = np.tile(terms, len(info))
    table["effect"] = u.ravel()
    coefficient = base + u
    # a term coded unlike the fixed part ((0 + trt | g) beside treatment-coded trt) has no
    # population counterpart to add its effect to
    unaligned = unaligned_terms(fixed, terms)
    coefficient[:, [t in unaligned for t in terms]] = np.nan
    table["coefficient"] = coefficient.ravel()
    return table


def _simulate_rows(
    draws: PosteriorDraws,
    positions: tuple[np.ndarray, np.ndarray],
    design: Design,
    blocks: list[GroupBlock],
    effects: dict[str, np.ndarray],
    level1: list[pd.DataFrame],
    groups_table: pd.DataFrame,
    observations: bool,
    rng: np.random.Generator,
    sigma_draws: PosteriorDraws | None = None,
) -> pd.DataFrame:
    sizes = np.array([len(rows) for rows in level1])
    group_of_row = np.repeat(np.arange(len(level1)), sizes)
    long = pd.concat(level1, ignore_index=True)
    per_row = groups_table.iloc[group_of_row].reset_index(drop=True)
    for column in per_row.columns:
        if column not in ("group", "chain", "draw"):
            long[column] = per_row[column].to_numpy()
    encoded = encode(design, long, groups=False, trials=observations and design.family.needs_trials)
    ci, di = positions[0][group_of_row], positions[1][group_of_row]
    eta = np.einsum("np,np->n", draws.b[ci, di], encoded.X)
    if encoded.offset is not None:
        eta = eta + encoded.offset  # from the given rows
    for block in blocks:
        Z = block_matrix(block, long)
        eta = eta + (Z * effects[block.name][group_of_row]).sum(axis=1)
    out = pd.concat([per_row[["group", "chain", "draw"]], long], axis=1)
    out.insert(3, "row", np.concatenate([np.arange(s) for s in sizes]))
    out["linear"] = eta
    own = {name: value[ci, di] for name, value in draws.params.items()}
    if sigma_draws is not None and design.dpar is not None:  # sigma="~ ...": σ per row
        factor = blocks[0].factor if blocks else ""  # (lognormal's mean reads it too)
        args = (design, sigma_draws, (ci, di), factor, long, group_of_row, len(sizes), rng)
        own[design.dpar.name] = out[design.dpar.name] = new_groups_dpar(*args)
    if design.family.cutpoints:  # expected category number; draws of category labels
        out["mean"] = expected_category(eta, own["cutpoints"], design.family.link)
    else:
        out["mean"] = design.family.expected(eta, own)
    if observations:
        y = sample_response(design.family, eta, rng=rng, params=own, trials=encoded.trials)
        out[response_name(design)] = labels_of(design, y) if design.family.cutpoints else y
    return out
