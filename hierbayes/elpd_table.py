"""The model comparison table: ELPD differences with their SEs first, and what the weights mean.

:func:`hierbayes.compare` builds it from PSIS-LOO (through ``arviz.compare``) or from exact
K-fold results (:func:`compare_kfold`, here). Either way it is a :class:`ComparisonTable`: a
DataFrame whose text and HTML displays end with notes that explain the columns.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import pandas as pd

from hierbayes.errors import DataError, HierbayesError

if TYPE_CHECKING:
    from hierbayes.comparison import KFold

__all__ = ["COLUMN_NOTES", "ComparisonTable", "compare_kfold", "stacking_weights"]

COLUMN_NOTES: dict[str, str] = {
    "elpd_diff": (
        "elpd_diff: expected log predictive density of the model minus that of the best one "
        "(0 for the best); read it with dse, the SE of that difference (a difference within "
        "about 2 dse of 0 does not separate the models)."
    ),
    "p_worse": (
        "p_worse: normal-approximation probability that the model predicts worse than the best."
    ),
    "weight": (
        "weight (stacking): the weights of the mixture of the models' predictive distributions "
        "that predicts the held-out data best. They are not probabilities that a model is true: "
        "a model that predicts well but like another one can get weight 0, and a weaker model "
        "can get weight when it predicts some observations (or groups) better."
    ),
}


class ComparisonTable(pd.DataFrame):
    """A comparison DataFrame that shows notes on its columns under the table.

    ``table.notes`` holds them; everything else is an ordinary :class:`pandas.DataFrame`.

    Examples
    --------
    >>> table = ComparisonTable({"elpd_diff": [0.0, -2.5]}, index=["a", "b"])
    >>> table.notes = ["elpd_diff: the difference to the best model."]
    >>> print(table)
       elpd_diff
    a        0.0
    b       -2.5
    <BLANKLINE>
    elpd_diff: the difference to the best model.
    """

    _metadata: ClassVar[list[str]] = ["notes"]

    @property
    def _constructor(self) -> type[ComparisonTable]:
        return ComparisonTable

    def __repr__(self) -> str:
        notes = getattr(self, "notes", None) or []
        return super().__repr__() + ("\n\n" + "\n".join(notes) if notes else "")

    def _repr_html_(self) -> str | None:
        table = super()._repr_html_()
        notes = getattr(self, "notes", None) or []
        if table is None or not notes:
            return table
        items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
        return f"{table}<ul style='font-size:smaller'>{items}</ul>"


def with_notes(
    table: pd.DataFrame, extra: list[str] | None = None, *, method: str = "stacking"
) -> ComparisonTable:
    """``table`` as a :class:`ComparisonTable` with the notes of the columns it has (``method``:
    how its weights were computed)."""
    out = ComparisonTable(table)
    notes = dict(COLUMN_NOTES)
    if method.lower() != "stacking":
        notes["weight"] = (
            f"weight ({method}): Akaike-type weights from each model's elpd (pseudo-BMA; the "
            "BB- variant accounts for the uncertainty of the elpd by the Bayesian bootstrap); "
            "like stacking weights, not probabilities that a model is true."
        )
    out.notes = [note for column, note in notes.items() if column in out.columns]
    out.notes += list(extra or [])
    return out


def stacking_weights(elpd: np.ndarray) -> np.ndarray:
    """Stacking weights of predictive distributions (Yao et al. 2018).

    Maximise ``sum_i log(sum_k w_k exp(elpd[i, k]))`` over the simplex, where ``elpd[i, k]`` is the
    log predictive density of held-out unit ``i`` under model ``k``.

    Examples
    --------
    >>> elpd = np.log(np.array([[0.9, 0.1], [0.1, 0.9]]))  # each model best for one unit
    >>> np.round(stacking_weights(elpd), 3)
    array([0.5, 0.5])
    >>> np.round(stacking_weights(np.log([[0.9, 0.1], [0.9, 0.1]])), 3)
    array([1., 0.])
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    n_models = elpd.shape[1]

    def objective(z: np.ndarray) -> float:
        log_w = z - logsumexp(z)
        return -float(np.sum(logsumexp(elpd + log_w, axis=1)))

    def gradient(z: np.ndarray) -> np.ndarray:
        log_w = z - logsumexp(z)
        joint = elpd + log_w
        resp = np.exp(joint - logsumexp(joint, axis=1, keepdims=True))  # unit x model
        return -(resp.sum(axis=0) - elpd.shape[0] * np.exp(log_w))

    result = minimize(objective, np.zeros(n_models), jac=gradient, method="BFGS")
    return softmax(result.x)


