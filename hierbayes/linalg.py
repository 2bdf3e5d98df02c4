"""Scale-aware rank decisions: one rule for every identifiability check in hierbayes.

Whether a column is a linear combination of others must not depend on the units of the data, nor
on the last bits of a BLAS library. NumPy's ``matrix_rank`` and ``lstsq(rcond=None)`` compare
singular values with the *largest* one, so a predictor measured in units 1e-16 times those of the
intercept is declared collinear with it, and a column that is exactly confounded but whose
rounding residue happens to be large relative to a tiny matrix is not.

The rule here: divide every column by a reference norm (by default its own Euclidean norm, so a
column's scale cannot matter; callers that project columns first, such as the within-group fit of
:mod:`hierbayes.summaries.nopool`, pass the norms *before* projecting, so a column that the
projection annihilates is seen as such), then take a QR decomposition with column pivoting. A
column counts as independent when its diagonal entry of ``R`` exceeds :func:`rank_tolerance`
times the largest one. The tolerance is relative (units do not matter) and far above rounding
(a column confounded exactly leaves a residue of about 1e-16 on unit-norm columns, whatever the
machine), and far below the residue of any column the data can tell apart: a column whose part
outside the span of the others is under 1e-9 of its norm has a condition number above 1e9, and
its coefficient is not identified in any useful sense.

Examples
--------
>>> import numpy as np
>>> x = np.array([1.0, 2.0, 3.0, 4.0])
>>> X = np.column_stack([np.ones(4), 1e-16 * x])
>>> np.linalg.matrix_rank(X), numerical_rank(X)
(np.int64(1), 2)
>>> first_dependent_column(np.column_stack([np.ones(4), x, 2 * x - 1]))
2
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

__all__ = [
    "RANK_RTOL",
    "column_scale",
    "first_dependent_column",
    "numerical_rank",
    "rank_tolerance",
    "scaled_lstsq",
    "segment_ranks",
]

RANK_RTOL = 1e-9
# largest magnitudes of a single column whose squares neither overflow nor underflow
_PLAIN = (1e-100, 1e100)


def rank_tolerance(n_rows: int, n_columns: int) -> float:
    """Relative threshold on the pivoted-QR diagonal: ``max(1e-9, 10 eps max(n, p))``.

    The second term only matters beyond ~450,000 rows, where accumulated rounding in a column
    norm can approach 1e-9.

    Examples
    --------
    >>> rank_tolerance(100, 3)
    1e-09
    """
    return max(RANK_RTOL, 10.0 * float(np.finfo(float).eps) * max(n_rows, n_columns))


def column_scale(A: np.ndarray) -> np.ndarray:
    """Euclidean norm of each column of ``A`` (the default reference scale).

    Examples
    --------
    >>> column_scale(np.array([[3.0, 0.0], [4.0, 0.0]])).tolist()
    [5.0, 0.0]
    """
    return np.sqrt(np.einsum("ij,ij->j", A, A)) if A.size else np.zeros(A.shape[1])


def _standardized(A: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    A = np.asarray(A, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"expected a 2-d matrix, got shape {A.shape}")
    ref = column_scale(A) if scale is None else np.asarray(scale, dtype=float)
    out = np.zeros_like(A)
    usable = (ref > 0) & np.isfinite(ref)
    # a column with a zero reference norm is all zeros: dependent on anything
    out[:, usable] = A[:, usable] / ref[usable]
    return out


def numerical_rank(
    A: np.ndarray, *, scale: np.ndarray | None = None, n_rows: int | None = None
) -> int:
    """Rank of ``A`` after scaling each column by ``scale`` (default: its own norm).

    Parameters
    ----------
    A : ndarray, shape (n, p)
    scale : ndarray, shape (p,), optional
        Reference norm of each column. Pass the norms of the columns before a projection to
        ask whether the projection left anything of them.
    n_rows : int, optional
        Rows of the data behind ``A`` for :func:`rank_tolerance` (default ``A``'s own), when
        ``A`` is the triangular factor ``R`` of a taller matrix (``R'R = X'X``).

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 4.0])
    >>> numerical_rank(np.column_stack([np.ones(3), 1e16 * x]))
    2
    >>> numerical_rank(np.column_stack([x, x]))
    1
    """
    As = _standardized(A, scale)
    n, p = As.shape
    if p == 0 or n == 0:
        return 0
    R = scipy.linalg.qr(As, mode="r", pivoting=True)[0]
    # unit reference norms: the largest diagonal is 1 unless a projection shrank every column
    diag = np.abs(np.diag(R))
    return int(np.sum(diag > rank_tolerance(n if n_rows is None else n_rows, p)))


def segment_ranks(column: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """:func:`numerical_rank` of each segment ``column[bounds[j]:bounds[j + 1]]`` of one column,
    as a one-column matrix, without a QR decomposition where the answer is certain.

    A segment of exact zeros has rank 0. One whose largest magnitude lies in ``[1e-100, 1e100]``
    (finite, its squares far from overflow and underflow) has rank 1: scaled by its own norm it
    has norm 1 to rounding, whatever the machine, far above :func:`rank_tolerance`. Any other
    (NaN, infinite or extreme values) is decided by :func:`numerical_rank` itself, so each rank
    is the one it gives.

    Parameters
    ----------
    column : ndarray, shape (n,)
    bounds : ndarray of int, shape (J + 1,)
        Non-decreasing segment boundaries (e.g. the groups of a sorted factor).

    Returns
    -------
    ndarray of int, shape (J,)

    Raises
    ------
    ValueError
        When the boundaries decrease or leave the column.

    Examples
    --------
    >>> column = np.array([0.0, 0.0, 2.0, -1.0, 1e-300, np.nan])
    >>> segment_ranks(column, np.array([0, 2, 4, 5, 6, 6])).tolist()  # 1e-300² underflows
    [0, 1, 0, 0, 0]
    """
    column = np.asarray(column, dtype=float)
    bounds = np.asarray(bounds, dtype=np.int64)
    if column.ndim != 1 or bounds.ndim != 1 or len(bounds) == 0:
        raise ValueError("segment_ranks needs one column and at least one segment boundary")
    sizes = np.diff(bounds)
    if np.any(sizes < 0) or bounds[0] < 0 or bounds[-1] > len(column):
        raise ValueError(
            f"segment boundaries must be non-decreasing within 0..{len(column)} (the column's "
            f"length), got {bounds.min()}..{bounds.max()}"
            + (" out of order" if np.any(sizes < 0) else "")
        )
    ranks = np.zeros(len(sizes), dtype=np.int64)
    filled = sizes > 0
    if not filled.any():
        return ranks
    first, last = int(bounds[0]), int(bounds[-1])
    peak = np.zeros(len(sizes))
    # each filled segment's reduction runs to the next filled one's start: its own end
    peak[filled] = np.maximum.reduceat(np.abs(column[first:last]), bounds[:-1][filled] - first)
    plain = filled & (peak >= _PLAIN[0]) & (peak <= _PLAIN[1])
    # :func:`rank_tolerance` of each segment (far below 1 unless it held ~1e14 rows)
    plain &= np.maximum(RANK_RTOL, 10.0 * float(np.finfo(float).eps) * np.maximum(sizes, 1)) < 0.5
    ranks[plain] = 1
    for j in np.flatnonzero(filled & ~plain & (peak != 0.0)):
        ranks[j] = numerical_rank(column[bounds[j] : bounds[j + 1], None])
    return ranks


def first_dependent_column(
    A: np.ndarray, *, scale: np.ndarray | None = None, n_rows: int | None = None
) -> int | None:
    """Index of the first column of ``A`` that is a linear combination of the columns before it.

    ``None`` when ``A`` has full column rank (by :func:`numerical_rank`, with its ``scale`` and
    ``n_rows``).

    Examples
    --------
    >>> first_dependent_column(np.eye(3)) is None
    True
    >>> first_dependent_column(np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]]))
    1
    """
    A = np.asarray(A, dtype=float)
    p = A.shape[1]
    ref = column_scale(A) if scale is None else np.asarray(scale, dtype=float)
    if numerical_rank(A, scale=ref, n_rows=n_rows) == p:
        return None
    for k in range(1, p + 1):
        if numerical_rank(A[:, :k], scale=ref[:k], n_rows=n_rows) < k:
            return k - 1
    return None  # pragma: no cover - a deficient matrix has a deficient prefix


def scaled_lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of ``b`` on ``A``, insensitive to the columns' units.

    Solves on unit-norm columns with the relative cutoff of :func:`rank_tolerance` (a column
    confounded with the others gets the minimum-norm share) and rescales.

    Examples
    --------
    >>> A = np.column_stack([np.ones(4), 1e-14 * np.arange(4.0)])
    >>> np.round(scaled_lstsq(A, 1.0 + 2.0 * np.arange(4.0)) * [1, 1e-14], 6).tolist()
    [1.0, 2.0]
    """
    A = np.asarray(A, dtype=float)
    ref = column_scale(A)
    ref = np.where((ref > 0) & np.isfinite(ref), ref, 1.0)
    n, p = A.shape
    coef = np.linalg.lstsq(A / ref, b, rcond=rank_tolerance(n, p))[0]
    return coef / (ref if coef.ndim == 1 else ref[:, None])
