"""Which fixed terms the compiled kernel samples inside centred group effects.

That the log-density is unchanged by it (the map is a shear) is tested against the PyMC model
in test_kernel.py, whose MODELS include each case below; here: which terms hold which columns,
with which values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density import shear_layout
from hierbayes.density.layout import make_layout


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 120
    data = pd.DataFrame(
        {
            "g": [f"g{j}" for j in rng.integers(0, 9, n)],
            "h": [f"h{j}" for j in rng.integers(0, 5, n)],
            "x": rng.normal(1.0, 1.0, n),
            "w": rng.normal(-2.0, 1.0, n),
            "k": rng.integers(0, 5, n),
            "o": rng.integers(1, 4, n),
        }
    )
    data["y"] = data.x + rng.normal(size=n)
    return data


def held(formula: str, df: pd.DataFrame, family: str, parameterization) -> dict:
    """Each sampled term's (fixed column, coefficient, value in its first group)."""
    model = hb.Model(formula, data=df, family=family, parameterization=parameterization)
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    out = {}
    for bl in layout.blocks:
        rows = zip(bl.shift_columns, bl.shift_coefficients, bl.shift_values.T, strict=True)
        out[bl.block.name] = [
            (model.design.fixed_columns[c], bl.block.columns[k], values) for c, k, values in rows
        ]
        for _, _, values in out[bl.block.name]:
            assert np.all(values == values[0])  # no group-level predictors in these models
        out[bl.block.name] = [(c, k, float(v[0])) for c, k, v in out[bl.block.name]]
    return out


CASES = [
    # both centred: the slope holds b|x, the intercept holds Intercept_c and -mean(x) b|x
    (
        "y ~ x + (1 + x | g)",
        "gaussian",
        "centered",
        {"g": [("I", "I", 1), ("x", "x", 1), ("x", "I", "-x")]},
    ),
    # two factors vary x: the one with fewer groups (h) holds it, as it holds the intercept
    (
        "y ~ x + (1 + x | g) + (1 + x | h)",
        "gaussian",
        "centered",
        {"g": [], "h": [("I", "I", 1), ("x", "x", 1), ("x", "I", "-x")]},
    ),
    # the slope in one term, the intercept in another
    (
        "k ~ x + (1 | h) + (0 + x | g)",
        "poisson",
        "centered",
        {"h": [("I", "I", 1), ("x", "I", "-x")], "g": [("x", "x", 1)]},
    ),
    # an interaction's column
    (
        "k ~ x * w + (1 + x:w | g)",
        "poisson",
        "centered",
        {"g": [("I", "I", 1), ("x:w", "x:w", 1), ("x:w", "I", "-x:w")]},
    ),
    # a non-centred slope stays outside; the centred one is held
    (
        "y ~ x + w + (1 + x + w | g)",
        "gaussian",
        {"g": ("centered", "noncentered", "centered")},
        {"g": [("I", "I", 1), ("w", "w", 1), ("w", "I", "-w")]},
    ),
    # no term holds the intercept: -mean(x) b|x would stay in the likelihood, so x stays out
    (
        "y ~ x + w + (1 + x + w | g)",
        "gaussian",
        {"g": ("noncentered", "centered", "centered")},
        {"g": []},
    ),
    # ... unless x is not centred (no intercept)
    ("y ~ 0 + x + (1 + x | g)", "gaussian", "centered", {"g": [("x", "x", 1)]}),
    # a slope without its fixed term stays as it is
    ("y ~ 1 + (1 + x | g)", "gaussian", "centered", {"g": [("I", "I", 1)]}),
    # ordinal: the cut-points, not a term's intercepts, take the predictors' means
    ("o ~ x + (1 + x | g)", "cumulative", "centered", {"g": []}),
]


