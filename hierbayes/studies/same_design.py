"""The same model with another response: what an SBC replicate refits, built once per process.

An SBC study refits one design many times: every replicate keeps the model's predictors,
groups, trials, offsets, weights and (fixed) priors and replaces only the response. Rebuilding
the model from its recipe (:meth:`hierbayes.rebuild.Recipe.build`) would encode the same
design matrices, group codes and labels, resolve the same priors and parameterisation and
check the same predictors again for every replicate. :func:`with_response` instead takes the
model built once (per process and study, from the recipe) and puts the replicate's response
into a copy of its design: the parts of :func:`hierbayes.design.make_design` that depend on
the response are done again, in the same order and with the same checks (the response's
values and type, its scale, each predictor's scale relative to it), the rest is shared.

Everything downstream of the design that depends on the response is computed for each
replicate as for any model: the kernel's layout (the response, the log-density constant,
sufficient statistics of integrated-out effects) and the starting points, which cost about a
millisecond together. A response with a missing value goes through the full rebuild (with
``missing="drop"`` it drops rows), so the result is always the model that
``recipe.build(data, all_priors=True)`` gives; tests check that both refit to the same
draws, bit for bit, with the same seed.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from hierbayes.blas import one_blas_thread
from hierbayes.design import Design
from hierbayes.design.design import _response
from hierbayes.design.ordinal import ordinal_response
from hierbayes.design.validate import check_predictor_scale, check_response_scale
from hierbayes.errors import DataError

if TYPE_CHECKING:
    from hierbayes.model import Model
    from hierbayes.rebuild import Recipe

__all__ = ["response_design", "same_design_model", "with_response"]


def response_design(design: Design, data: pd.DataFrame) -> Design | None:
    """``design`` with the response of ``data``, checked as :func:`~hierbayes.design.make_design`
    checks it; ``None`` when the response has missing values (the full build then decides).

    Parameters
    ----------
    design : Design
        A design that keeps its data (``design.data``).
    data : DataFrame
        ``design.data`` with the response column replaced (same columns, same rows).

    Raises
    ------
    FamilyError, DataError
        As :func:`~hierbayes.design.make_design` would for this response.

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> data = m.design.data.copy()
    >>> data["Reaction"] = data["Reaction"] / 2
    >>> d = response_design(m.design, data)
    >>> bool((d.y == m.design.y / 2).all()), d.X is m.design.X
    (True, True)
    """
    if design.data is None:
        raise DataError(
            "This design keeps no data (a model from sufficient statistics): refit it from its "
            "recipe instead of replacing its response."
        )
    if list(data.columns) != list(design.data.columns) or len(data) != len(design.data):
        raise DataError(
            f"data must be the design's data ({len(design.data)} rows, columns "
            f"{list(design.data.columns)}) with only the response column replaced."
        )
    spec, family = design.spec, design.family
    name = spec.fixed.response
    if bool(data[name].isna().any()):
        return None
    data = data.reset_index(drop=True)
    levels = None
    if family.cutpoints:
        y, levels = ordinal_response(data[name], name)
    else:
        y = _response(data, spec)
    family.validate_response(y, design.trials, name)
    check_response_scale(y, family.name, name, design.trials)
    check_predictor_scale(design.X, design.fixed_columns, y, family.name)
    for block in design.blocks:
        what = f"group term {block.term}"
        check_predictor_scale(block.Z, block.columns, y, family.name, what)
    return replace(design, y=y, data=data.copy(), response_levels=levels)


def with_response(model: Model, data: pd.DataFrame) -> Model | None:
    """A copy of ``model`` on ``data`` (``model.design.data`` with another response), sharing
    the design matrices, group codes, priors and parameterisation; ``None`` when the response
    has missing values (see :func:`response_design`).

    Examples
    --------
    >>> import hierbayes as hb
    >>> m = hb.Model("Reaction ~ Days + (1 | Subject)", data=hb.datasets.load("sleepstudy"))
    >>> data = m.design.data.copy()
    >>> data["Reaction"] = data["Reaction"] + 1.0
    >>> other = with_response(m, data)
    >>> other.design.y[:2] - m.design.y[:2], other.prior_values is m.prior_values
    (array([1., 1.]), True)
    """
    design = response_design(model.design, data)
    if design is None:
        return None
    other = copy.copy(model)
    other.design = design
    other._density = None  # the compiled log-density holds the response: packed again
    other._compiled = None
    return other


@one_blas_thread
def same_design_model(base: Model, recipe: Recipe, data: pd.DataFrame) -> Model:
    """``recipe.build(data, all_priors=True)``, for ``data`` that is ``base.design.data`` with
    another response and ``base`` that recipe's model on its own data: a copy of ``base`` with
    the response replaced (:func:`with_response`), or the full build where that does not apply.
    """
    model = with_response(base, data)
    return model if model is not None else recipe.build(data, all_priors=True)
