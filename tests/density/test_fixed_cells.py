"""The fixed part of the linear predictor by cells of rows (density.fixed_cells) gives the column
loops' log-density and gradient: the same model's kernel with and without its cells, at random
points, agree to 1e-12 relative, across families, offsets, likelihood weights, centred,
hierarchically centred, expanded and non-centred effects, and a linear predictor of σ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.codes import (
    A_META,
    B_HC,
    M_CELLS,
    N_GLOBAL,
    P_HC_COLS,
    P_META,
    PER_BLOCK,
)
from hierbayes.density.fixed_cells import choose_cells
from hierbayes.density.kernel import logp_grad
from hierbayes.density.layout import Layout, make_layout


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    """600 rows, four factors (nine dummies), a covariate, 30 groups crossed with 12 others and
    a factor constant within the 30 groups."""
    rng = np.random.default_rng(11)
    n = 600
    g = rng.integers(0, 30, n)
    data = pd.DataFrame(
        {
            "a": rng.choice(list("pqrs"), n),
            "b": rng.choice(list("tuvw"), n),
            "c": rng.choice(list("xyz"), n),
            "d": rng.choice(["lo", "hi"], n),
            "gl": np.where(g % 3 == 0, "g0", "g1"),
            "x": rng.normal(size=n),
            "w": rng.normal(0.0, 0.3, n),
            "wt": rng.uniform(0.5, 2.0, n),
            "g": g.astype(str),
            "h": rng.integers(0, 12, n).astype(str),
        }
    )
    eta = 0.3 * (data["a"] == "q") - 0.5 * (data["c"] == "z") + 0.4 * data["x"] + rng.normal(0, 0.5)
    data["y"] = eta + rng.normal(size=n)
    data["yb"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    data["k"] = rng.poisson(np.exp(eta))
    return data


FIXED = "a + b + c + d + x"
CASES = [
    (f"y ~ {FIXED} + offset(w) + (1 | g)", "gaussian", "noncentered", {}),
    (f"yb ~ {FIXED} + offset(w) + (1 | g) + (1 | h)", "bernoulli", "noncentered", {}),
    (f"yb ~ {FIXED} + (1 | g)", "bernoulli", "centered", {"weights": "wt"}),
    (f"k ~ {FIXED} + gl + offset(w) + (1 + x | g)", "poisson", "centered", {}),
    (f"k ~ {FIXED} + gl + (1 | g) + (1 | h)", "poisson", "centered", {}),
    (f"yb ~ {FIXED} + (1 | g)", "bernoulli", "expanded", {}),
    (f"y ~ {FIXED} + (1 | g)", "gaussian", "noncentered", {"sigma": "~ x + (1 | g)"}),
]


def _without_cells(layout: Layout) -> tuple[np.ndarray, list[np.ndarray]]:
    """The layout's table with the cells switched off (and the arrays it points into)."""
    arrays = list(layout.arrays)
    meta = arrays[A_META].copy()
    meta[M_CELLS] = 0
    arrays[A_META] = meta
    table = np.empty(1 + 2 * len(arrays), dtype=np.int64)
    table[0] = len(arrays)
    for k, a in enumerate(arrays):
        table[1 + 2 * k] = a.ctypes.data
        table[2 + 2 * k] = a.size
    return table, arrays


@pytest.mark.parametrize(("formula", "family", "parameterization", "extra"), CASES)
def test_cells_give_the_column_loops_log_density_and_gradient(
    df, formula, family, parameterization, extra
):
    model = hb.Model(formula, df, family=family, parameterization=parameterization, **extra)
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    meta = layout.arrays[A_META]
    assert meta[M_CELLS] > 0  # the model's fixed part does go through cells
    cols = layout.arrays[meta[M_CELLS]][2:]
    for b in range(len(layout.blocks)):  # columns held by centred effects stay out of them
        base = N_GLOBAL + b * PER_BLOCK
        held = layout.arrays[base + P_HC_COLS][: layout.arrays[base + P_META][B_HC]]
        assert not set(held) & set(cols)
    table, keep = _without_cells(layout)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = layout.center + rng.normal(0.0, 0.5, layout.n_dim)
        g1, g0 = np.empty(layout.n_dim), np.empty(layout.n_dim)
        v1, v0 = logp_grad(x, layout.table, g1), logp_grad(x, table, g0)
        assert np.isfinite(v0)
        assert v1 == pytest.approx(v0, rel=1e-12)
        np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-12 * np.abs(g0).max())
    assert keep[A_META][M_CELLS] == 0


