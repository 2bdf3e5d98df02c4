"""The equations (:func:`hierbayes.equations.equations`) of a model fitted from Dask data.

The equations need no rows but one fact about them: at which level each predictor varies (a
predictor constant within the groups of a factor is written in that factor's equations, as the
in-memory path finds from its rows). :func:`statistics_equations` asks Dask, in one pass, for the
number of distinct values of every predictor within the groups of every grouping factor, declares
the ones constant within a factor's groups as that factor's level-2 columns (as ``level2=``
would), and writes the equations of a stand-in design that carries the model's encoding, group
labels and nesting but whose own values vary within every group.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from hierbayes.bigdata_summaries import leaf_groups
from hierbayes.design import Design, GroupBlock
from hierbayes.design.design import required_variables

if TYPE_CHECKING:
    from hierbayes.bigdata import StatisticsModel
    from hierbayes.equations import Equations

__all__ = ["constant_within", "statistics_equations"]


def _fields(obj: Any, cls: type) -> dict[str, Any]:
    """The dataclass fields of ``obj`` as stored (a statistics design refuses some reads)."""
    return {f.name: object.__getattribute__(obj, f.name) for f in dataclasses.fields(cls)}


def constant_within(ddf: Any, design: Design) -> dict[str, tuple[str, ...]]:
    """For each grouping factor, the model's predictors that take one value within each of its
    groups, from every row of ``ddf`` (one Dask computation).

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import pandas as pd
    >>> from hierbayes.design import make_design
    >>> from hierbayes.spec import parse_formula
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [1.0, 2, 3, 4], "w": [5.0, 5, 6, 6],
    ...                    "g": list("aabb")})
    >>> d = make_design(parse_formula("y ~ x + w + (1 | g)"), df)
    >>> constant_within(dd.from_pandas(df, npartitions=2), d)
    {'g': ('w',)}
    """
    import dask

    spec = design.spec
    groups = {b.factor: list(b.term.factor) for b in design.blocks}
    keys = {c for cols in groups.values() for c in cols}
    candidates = [
        v
        for v in required_variables(spec)
        if v not in keys and v != spec.response and v in ddf.columns
    ]
    jobs = [
        ddf.groupby(cols)[v].nunique().max()  # the rows have no missing values
        for cols in groups.values()
        for v in candidates
    ]
    counts = iter(dask.compute(*jobs))
    found = {}
    for factor in groups:
        found[factor] = tuple(v for v in candidates if int(next(counts)) <= 1)
    return found


def statistics_equations(
    model: StatisticsModel, notation: str = "rb", form: str = "both", *, priors: bool = True
) -> Equations:
    """:func:`hierbayes.equations.equations` of a model fitted from Dask data (see the module
    docstring); the same text as the model fitted in memory.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=dd.from_pandas(sleep, 2))
    >>> print(m.equations(form="combined", priors=False))
    Combined:
      Reaction_ij = γ_00 + γ_10·Days_ij + u_0j + r_ij,   r_ij ~ N(0, σ²)
      u_0j ~ N(0, τ_00)
    """
    from hierbayes.equations import equations

    design = model.design
    n_leaves = len(design.statistics.counts)
    rows = 2 * n_leaves  # two rows a group of the statistics, whose values differ
    groups = leaf_groups(design, model._nested, n_leaves)
    blocks = []
    for b in design.blocks:
        codes = np.repeat(groups[b.factor], 2)
        fields = _fields(b, GroupBlock) | {"codes": codes, "Z": np.zeros((rows, len(b.columns)))}
        blocks.append(GroupBlock(**fields))
    declared = dict(_fields(design, Design)["level2_columns"])
    for factor, columns in constant_within(model._data, design).items():
        declared[factor] = tuple(dict.fromkeys((*declared.get(factor, ()), *columns)))
    varying = np.tile([0.0, 1.0], n_leaves)
    stand_in = Design(
        **_fields(design, Design)
        | {
            "y": varying,
            "X": np.tile(varying[:, None], (1, len(design.fixed_columns))),
            "blocks": tuple(blocks),
            "data": None,
            "offset": None,
            "weights": None,
            "trials": None,
            "level2_columns": declared,
        }
    )
    proxy = SimpleNamespace(design=stand_in, prior_values=model.prior_values)
    return equations(proxy, notation, form, priors=priors)  # type: ignore[arg-type]
