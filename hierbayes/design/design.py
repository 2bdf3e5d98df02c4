"""From a :class:`~hierbayes.spec.ModelSpec` and data to numeric arrays with named coordinates.

The random-effect design is kept per group term as a small dense block ``Z`` (n x q) plus integer
group codes, never as an n x (J*q) matrix. Formulaic's model specs are kept so new data can be
encoded exactly as the training data was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from formulaic import ModelSpec as FormulaicSpec

from hierbayes.design.dpar import (
    DparDesign,
    check_dpar_columns,
    check_dpar_family,
    dpar_variables,
    make_dpar_design,
)
from hierbayes.design.level2 import Level2Input, merge_level2
from hierbayes.design.matrices import _check_columns as _check_columns
from hierbayes.design.matrices import _check_finite as _check_finite
from hierbayes.design.matrices import _check_rank as _check_rank
from hierbayes.design.matrices import _group_codes as _group_codes
from hierbayes.design.matrices import _label as _label
from hierbayes.design.matrices import _matrix as _matrix
from hierbayes.design.matrices import _response as _response
from hierbayes.design.matrices import encode_like_training, required_variables
from hierbayes.design.missing import drop_missing
from hierbayes.design.offset import offset_values
from hierbayes.design.ordinal import drop_intercept, ordinal_response
from hierbayes.design.proportions import check_binomial_proportions
from hierbayes.design.validate import (
    check_frame,
    check_predictor_scale,
    check_response_scale,
    check_used_columns,
)
from hierbayes.design.weights import weight_values
from hierbayes.errors import (
    ArgumentError,
    DataError,
    FamilyError,
)
from hierbayes.families import Family, get_family
from hierbayes.spec import GroupTerm, ModelSpec
from hierbayes.spec.safety import check_offset
from hierbayes.spec.variables import column_names

__all__ = [
    "Design",
    "GroupBlock",
    "categorical_variables",
    "encode_like_training",
    "is_continuous",
    "make_design",
    "required_variables",
]


@dataclass(frozen=True, eq=False)
class GroupBlock:
    """The design of one group term: ``Z`` (n x q), group codes (n,) and their labels.

    Attributes
    ----------
    name : str
        Unique name of the block: the factor name, with ``.2``, ``.3`` appended when a factor has
        several terms (``(1 | g) + (0 + x | g)``), as lme4 does.
    factor : str
        Grouping factor, e.g. ``"school"`` or ``"g1:g2"``.
    term : GroupTerm
        The parsed group term.
    columns : tuple of str
        Names of the varying coefficients, e.g. ``("Intercept", "cses")``.
    Z : ndarray, shape (n, q)
    codes : ndarray of int, shape (n,)
        Index of each observation's group in ``levels``.
    levels : tuple of str
        Group labels.
    formulaic_spec : formulaic.ModelSpec
        Encoding state of ``Z``.
    """

    name: str
    factor: str
    term: GroupTerm
    columns: tuple[str, ...]
    Z: np.ndarray
    codes: np.ndarray
    levels: tuple[str, ...]
    formulaic_spec: FormulaicSpec

    @property
    def correlated(self) -> bool:
        """Whether the block's coefficients have a full covariance matrix."""
        return self.term.correlated and len(self.columns) > 1

    @property
    def term_dim(self) -> str:
        """Name of the dimension that holds this block's coefficient names."""
        return f"{self.name}__term"

    @property
    def counts(self) -> np.ndarray:
        """Number of observations in each group."""
        return np.bincount(self.codes, minlength=len(self.levels))


@dataclass(frozen=True, eq=False)
class Design:
    """Numeric design of a multilevel model (see :func:`make_design`).

    ``data`` holds the variables the model uses (level-2 columns merged, index reset, one row per
    row of ``X``), for summaries that evaluate the model at new values of its predictors.
    """

    spec: ModelSpec
    family: Family
    y: np.ndarray
    trials: np.ndarray | None
    X: np.ndarray
    fixed_columns: tuple[str, ...]
    blocks: tuple[GroupBlock, ...]
    fixed_formulaic_spec: FormulaicSpec
    level2_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    data: pd.DataFrame | None = None
    offset: np.ndarray | None = None
    weights: np.ndarray | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    kept: np.ndarray | None = None
    n_dropped: int = 0
    response_levels: tuple[str, ...] | None = None
    dpar: DparDesign | None = None  # of sigma="~ ..." (hierbayes.design.dpar)

    @property
    def offset_or_zero(self) -> np.ndarray:
        """The summed offsets of each row (zeros without offsets)."""
        return self.offset if self.offset is not None else np.zeros(self.n_obs)

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.y.shape[0])

    def block(self, name: str) -> GroupBlock:
        """The group block called ``name``."""
        for block in (*self.blocks, *(self.dpar.blocks if self.dpar is not None else ())):
            if block.name == name:
                return block
        raise KeyError(f"No group term named {name!r}; have {[b.name for b in self.blocks]}.")


