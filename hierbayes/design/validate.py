"""Checks of the data a model is built from, before anything is encoded or sampled.

Each check raises a :class:`~hierbayes.errors.DataError` (or :class:`~hierbayes.errors.FamilyError`
for a response the family's numerics cannot hold) that names the column, group or value and says
what to do.

Scale limits (float64, justified where they are defined):

* a gaussian response must satisfy ``max|y| * sqrt(n) <= 1e150``: the residual sum of squares,
  ``sd(y)`` for the default priors and the kernel's sufficient statistics square the response;
  past ``sqrt(1.8e308) = 1.3e154`` the squares overflow, and the default prior scales then
  silently fell back to 1. The 1e4 margin covers the quadratic forms with prior scale factors.
* and, when it varies, ``1e-10 <= sd(y) <= 1e12``. Long before anything overflows, the sampler
  fails: its parameters are in the response's units, and nutpie starts at unit scale (initial
  points jittered by ±1, unit mass matrix). Measured on 10 groups x 10 rows, y = 10**k x
  (1 + u_g + 0.5 x + e), 2 chains x 200 draws after 300 tuning steps: k from -10 to 10 sample
  well (R-hat <= 1.02, no divergences), k = 12 is marginal (R-hat 1.05), k = 14, 16, 18, 20, 50,
  100, 150 stall (R-hat 1.5 to 2.5, the slope's mean 1e8 times too small at k = 100), and
  k = -15 and -30 diverge on every draw.
* a predictor's coefficient lives on the scale ``s_y / sd(x)`` (``s_y = sd(y)`` for gaussian,
  1 on the link scale otherwise), which must lie in ``[1e-10, 1e10]``: for the same reason, a
  coefficient far from unit scale stalls the sampler. Measured as above with x scaled by 10**k:
  k = -10 and 10 sample well (R-hat 1.01), k = -14 (R-hat 1.3), -16 (R-hat 1.9), 14 (every draw
  divergent) and 16 fail. Such a predictor used to be reported as collinear with the intercept;
  the rank rule is now scale-aware (:mod:`hierbayes.linalg`), and this check says what is wrong.
* counts (poisson, binomial successes and trials) must satisfy
  ``eps * sum(y * log(y)) <= 0.01``: the log-likelihood of a count ``y`` is a difference of
  terms of size ``y log y`` (``y * eta - exp(eta) - lgamma(y + 1)``), so its rounding error is
  about ``eps * y * log(y)``. NUTS accepts or rejects a trajectory on differences of the
  log-density of order 1; once the rounding of the sum reaches 0.01 nats the sampler steers by
  rounding noise (100 counts of 1e12 reach 0.6 nats; the sampler sat at its start point with
  every draw divergent). Counts are counts and cannot be rescaled: model a rate with an offset,
  or the log of a large count with a gaussian family.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hierbayes.errors import DataError, FamilyError

__all__ = [
    "COEFFICIENT_SCALE_RANGE",
    "COUNT_ROUNDING_LIMIT",
    "GAUSSIAN_SCALE_LIMIT",
    "GAUSSIAN_SD_RANGE",
    "check_frame",
    "check_group_labels",
    "check_predictor_scale",
    "check_response_scale",
    "check_used_columns",
]

GAUSSIAN_SCALE_LIMIT = 1e150
GAUSSIAN_SD_RANGE = (1e-10, 1e12)
COEFFICIENT_SCALE_RANGE = (1e-10, 1e10)
COUNT_ROUNDING_LIMIT = 0.01
# families whose response enters on its own scale (the checks of gaussian) or through log y
_IDENTITY_SCALE = ("gaussian", "student_t")
_LOG_SCALE = ("gamma", "lognormal")


def check_frame(data: pd.DataFrame) -> None:
    """Column names must be unique, flat labels.

    Examples
    --------
    >>> df = pd.DataFrame([[1.0, 2.0]], columns=["x", "x"])
    >>> check_frame(df)
    Traceback (most recent call last):
    ...
    hierbayes.errors.DataError: The data has duplicate column name(s) 'x'; ...
    """
    if isinstance(data.columns, pd.MultiIndex):
        raise DataError(
            f"The data has MultiIndex (hierarchical) columns such as {data.columns[0]!r}; "
            "flatten them to single names first, e.g. "
            "data.columns = ['_'.join(map(str, c)) for c in data.columns]."
        )
    duplicated = data.columns[data.columns.duplicated()].unique().tolist()
    if duplicated:
        raise DataError(
            f"The data has duplicate column name(s) {', '.join(repr(c) for c in duplicated)}; "
            "a formula cannot tell them apart. Rename or drop the copies."
        )


def check_used_columns(data: pd.DataFrame, names: Sequence[str], factors: Sequence[str]) -> None:
    """Columns the formula uses: no ``Intercept`` column, no date or complex predictors.

    ``factors`` are grouping columns, which may hold any labels (dates included).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 2.0], "Intercept": [1.0, 1.0]})
    >>> check_used_columns(df, ["y", "Intercept"], [])
    Traceback (most recent call last):
    ...
    hierbayes.errors.DataError: The data has a column named 'Intercept', ...
    """
    if "Intercept" in names:
        raise DataError(
            "The data has a column named 'Intercept', which the formula uses; hierbayes names "
            "the model's own intercept 'Intercept', so the two would be confused. Rename the "
            "column (the intercept is in every model unless the formula says 0 + or - 1)."
        )
    for name in names:
        if name in factors or name not in data.columns:
            continue
        dtype = data[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
            raise DataError(
                f"Column '{name}' holds dates ({dtype}); a predictor must be a number or a "
                f"category. Convert it, e.g. days since the first date: "
                f"(data['{name}'] - data['{name}'].min()).dt.days, or the year as a category."
            )
        if pd.api.types.is_timedelta64_dtype(dtype):
            raise DataError(
                f"Column '{name}' holds time spans ({dtype}); convert it to a number of units, "
                f"e.g. data['{name}'].dt.total_seconds() / 3600 for hours."
            )
        if pd.api.types.is_complex_dtype(dtype):
            raise DataError(f"Column '{name}' holds complex numbers; use real numbers.")


def check_group_labels(factor: Sequence[str], keys: pd.Index, labels: Sequence[str]) -> None:
    """Every group of ``factor`` must get its own label.

    ``keys`` are the distinct values (tuples for an interaction ``g1:g2``), ``labels`` the text
    labels made from them. ``1`` and ``"1"`` (or ``1.0`` and ``"1"``) are different groups with
    one label; so are the pairs ``("a", "b:c")`` and ``("a:b", "c")`` of ``g1:g2``.

    Examples
    --------
    >>> check_group_labels(("g",), pd.Index([1, "1"], dtype=object), ["1", "1"])
    Traceback (most recent call last):
    ...
    hierbayes.errors.DataError: Grouping factor 'g' has different values with the same label ...
    """
    seen: dict[str, object] = {}
    for key, label in zip(keys, labels, strict=True):
        if label in seen:
            name = ":".join(factor)

            def show(value: object) -> str:
                parts = value if isinstance(value, tuple) else (value,)
                return ", ".join(f"{v!r} ({type(v).__name__})" for v in parts)

            hint = (
                "Make the column one type, e.g. data['{0}'] = data['{0}'].astype(str)."
                if len(factor) == 1
                else "Use labels without ':' in these columns, or combine them yourself."
            ).format(factor[0])
            raise DataError(
                f"Grouping factor '{name}' has different values with the same label "
                f"{label!r}: {show(seen[label])} and {show(key)}. {hint}"
            )
        seen[label] = key


def _robust_sd(y: np.ndarray) -> float:
    """Sample SD without overflow or underflow of the squares."""
    if y.size < 2:
        return 0.0
    dev = y - np.mean(y)
    top = float(np.max(np.abs(dev)))
    if top == 0 or not np.isfinite(top):
        return 0.0 if top == 0 else float("inf")
    return top * float(np.std(dev / top, ddof=1))


def check_response_scale(
    y: np.ndarray, family: str, name: str, trials: np.ndarray | None = None
) -> None:
    """Refuse a response whose scale breaks float64 numerics (limits in the module docstring).

    Examples
    --------
    >>> check_response_scale(np.array([1e160, 2e160]), "gaussian", "y")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FamilyError: Response 'y' reaches 2e+160: ...
    """
    n = max(int(np.size(y)), 1)
    if family in _LOG_SCALE:  # modelled through log y: any positive scale is fine
        return
    if family in _IDENTITY_SCALE:
        top = float(np.max(np.abs(y))) if np.size(y) else 0.0
        if top * np.sqrt(n) > GAUSSIAN_SCALE_LIMIT:
            raise FamilyError(
                f"Response '{name}' reaches {top:.3g}: its squares overflow float64 "
                f"(max|y| x sqrt(n) must stay below {GAUSSIAN_SCALE_LIMIT:.0e}). Rescale it, "
                f"e.g. divide by 10**{int(np.floor(np.log10(top)))} or model np.log({name})."
            )
        sd = _robust_sd(np.asarray(y, dtype=float))
        low, high = GAUSSIAN_SD_RANGE
        if sd > 0 and not low <= sd <= high:
            factor = int(np.floor(np.log10(sd)))
            how = f"divide by 10**{factor}" if sd > high else f"multiply by 10**{-factor}"
            raise FamilyError(
                f"Response '{name}' has standard deviation {sd:.3g}, outside "
                f"[{low:.0e}, {high:.0e}], where the sampler, which starts at unit scale, "
                f"fails (it stalls or every draw diverges). Rescale it, e.g. {how}, and scale "
                "the results back."
            )
        return
    counts = [(f"Response '{name}'", np.asarray(y, dtype=float))]
    if trials is not None:
        counts.append(("The number of trials", np.asarray(trials, dtype=float)))
    for what, values in counts:
        v = np.abs(values)
        with np.errstate(over="ignore", invalid="ignore"):
            rounding = float(np.finfo(float).eps * np.sum(v * np.log(np.maximum(v, 1.0))))
        if not np.isfinite(rounding) or rounding > COUNT_ROUNDING_LIMIT:
            raise FamilyError(
                f"{what} has counts up to {float(np.max(v)):.3g}: at that size float64 rounding "
                f"of the {family} log-likelihood ({rounding:.2g} nats, limit "
                f"{COUNT_ROUNDING_LIMIT}) swamps the differences the sampler steers by. Counts "
                "cannot be rescaled: model the rate with fewer, smaller counts, or "
                f"np.log({name}) with the gaussian family."
            )


def check_predictor_scale(
    X: np.ndarray, columns: Sequence[str], y: np.ndarray, family: str, what: str = "fixed-effect"
) -> None:
    """Refuse a predictor whose coefficient's scale, ``s_y / sd(x)``, the sampler cannot handle.

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), 1e16 * np.arange(4.0)])
    >>> check_predictor_scale(X, ("Intercept", "x"), np.arange(4.0), "gaussian")
    Traceback (most recent call last):
    ...
    hierbayes.errors.DataError: The fixed-effect column 'x' has standard deviation 1.29e+16, ...
    """
    s_y = _robust_sd(np.asarray(y, dtype=float)) if family in _IDENTITY_SCALE else 1.0
    if not s_y > 0:
        return
    low, high = COEFFICIENT_SCALE_RANGE
    for k, column in enumerate(columns):
        sd = _robust_sd(np.asarray(X[:, k], dtype=float))
        if sd > 0 and not low <= s_y / sd <= high:
            factor = int(np.floor(np.log10(sd)))
            how = f"divide it by 10**{factor}" if factor > 0 else f"multiply it by 10**{-factor}"
            raise DataError(
                f"The {what} column '{column}' has standard deviation {sd:.3g}, so its "
                f"coefficient would be of order {s_y / sd:.1g}, outside [{low:.0e}, {high:.0e}] "
                f"where the sampler, which starts at unit scale, fails. Rescale it ({how}) and "
                "scale its coefficient back."
            )