def test_hierarchically_centred_columns_are_left_to_the_effects(df):
    model = hb.Model(
        f"k ~ {FIXED} + gl + (1 | g)", df, family="poisson", parameterization="centered"
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    held = layout.arrays[N_GLOBAL + P_HC_COLS][: layout.arrays[N_GLOBAL + P_META][B_HC]]
    assert held.size >= 2  # the intercept and gl: inside the effects, not in the cells
    cols = layout.arrays[layout.arrays[A_META][M_CELLS]][2:]
    assert not set(held) & set(cols)


def test_cells_reproduce_the_columns_and_are_skipped_when_not_worth_it():
    rng = np.random.default_rng(0)
    n = 2000
    W = np.column_stack([np.ones(n), rng.integers(0, 2, (n, 7)), rng.normal(size=n)])
    skip = np.zeros(9, dtype=bool)
    cols, codes, values = choose_cells(W, skip)
    assert cols.tolist() == list(range(8))  # the continuous column stays out
    np.testing.assert_array_equal(values.T[codes], W[:, cols])
    skip[3] = True
    assert 3 not in choose_cells(W, skip)[0]
    # two dummies: one gather and one scatter per row cost more than their multiply-adds
    assert choose_cells(W[:, :3], np.zeros(3, dtype=bool))[0].size == 0


def _plain_choose_cells(W: np.ndarray, skip: np.ndarray) -> tuple:
    """:func:`choose_cells` written out: every prefix's cells by a unique of its whole rows."""
    n, p = W.shape
    candidates = [c for c in range(p) if not skip[c]]
    distinct = {c: np.unique(W[:, c]).size for c in candidates}
    candidates = [c for c in sorted(candidates, key=lambda c: distinct[c]) if distinct[c] < n]
    best, best_saving = 0, 0.0
    for m in range(1, len(candidates) + 1):
        K = np.unique(W[:, candidates[:m]], axis=0).shape[0]
        saving = m * (n - K) - 6.0 * n
        if saving > best_saving:
            best, best_saving = m, saving
        if K > n // 2:
            break
    if best == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 0))
    cols = np.sort(np.asarray(candidates[:best], dtype=np.int64))
    rows, codes = np.unique(W[:, cols], axis=0, return_inverse=True)
    return cols, codes.ravel().astype(np.int64), np.ascontiguousarray(rows.T)


@pytest.mark.parametrize("case", ["dummies", "signed zeros", "many values", "nan", "skipped"])
def test_cells_are_the_whole_row_uniques(case: str) -> None:
    """Prefixes' cell counts from the last prefix's cells and the next column choose the same
    columns, cells and values as uniques of whole rows."""
    rng = np.random.default_rng(9)
    n = 3000
    W = np.column_stack(
        [
            np.ones(n),
            rng.integers(0, 2, (n, 8)).astype(float),
            rng.integers(0, 7, n) / 3.0,
            rng.integers(0, 40, (n, 3)).astype(float),
            rng.normal(size=n),
        ]
    )
    skip = np.zeros(W.shape[1], dtype=bool)
    if case == "signed zeros":
        flip = (W[:, 1:9] == 0.0) & (rng.random((n, 8)) < 0.5)
        W[:, 1:9] = np.where(flip, -0.0, W[:, 1:9])  # -0.0 and 0.0
        assert np.signbit(W[:, 1:9][flip]).all()
    elif case == "many values":
        W[:, 10:13] = rng.integers(0, 400, (n, 3))
    elif case == "nan":
        W[rng.integers(0, n, 30), 2] = np.nan
    elif case == "skipped":
        skip[[0, 3]] = True
    found = choose_cells(W, skip)
    expected = _plain_choose_cells(W, skip)
    assert found[0].size > 0
    for a, b in zip(found, expected, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