def _per_unit(cv: KFold) -> pd.Series:
    return cv.pointwise.groupby("group", sort=False)["elpd"].sum()


def compare_kfold(results: Mapping[str, KFold]) -> ComparisonTable:
    """Compare models by exact K-fold cross-validation, best model first.

    The difference of two models is computed pointwise by held-out unit (group, or observation
    with ``by="obs"``), as :class:`~hierbayes.comparison.KFold` computes its SE: with ``d_g`` the
    difference of the elpd sums of unit ``g`` (``J`` units), ``elpd_diff = sum(d_g)`` and
    ``dse = sqrt(J var(d_g))``. The weights are stacking weights over the held-out units.
    """
    names = list(results)
    first = results[names[0]]
    for name in names[1:]:
        cv = results[name]
        if cv.by != first.by or not cv.pointwise.index.equals(first.pointwise.index):
            raise DataError(
                f"K-fold results '{names[0]}' (held out by {first.by!r}, "
                f"{len(first.pointwise)} rows) and '{name}' (by {cv.by!r}, "
                f"{len(cv.pointwise)} rows) do not score the same held-out data; run kfold() with "
                "the same by= on fits of the same data."
            )
        if not np.array_equal(
            cv.pointwise["group"].to_numpy(), first.pointwise["group"].to_numpy()
        ):
            raise DataError(
                f"K-fold results '{names[0]}' and '{name}' hold out different units of "
                f"{first.by!r}; run kfold() with the same by= on fits of the same data."
            )
    units = pd.DataFrame({name: _per_unit(cv) for name, cv in results.items()})
    elpd = units.sum()
    order = list(elpd.sort_values(ascending=False).index)
    best = order[0]
    weights = dict(zip(names, stacking_weights(units[names].to_numpy()), strict=True))
    from scipy.stats import norm

    rows = []
    for rank, name in enumerate(order):
        d = units[name] - units[best]
        dse = float(np.sqrt(len(d) * np.var(d, ddof=1))) if name != best else 0.0
        diff = float(d.sum())
        rows.append(
            {
                "rank": rank,
                "elpd_diff": diff,
                "dse": dse,
                "p_worse": float(norm.cdf(0.0, diff, dse + 1e-12)) if name != best else np.nan,
                "elpd": float(elpd[name]),
                "se": results[name].se,
                "weight": weights[name],
                "k": results[name].k,
            }
        )
    table = pd.DataFrame(rows, index=pd.Index(order, name="model"))
    unit = "observations" if first.by == "obs" else f"'{first.by}' groups"
    return with_notes(
        table,
        [f"K-fold cross-validation holding out {unit}: {len(units)} units, exact refits."],
    )


def check_kinds(fits: Mapping[str, object]) -> bool:
    """Whether ``fits`` are all K-fold results (True) or all fits (False); a mix is an error."""
    from hierbayes.comparison import KFold

    kinds = {name: isinstance(value, KFold) for name, value in fits.items()}
    if all(kinds.values()):
        return True
    if not any(kinds.values()):
        return False
    kfolds = [n for n, k in kinds.items() if k]
    others = [n for n, k in kinds.items() if not k]
    raise HierbayesError(
        f"compare() got K-fold results ({', '.join(kfolds)}) and fits ({', '.join(others)}): "
        "PSIS-LOO and K-fold estimate different things (a left-out observation of a known group "
        "against left-out folds, often whole new groups), so their ELPDs are not comparable. "
        "Pass fit.kfold(...) for every model (same k, by and random_seed) or every fit for LOO."
    )
