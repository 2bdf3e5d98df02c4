"""Sufficient statistics from Dask partitions against the same sums over the whole frame."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from hierbayes.design import make_design
from hierbayes.design.dask_stats import check_encoding, data_statistics, skeleton_frame
from hierbayes.errors import DataError, ModelSpecError
from hierbayes.spec import parse_formula


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 90
    return pd.DataFrame(
        {
            "y": rng.normal(10.0, 3.0, size=n),
            "x": rng.normal(2.0, 1.0, size=n),
            "g": rng.choice(["a", "b", "c", "d"], size=n),
        }
    )


def test_statistics_are_the_sums_over_every_row() -> None:
    df = _frame()
    ddf = dd.from_pandas(df, npartitions=4)
    spec = parse_formula("y ~ x + (1 + x | g)")
    design = make_design(spec, skeleton_frame(ddf, ["y", "x", "g"], ["g"]))
    stats = data_statistics(ddf, design, ["y", "x", "g"])
    xbar, ybar = df.x.mean(), df.y.mean()
    W = np.column_stack([np.ones(len(df)), df.x - xbar])
    yc = df.y.to_numpy() - ybar
    assert stats.n == 90
    assert stats.shift == pytest.approx(ybar, rel=1e-14)
    np.testing.assert_allclose(stats.means, [xbar], rtol=1e-14)
    np.testing.assert_allclose(stats.wtw, W.T @ W, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(stats.wty, W.T @ yc, rtol=1e-12, atol=1e-10)
    assert stats.yty == pytest.approx(yc @ yc, rel=1e-12)
    for j, (label, rows) in enumerate(df.groupby("g", sort=True)):
        assert design.blocks[0].levels[j] == label
        Z = np.column_stack([np.ones(len(rows)), rows.x])
        Wj = np.column_stack([np.ones(len(rows)), rows.x - xbar])
        np.testing.assert_allclose(stats.ztz[j], Z.T @ Z, rtol=1e-12)
        np.testing.assert_allclose(stats.ztw[j], Z.T @ Wj, rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(stats.zty[j], Z.T @ (rows.y - ybar), rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(stats.zty_raw[j], Z.T @ rows.y, rtol=1e-12)
        assert stats.counts[j] == len(rows)
    assert stats.y_sd == pytest.approx(df.y.std(), rel=1e-12)
    np.testing.assert_allclose(stats.x_sd, [1.0, df.x.std()], rtol=1e-12)
    np.testing.assert_allclose(stats.z_sd, [1.0, df.x.std()], rtol=1e-10)


def test_transforms_fitted_to_the_column_are_refused() -> None:
    design = make_design(parse_formula("y ~ scale(x) + (1 | g)"), _frame())
    with pytest.raises(ModelSpecError, match=r"'scale\(x\)' in the fixed effects.*ddf\.assign"):
        check_encoding(design)


def test_empty_partitions_add_nothing() -> None:
    df = _frame().assign(x=lambda d: np.sort(np.random.default_rng(2).uniform(size=len(d))))
    ddf = dd.from_pandas(df, npartitions=4)
    kept = ddf[ddf.x < 0.5]
    sizes = kept.map_partitions(len).compute().tolist()
    assert sizes[-1] == 0 and sum(sizes) == int((df.x < 0.5).sum())
    sub = df[df.x < 0.5].reset_index(drop=True)
    spec = parse_formula("y ~ x + (1 + x | g)")
    design = make_design(spec, skeleton_frame(kept, ["y", "x", "g"], ["g"]))
    stats = data_statistics(kept, design, ["y", "x", "g"])
    whole = data_statistics(dd.from_pandas(sub, npartitions=1), design, ["y", "x", "g"])
    assert stats.n == whole.n == len(sub)
    for name in ("wtw", "wty", "ztz", "ztw", "zty", "zty_raw", "ztx_raw", "x_sd", "z_sd"):
        a, b = getattr(stats, name), getattr(whole, name)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max(), err_msg=name)
    np.testing.assert_array_equal(stats.counts, whole.counts)


def test_rank_is_decided_on_every_row_not_on_the_skeleton() -> None:
    df = _frame().sort_values("x").reset_index(drop=True)
    df["w"] = np.where(np.arange(len(df)) < 60, 0.0, df.x)  # zero on the first rows only
    ddf = dd.from_pandas(df, npartitions=3)
    skeleton = df.iloc[:30]
    with pytest.raises(DataError, match=r"'w' is a linear combination"):
        make_design(parse_formula("y ~ x + w + (1 | g)"), skeleton)
    design = make_design(parse_formula("y ~ x + w + (1 | g)"), skeleton, check_rank=False)
    stats = data_statistics(ddf, design, ["y", "x", "w", "g"])
    assert stats.wtw.shape == (3, 3)
    # exactly confounded on every row: the in-memory message, with the factor R of X
    df["v"] = 2.0 * df.x - 3.0
    design = make_design(parse_formula("y ~ x + v + (1 | g)"), df.iloc[:30], check_rank=False)
    with pytest.raises(DataError, match=r"'v' is a linear combination .*\(Intercept, x\)"):
        data_statistics(dd.from_pandas(df, npartitions=3), design, ["y", "x", "v", "g"])
