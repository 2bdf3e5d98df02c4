"""Per-group sufficient statistics of a gaussian model from a Dask DataFrame.

A gaussian model whose only grouping factor, or whose nested factors, are integrated out needs
only its data's sums of cross products: overall ``W'W``, ``W'y``, ``y'y`` (``W = [1, X -
mean(X)]``) and, per group (of the bottom level), ``Z'Z``, ``Z'W``, ``Z'y`` with ``Z`` every
integrated-out term's columns (:mod:`hierbayes.density.marginal`,
:mod:`hierbayes.density.nested_marginal`). :func:`data_statistics` computes
them with Dask, on whatever scheduler or cluster the user's client points at, in two passes over
the partitions, each a map (every partition encoded with the one encoding of the whole data) and a
tree reduce of dense per-group arrays:

1. means of the response (after any offset) and of the fixed-effect columns, the centring the
   in-memory path uses, and the triangular factor ``R`` of the fixed-effect matrix (QR of each
   partition, the stacked factors QR'd again up the tree), on which the rank is checked by the
   in-memory rule: ``W'W`` squares the columns' condition number, so a column confounded exactly
   would leave a residue of ~1e-8 there, above the rule's tolerance, where ``R`` leaves ~1e-16;
2. the cross products, with the response and the columns centred on those means, and the
   centred sums of squares that the data-scaled default priors need.

The encoding (columns, contrasts, group labels) comes from a *skeleton*: rows of the data covering
every group and every level of every categorical variable (:func:`skeleton_frame`), encoded once
by :func:`~hierbayes.design.make_design`. Transforms whose result depends on the whole column
(``scale()``, ``center()``, splines) would be fitted to the skeleton only and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.design.design import (
    Design,
    _check_finite,
    _check_rank,
    _group_codes,
    _response,
    encode_like_training,
)
from hierbayes.design.na_hint import na_level_hint
from hierbayes.design.offset import offset_values
from hierbayes.errors import DataError, MissingValueError, ModelSpecError

__all__ = [
    "Statistics",
    "check_complete",
    "check_encoding",
    "data_statistics",
    "plain_strings",
    "skeleton_frame",
]

# rows of the first partition added to the skeleton, so that numeric columns vary as in the data
SKELETON_HEAD = 2000


@dataclass(frozen=True)
class Statistics:
    """Sums of the data of a gaussian model with its group effects integrated out (see the
    module docstring); per group means per group of the bottom level of nested factors.

    Attributes
    ----------
    n : int
        Number of rows.
    means : ndarray (p_slopes,)
        Means of the fixed-effect columns other than the intercept (subtracted in ``W``).
    shift : float
        Mean of the response minus any offset when there is an intercept (else 0), subtracted
        from it before the sums (``yc``).
    wtw, wty : ndarray
        ``W'W`` (p, p) and ``W'yc`` (p,).
    yty : float
        ``yc'yc``.
    ztz, ztw, zty : ndarray
        Per group ``Z'Z`` (J, q, q), ``Z'W`` (J, q, p), ``Z'yc`` (J, q).
    zty_raw, ztx_raw : ndarray
        Per group ``Z'(y - offset)`` (J, q) and ``Z'X`` (J, q, p) with the uncentred columns, for
        the conditional draws of the group effects.
    counts : ndarray (J,)
        Rows per group.
    y_mean, y_sd : float
        Mean and SD (ddof 1) of the response, for the default priors.
    x_sd : ndarray (p,)
        SD of each fixed-effect column (1 for the intercept).
    z_sd : ndarray (q,)
        SD of each column of ``Z`` (the group terms' columns side by side).
    """

    n: int
    means: np.ndarray
    shift: float
    wtw: np.ndarray
    wty: np.ndarray
    yty: float
    ztz: np.ndarray
    ztw: np.ndarray
    zty: np.ndarray
    zty_raw: np.ndarray
    ztx_raw: np.ndarray
    counts: np.ndarray
    y_mean: float
    y_sd: float
    x_sd: np.ndarray
    z_sd: np.ndarray


def _sd(centred_ss: float, n: int) -> float:
    """SD from a centred sum of squares, 1 when undefined (as the in-memory priors)."""
    sd = float(np.sqrt(centred_ss / (n - 1))) if n > 1 else 0.0
    return sd if np.isfinite(sd) and sd > 0 else 1.0


def plain_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python strings: Dask reads text as Arrow strings, which formulaic does
    not take for categories.

    Examples
    --------
    >>> frame = pd.DataFrame({"g": pd.array(["a", "b"], dtype="string[pyarrow]")})
    >>> plain_strings(frame)["g"].dtype
    dtype('O')
    """
    text = [
        c
        for c, t in frame.dtypes.items()
        if pd.api.types.is_string_dtype(t) and not isinstance(t, pd.CategoricalDtype)
    ]
    return frame.astype(dict.fromkeys(text, object)) if text else frame


def skeleton_frame(ddf: Any, columns: list[str], keys: list[str]) -> pd.DataFrame:
    """Rows of ``ddf`` covering every combination of the ``keys`` columns that occurs (each
    group, each level of each categorical variable), after the first rows of the data.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": ["a", "b", "a", "c"]})
    >>> sorted(skeleton_frame(dd.from_pandas(df, npartitions=2), ["y", "g"], ["g"])["g"].unique())
    ['a', 'b', 'c']
    """
    head = ddf[columns].partitions[0].head(SKELETON_HEAD, compute=True)
    if not keys:
        return plain_strings(head.reset_index(drop=True))
    distinct = ddf[columns].drop_duplicates(subset=keys).compute()
    return plain_strings(pd.concat([head, distinct], ignore_index=True))


def check_encoding(design: Design) -> None:
    """Refuse encodings that a skeleton cannot fix: transforms fitted to the whole column.

    Raises
    ------
    ModelSpecError
        Naming the transform (``scale(x)``, ``center(x)``, a spline) and saying what to do.
    """
    specs = [("the fixed effects", design.fixed_formulaic_spec)]
    specs += [(f"the group term {b.term}", b.formulaic_spec) for b in design.blocks]
    for what, spec in specs:
        state = dict(getattr(spec, "transform_state", {}) or {})
        if state:
            name = next(iter(state))
            raise ModelSpecError(
                f"'{name}' in {what} depends on the whole column (its mean, SD or knots), which "
                "a model fitted from Dask data does not hold: compute the column in the data "
                "first (e.g. ddf.assign(x_s=(ddf.x - mean) / sd)) and use it in the formula."
            )


def check_complete(part: pd.DataFrame, columns: list[str]) -> None:
    """A :class:`~hierbayes.errors.MissingValueError` naming the first column of ``columns``
    with a missing value in this part of the data, saying how to drop them with Dask."""
    missing = part[columns].isna().sum()
    if missing.any():
        name = str(missing.index[np.flatnonzero(missing.to_numpy())[0]])
        raise MissingValueError(
            f"Column '{name}' has {int(missing[name])} missing value(s) in a partition of the Dask "
            "data. hierbayes never drops rows silently: drop them first "
            f"(ddf.dropna(subset=[{name!r}])) or impute them." + na_level_hint(part[name])
        )


def _encode(
    part: pd.DataFrame,
    design: Design,
    columns: list[str],
    groups: tuple[tuple[str, ...], str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(y, y - offset, X, Z, codes)`` of one partition, encoded as the skeleton was; with
    ``groups = (terms, leaf)``, ``Z`` holds the columns of the group terms ``terms`` side by
    side and ``codes`` the groups of term ``leaf`` (else both are None)."""
    part = plain_strings(part.reset_index(drop=True))
    check_complete(part, columns)
    y = np.asarray(_response(part, design.spec), dtype=float)
    offset = offset_values(design.spec.fixed.offsets, part)
    y_off = y - offset if offset is not None else y
    X = np.asarray(
        encode_like_training(design.fixed_formulaic_spec, part, output="numpy"), dtype=float
    ).reshape(len(part), -1)
    _check_finite(X, design.fixed_columns, "the fixed effects")
    if groups is None:
        return y, y_off, X, None, None
    terms, leaf = groups
    by_name = {b.name: b for b in design.blocks}
    Zs = [
        np.asarray(
            encode_like_training(by_name[t].formulaic_spec, part, output="numpy"), dtype=float
        ).reshape(len(part), -1)
        for t in terms
    ]
    block = by_name[leaf]
    local, labels = _group_codes(part, block.term.factor)
    to_global = pd.Index(block.levels).get_indexer(list(labels))
    if (to_global < 0).any():
        bad = labels[int(np.flatnonzero(to_global < 0)[0])]
        raise DataError(
            f"Group {bad!r} of '{block.factor}' appeared in a partition but not when the groups "
            "were listed: the Dask data changed between passes. Persist it (ddf.persist()) or "
            "write it to parquet first."
        )
    Z = np.concatenate(Zs, axis=1)
    _check_finite(Z, tuple(c for t in terms for c in by_name[t].columns), "the group terms")
    return y, y_off, X, Z, to_global[local]


def _group_sums(values: np.ndarray, codes: np.ndarray, J: int) -> np.ndarray:
    """Per-group sums of the columns of ``values`` (n x k) -> (J x k)."""
    out = np.empty((J, values.shape[1]))
    for k in range(values.shape[1]):
        out[:, k] = np.bincount(codes, weights=values[:, k], minlength=J)
    return out


def _first_pass(part: pd.DataFrame, design: Design, columns: list[str]) -> dict[str, Any]:
    if len(part) == 0:
        p = len(design.fixed_columns)
        return {"n": 0, "y": 0.0, "y_off": 0.0, "x": np.zeros(p), "r": np.zeros((0, p))}
    y, y_off, X, _, _ = _encode(part, design, columns)
    # the slopes' sums as the in-memory path sums them (a copy of those columns), so that one
    # partition gives its means to the last bit
    slopes = np.array([c != "Intercept" for c in design.fixed_columns])
    x = np.zeros(X.shape[1])
    x[slopes] = X[:, slopes].sum(axis=0)
    r = np.linalg.qr(X, mode="r")
    return {"n": len(y), "y": float(y.sum()), "y_off": float(y_off.sum()), "x": x, "r": r}


def _second_pass(
    part: pd.DataFrame,
    design: Design,
    columns: list[str],
    centre: dict[str, Any],
) -> dict[str, Any]:
    if len(part) == 0:
        return _empty_second_pass(design, centre)
    y, y_off, X, Z, codes = _encode(part, design, columns, centre["groups"])
    assert Z is not None and codes is not None
    J, q = len(design.block(centre["groups"][1]).levels), Z.shape[1]
    x_mean, slopes = centre["x_mean"], centre["slopes"]
    W = X.copy()
    if centre["has_intercept"]:
        W[:, slopes] -= x_mean[slopes]
    yc = y_off - centre["shift"]
    n = len(y)
    ZW = (Z[:, :, None] * W[:, None, :]).reshape(n, -1)
    ZX = (Z[:, :, None] * X[:, None, :]).reshape(n, -1)
    ZZ = (Z[:, :, None] * Z[:, None, :]).reshape(n, -1)
    p = W.shape[1]
    dev_x = X - x_mean
    dev_z = Z - centre["z_mean"]
    return {
        "wtw": W.T @ W,
        "wty": W.T @ yc,
        "yty": float(yc @ yc),
        "ztz": _group_sums(ZZ, codes, J).reshape(J, q, q),
        "ztw": _group_sums(ZW, codes, J).reshape(J, q, p),
        "zty": _group_sums(Z * yc[:, None], codes, J),
        "zty_raw": _group_sums(Z * y_off[:, None], codes, J),
        "ztx_raw": _group_sums(ZX, codes, J).reshape(J, q, p),
        "counts": np.bincount(codes, minlength=J).astype(np.int64),
        "ss_y": float(((y - centre["y_mean"]) ** 2).sum()),
        "ss_x": (dev_x * dev_x).sum(axis=0),
        "ss_z": (dev_z * dev_z).sum(axis=0),
        "z": Z.sum(axis=0),
    }


def _empty_second_pass(design: Design, centre: dict[str, Any]) -> dict[str, Any]:
    """The second pass's sums of a partition without rows: zeros of the shapes of the others."""
    J = len(design.block(centre["groups"][1]).levels)
    p, q = len(design.fixed_columns), len(centre["z_mean"])
    return {
        "wtw": np.zeros((p, p)),
        "wty": np.zeros(p),
        "yty": 0.0,
        "ztz": np.zeros((J, q, q)),
        "ztw": np.zeros((J, q, p)),
        "zty": np.zeros((J, q)),
        "zty_raw": np.zeros((J, q)),
        "ztx_raw": np.zeros((J, q, p)),
        "counts": np.zeros(J, dtype=np.int64),
        "ss_y": 0.0,
        "ss_x": np.zeros(p),
        "ss_z": np.zeros(q),
        "z": np.zeros(q),
    }


def _add(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Sums of two parts; the triangular factors ``r`` combine by a QR of the two stacked."""
    return {
        k: np.linalg.qr(np.vstack([a[k], b[k]]), mode="r") if k == "r" else a[k] + b[k] for k in a
    }


def _tree_sum(parts: list[Any]) -> Any:
    """Pairwise sum of delayed dicts (a fixed order: the same partitions give the same sums)."""
    import dask

    while len(parts) > 1:
        parts = [
            dask.delayed(_add)(parts[k], parts[k + 1]) if k + 1 < len(parts) else parts[k]
            for k in range(0, len(parts), 2)
        ]
    return parts[0]


def _encoding_only(design: Design) -> Design:
    """``design`` without its rows: what each partition's task needs (sent to the workers)."""
    empty = np.zeros((0, 0))
    blocks = tuple(replace(b, Z=empty, codes=np.zeros(0, dtype=np.int64)) for b in design.blocks)
    return replace(design, y=np.zeros(0), X=empty, blocks=blocks, data=None, offset=None)


def data_statistics(
    ddf: Any,
    design: Design,
    columns: list[str],
    terms: tuple[str, ...] | None = None,
    leaf: str | None = None,
) -> Statistics:
    """The sums of :class:`Statistics` over every partition of ``ddf``.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
    design : Design
        The design of the skeleton (:func:`skeleton_frame`): its encoding and group labels.
    columns : list of str
        The columns the model uses (checked for missing values in every partition).
    terms : tuple of str, optional
        The group terms whose columns make ``Z``, in that order (default: all, in model order).
    leaf : str, optional
        The group term whose groups the per-group sums are over (default: the first): the
        bottom level of factors that nest.

    Returns
    -------
    Statistics
    """
    import dask

    parts = ddf[columns].to_delayed()
    encoding = dask.delayed(_encoding_only(design), pure=True)  # one small task input
    first_parts = [dask.delayed(_first_pass)(p, encoding, columns) for p in parts]
    (first,) = dask.compute(_tree_sum(first_parts))
    n = int(first["n"])
    if n == 0:
        raise DataError("The data has no rows.")
    # the in-memory rank rule on the whole data (the skeleton's design skips it: a sample of
    # the rows can be rank-deficient where the data are not); R'R = X'X, same column norms
    _check_rank(first["r"], design.fixed_columns, n_rows=n)
    has_intercept = "Intercept" in design.fixed_columns
    slopes = np.array([c != "Intercept" for c in design.fixed_columns])
    x_mean = first["x"] / n
    x_mean[~slopes] = 0.0
    # the in-memory path's means: NumPy's sum over all rows / n, here a sum of partial sums
    terms = terms or tuple(b.name for b in design.blocks)
    centre = {
        "groups": (terms, leaf or terms[0]),
        "has_intercept": has_intercept,
        "slopes": slopes,
        "x_mean": x_mean,
        "shift": first["y_off"] / n if has_intercept else 0.0,
        "y_mean": first["y"] / n,
        "z_mean": np.zeros(0),
    }
    # the means of Z's columns for their SDs: Z's sums come with the second pass, so take the
    # SDs about the first pass's estimates, exact: Σ(z - m)² = Σ(z - c)² - n (m - c)²
    q = sum(len(design.block(t).columns) for t in terms)
    centre["z_mean"] = np.zeros(q)
    second = dask.compute(
        _tree_sum([dask.delayed(_second_pass)(p, encoding, columns, centre) for p in parts])
    )[0]
    z_mean = second["z"] / n
    ss_z = second["ss_z"] - n * z_mean**2
    names = [c for t in terms for c in design.block(t).columns]
    return Statistics(
        n=n,
        means=x_mean[slopes] if has_intercept else np.zeros(int(slopes.sum())),
        shift=float(centre["shift"]),
        wtw=second["wtw"],
        wty=second["wty"],
        yty=second["yty"],
        ztz=second["ztz"],
        ztw=second["ztw"],
        zty=second["zty"],
        zty_raw=second["zty_raw"],
        ztx_raw=second["ztx_raw"],
        counts=second["counts"],
        y_mean=float(centre["y_mean"]),
        y_sd=_sd(second["ss_y"], n),
        x_sd=np.array(
            [
                1.0 if c == "Intercept" else _sd(s, n)
                for c, s in zip(design.fixed_columns, second["ss_x"], strict=True)
            ]
        ),
        z_sd=np.array(
            [1.0 if c == "Intercept" else _sd(s, n) for c, s in zip(names, ss_z, strict=True)]
        ),
    )