@pytest.mark.parametrize(("formula", "family", "parameterization", "expected"), CASES)
def test_centred_slopes_hold_their_fixed_slope(
    df, monkeypatch, formula, family, parameterization, expected
):
    # terms as written: no slope sampled at its centre (test_sheared_slopes_hold_... below)
    monkeypatch.setattr(shear_layout, "SHEAR_AT", np.inf)

    def value(v):
        if isinstance(v, str):  # minus the mean of a column
            column = v[1:]
            data = df.x * df.w if column == "x:w" else df[column]
            return -float(data.mean())
        return float(v)

    names = {"I": "Intercept"}
    want = {
        term: [(names.get(c, c), names.get(k, k), value(v)) for c, k, v in rows]
        for term, rows in expected.items()
    }
    got = held(formula, df, family, parameterization)
    assert got.keys() == want.keys()
    for term in want:
        assert [r[:2] for r in got[term]] == [r[:2] for r in want[term]], term
        np.testing.assert_allclose([r[2] for r in got[term]], [r[2] for r in want[term]])


@pytest.mark.parametrize(
    ("parameterization", "expected"),
    [
        ("centered", [("Intercept", "Intercept", 1.0), ("w", "w", 1.0)]),
        # no term holds the intercept: a sheared slope is still held (its column is centred)
        (("noncentered", "centered"), [("w", "w", 1.0)]),
    ],
)
def test_sheared_slopes_hold_their_fixed_slope_without_a_shift(df, parameterization, expected):
    # w = -2 ± 1 is sheared (density.shear_layout): its column is centred at its fixed mean
    got = held("y ~ w + (1 + w | g)", df, "gaussian", {"g": parameterization})
    assert got == {"g": expected}


def test_a_weighted_mean_goes_into_the_intercepts(df):
    """With likelihood weights the fixed part is centred at the weighted means."""
    data = df.assign(wt=np.linspace(0.2, 3.0, len(df)))
    model = hb.Model("y ~ x + (1 + x | g)", data=data, weights="wt", parameterization="centered")
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    (bl,) = layout.blocks
    assert bl.shift_coefficients == (0, 1, 0)
    mean = np.average(data.x, weights=data.wt)
    np.testing.assert_allclose(bl.shift_values[:, 2], -mean)


def test_an_own_parameters_terms_hold_nothing(df):
    model = hb.Model(
        "y ~ x + (1 + x | g)",
        data=df,
        sigma="~ x + (1 + x | h)",
        parameterization="centered",
    )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert layout.dpar is not None
    assert layout.blocks[0].shift_coefficients == (0, 1, 0)
    assert all(not bl.intercept_shift for bl in layout.dpar.blocks)


def test_a_slopes_interaction_with_a_group_level_predictor_is_held_with_its_values(df):
    """``x:gl`` with ``gl`` constant within g: coefficient x of group j holds ``gl_j b|x:gl``
    (and the intercept ``-mean(x gl) b|x:gl``), so the likelihood sees each group's own slope."""
    data = df.assign(gl=df.g.str[1:].astype(float) * 0.3 - 1.0)
    model = hb.Model("y ~ x * gl + (1 + x | g)", data=data, parameterization="centered")
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    (bl,) = layout.blocks
    names = [
        (model.design.fixed_columns[c], bl.block.columns[k])
        for c, k in zip(bl.shift_columns, bl.shift_coefficients, strict=True)
    ]
    assert names == [
        ("Intercept", "Intercept"),
        ("gl", "Intercept"),
        ("x", "x"),
        ("x", "Intercept"),
        ("x:gl", "x"),
        ("x:gl", "Intercept"),
    ]
    gl = data.groupby("g")["gl"].first().loc[[str(v) for v in bl.block.levels]].to_numpy()
    np.testing.assert_allclose(bl.shift_values[:, 1], gl - data.gl.mean(), atol=1e-12)
    np.testing.assert_allclose(bl.shift_values[:, 4], gl, rtol=1e-12)
    np.testing.assert_allclose(bl.shift_values[:, 5], -(data.x * data.gl).mean(), rtol=1e-12)