def categorical_variables(design: Design) -> frozenset[str]:
    """Data columns that enter the model through a categorical encoding.

    A string or categorical column, and a numeric column wrapped in ``C()``, are categorical: the
    model has one coefficient per level, so they cannot be moved along a numeric grid.

    Examples
    --------
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [1, 2, 1, 2], "w": [0.1, 0.5, 0.2, 0.3],
    ...                    "g": ["a", "a", "b", "b"]})
    >>> sorted(categorical_variables(make_design(parse_formula("y ~ C(x) + w + (1 | g)"), df)))
    ['x']
    """
    names: set[str] = set()
    for spec in (design.fixed_formulaic_spec, *(b.formulaic_spec for b in design.blocks)):
        for expr, (kind, _) in spec.encoder_state.items():
            if getattr(kind, "value", kind) == "categorical":
                names |= set(column_names(f"0 + {expr}"))
    return frozenset(names)


def is_continuous(design: Design, name: str) -> bool:
    """Whether column ``name`` enters the model as a number (see :func:`categorical_variables`)."""
    assert design.data is not None
    column = design.data[name]
    numeric = column.dtype != bool and pd.api.types.is_numeric_dtype(column)
    return numeric and name not in categorical_variables(design)


def make_design(
    spec: ModelSpec,
    data: pd.DataFrame,
    *,
    level2: Level2Input | None = None,
    family: str | Family = "gaussian",
    trials: str | None = None,
    offset: str | None = None,
    weights: str | None = None,
    missing: str = "raise",
    link: str | None = None,
    sigma: ModelSpec | None = None,
    check_rank: bool = True,
) -> Design:
    """Encode ``data`` for the model described by ``spec``.

    Parameters
    ----------
    spec : ModelSpec
    data : DataFrame
        One row per observation.
    level2 : mapping, optional
        Group-level tables or declared group-level columns; see
        :func:`~hierbayes.design.level2.merge_level2`.
    family : str or Family
    trials : str, optional
        Column with binomial trials, when the formula does not name it with ``trials()``.
    offset : str, optional
        Column added to the linear predictor with coefficient 1 (as ``offset(column)`` in the
        formula, with which it adds up).
    weights : str, optional
        Column of likelihood weights: each row's log-likelihood counts this many times
        (brms's ``weights()``; see :mod:`hierbayes.design.weights`).
    missing : {"raise", "drop"}
        Missing values in a column the model uses: an error naming the column and rows
        (default), or drop those rows with a warning (see :mod:`hierbayes.design.missing`);
        ``dropped`` then holds the missing count per column and ``kept`` the mask of the
        rows of ``data`` that were modelled.
    link : str, optional
        The family's link (``None``: its default); see
        :func:`hierbayes.families.get_family`.
    sigma : ModelSpec, optional
        Formula of ``log σ`` (:func:`hierbayes.spec.dpar.parse_dpar_formula`); its design is
        ``dpar`` (:mod:`hierbayes.design.dpar`).
    check_rank : bool
        Refuse fixed-effect columns that are linear combinations of those before them (default).
        ``False`` when ``data`` is a sample of the rows whose rank is checked elsewhere (Dask data:
        :func:`hierbayes.design.dask_stats.data_statistics`).

    Returns
    -------
    Design

    Examples
    --------
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 2.5, 4.0], "x": [0.0, 1.0, 0.0, 1.0],
    ...                    "g": ["a", "a", "b", "b"]})
    >>> d = make_design(parse_formula("y ~ x + (1 | g)"), df)
    >>> d.fixed_columns, d.blocks[0].levels, d.blocks[0].codes.tolist()
    (('Intercept', 'x'), ('a', 'b'), [0, 0, 1, 1])
    """
    if not isinstance(data, pd.DataFrame):
        raise ArgumentError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    check_frame(data)
    fam = get_family(family, link)
    if trials is not None and spec.fixed.trials is not None and trials != spec.fixed.trials:
        raise DataError(
            f"Trials given twice: trials({spec.fixed.trials}) in the formula and "
            f"trials='{trials}'. Keep one."
        )
    if trials is not None and not isinstance(trials, str):
        raise ArgumentError(f"trials must be a column name, got {type(trials).__name__}.")
    trials_name = spec.fixed.trials or trials
    if trials_name is not None and spec.fixed.trials is None:
        from dataclasses import replace

        spec = replace(spec, fixed=replace(spec.fixed, trials=trials_name))
    if offset is not None:
        from dataclasses import replace

        if not isinstance(offset, str):
            raise ArgumentError(f"offset must be a column name, got {type(offset).__name__}.")
        check_offset(offset)  # text from the caller reaches formulaic below: data, not code
        spec = replace(spec, fixed=replace(spec.fixed, offsets=(*spec.fixed.offsets, offset)))
    data, level2_columns = merge_level2(data, level2)
    needed = required_variables(spec)
    if sigma is not None:
        check_dpar_family(fam, sigma.fixed.response, sigma.formula)
        check_dpar_columns(sigma, data)
        needed = needed + [v for v in dpar_variables(sigma) if v not in needed]
    if weights is not None:
        if not isinstance(weights, str) or weights not in data.columns:
            weight_values(data, weights)  # the error that names it
        needed = needed + ([weights] if weights not in needed else [])
    data, kept, dropped = drop_missing(data, needed, missing)
    _check_columns(data, needed, level2_columns)
    predictors = [n for n in needed if n != spec.fixed.response]
    check_used_columns(data, predictors, [f for g in spec.groups for f in g.factor])
    if len(data) == 0:
        raise DataError("The data has no rows.")
    data = data.reset_index(drop=True)
    for name in needed:
        # levels that never occur (left over from subsetting) would give all-zero columns
        if isinstance(data[name].dtype, pd.CategoricalDtype) and not (
            fam.cutpoints and name == spec.fixed.response  # an ordinal scale keeps its categories
        ):
            data[name] = data[name].cat.remove_unused_categories()

    response_levels = None
    if fam.cutpoints and spec.fixed.response in data.columns:
        y, response_levels = ordinal_response(data[spec.fixed.response], spec.fixed.response)
    else:
        y = _response(data, spec)
    trials_values = None if trials_name is None else data[trials_name].to_numpy(dtype=float)
    if trials_name is not None and not fam.needs_trials:
        raise FamilyError(
            f"trials({trials_name}) only applies to the binomial family, not {fam.name}."
        )
    if fam.needs_trials:  # lme4's proportions with weights= get the fix, not a count error
        check_binomial_proportions(
            y,
            spec.fixed.response,
            trials=trials_name,
            weights=weights,
            weight_values=None if weights is None else weight_values(data, weights),
        )
    fam.validate_response(y, trials_values, spec.fixed.response)
    check_response_scale(y, fam.name, spec.fixed.response, trials_values)

    X, fixed_columns, fixed_spec = _matrix(spec.fixed.expr, data, "the fixed effects")
    if check_rank:
        _check_rank(X, fixed_columns)
    if fam.cutpoints:  # the cut-points take the place of the intercept
        X, fixed_columns = drop_intercept(X, fixed_columns, spec.fixed.response)
    check_predictor_scale(X, fixed_columns, y, fam.name)

    blocks: list[GroupBlock] = []
    seen: dict[str, int] = {}
    for group in spec.groups:
        seen[group.factor_name] = seen.get(group.factor_name, 0) + 1
        count = seen[group.factor_name]
        name = group.factor_name if count == 1 else f"{group.factor_name}.{count}"
        Z, columns, z_spec = _matrix(group.expr, data, f"the group term {group}")
        check_predictor_scale(Z, columns, y, fam.name, f"group term {group}")
        codes, levels = _group_codes(data, group.factor)
        if len(levels) < 2:
            raise DataError(
                f"Grouping factor '{group.factor_name}' has a single level ({levels[0]!r}): a "
                "group-level variance needs at least two groups. Drop the term."
            )
        blocks.append(GroupBlock(name, group.factor_name, group, columns, Z, codes, levels, z_spec))

    return Design(
        spec=spec,
        family=fam,
        y=y,
        trials=trials_values,
        X=X,
        fixed_columns=fixed_columns,
        blocks=tuple(blocks),
        fixed_formulaic_spec=fixed_spec,
        level2_columns=level2_columns,
        data=data[needed].copy(),
        offset=offset_values(spec.fixed.offsets, data),
        weights=None if weights is None else weight_values(data, weights),
        dropped=dropped,
        kept=kept if dropped else None,
        n_dropped=int((~kept).sum()),
        response_levels=response_levels,
        dpar=None if sigma is None else make_dpar_design(sigma, data),
    )
