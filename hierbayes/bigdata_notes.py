"""The notes a plain fit gets, for a fit from sufficient statistics (:mod:`hierbayes.bigdata`).

:meth:`hierbayes.Model.fit` adds two notes to the sampling notes (``fit.summary()`` prints
them): the default shape prior's pull (:func:`hierbayes.prior_pull.shape_prior_notes`, read off
the posterior draws, so it applies as is; Dask data fit gaussian models, which have no shape)
and the varying slope far from 0 (:func:`hierbayes.uncentred_note.uncentred_slope_notes`),
which reads each group column's mean and SD. A model fitted from Dask data keeps no rows, but
its statistics hold those moments exactly: with the intercept's column of ones, the sums of
``Z'Z`` over the groups give ``Σ z`` and ``Σ z²`` of every column. The note is then asked of a
stand-in design whose columns have three rows with the data's mean and SD (ddof 0), so it says
what the in-memory fit says. Where the statistics cannot tell, nothing is said: a column that
takes at most two values in the rows read for the encoding (the note skips 0/1 columns, and
the statistics do not count distinct values) gets no note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from hierbayes.design import Design, GroupBlock
from hierbayes.prior_pull import shape_prior_notes
from hierbayes.uncentred_note import uncentred_slope_notes

if TYPE_CHECKING:
    from hierbayes.design.dask_stats import Statistics

__all__ = ["slope_moments", "statistics_notes"]

_SPREAD = math.sqrt(1.5)  # -1, 0, +1 times this: population SD 1


def slope_moments(
    stats: Statistics, start: int, columns: tuple[str, ...]
) -> dict[str, tuple[float, float]]:
    """Mean and SD (ddof 0) of each column of a group term with an intercept, from the sums of
    ``Z'Z`` (``start``: the term's first column there); empty without an intercept.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> z = np.column_stack([np.ones(4), [8.0, 10.0, 12.0, 14.0]])
    >>> stats = SimpleNamespace(n=4, ztz=(z.T @ z)[None])
    >>> slope_moments(stats, 0, ("Intercept", "age"))
    {'age': (11.0, 2.23606797749979)}
    """
    if "Intercept" not in columns:
        return {}
    total = np.asarray(stats.ztz, dtype=float).sum(axis=0)
    one = start + columns.index("Intercept")
    out = {}
    for k, name in enumerate(columns):
        if name == "Intercept":
            continue
        mean = float(total[one, start + k]) / stats.n
        var = float(total[start + k, start + k]) / stats.n - mean * mean
        out[name] = (mean, math.sqrt(var) if var > 0 else 0.0)
    return out


def _stand_in(design: Design, starts: Mapping[str, int]) -> Design:
    """A three-row design whose group columns have the data's means and SDs; a column that
    takes at most two values in the encoded rows is kept at two values (no note)."""
    blocks = []
    stats = design.statistics  # type: ignore[attr-defined]
    for block in design.blocks:
        read = np.asarray(object.__getattribute__(block, "Z"))  # the rows read for the encoding
        moments = slope_moments(stats, starts[block.name], block.columns)
        Z = np.zeros((3, len(block.columns)))
        for k, name in enumerate(block.columns):
            if name == "Intercept":
                Z[:, k] = 1.0
            elif name in moments and len(np.unique(read[:, k])) > 2:
                mean, sd = moments[name]
                Z[:, k] = mean + sd * _SPREAD * np.array([-1.0, 0.0, 1.0])
            else:
                Z[:, k] = [0.0, 1.0, 0.0]
        blocks.append(
            GroupBlock(
                name=block.name,
                factor=block.factor,
                term=block.term,
                columns=block.columns,
                Z=Z,
                codes=np.zeros(3, dtype=np.int64),
                levels=block.levels,
                formulaic_spec=block.formulaic_spec,
            )
        )
    return Design(
        spec=design.spec,
        family=design.family,
        y=np.zeros(3),
        trials=None,
        X=np.zeros((3, len(design.fixed_columns))),
        fixed_columns=design.fixed_columns,
        blocks=tuple(blocks),
        fixed_formulaic_spec=design.fixed_formulaic_spec,
    )


def statistics_notes(
    design: Design,
    starts: Mapping[str, int],
    posterior: xr.Dataset,
    priors: Mapping[str, object],
) -> tuple[str, ...]:
    """The notes :meth:`hierbayes.Model.fit` gives, for a
    :class:`~hierbayes.bigdata.StatisticsDesign` (``starts``: each group term's first column in
    the statistics' ``Z``)."""
    notes = shape_prior_notes(posterior, priors)
    return notes + uncentred_slope_notes(_stand_in(design, starts))
