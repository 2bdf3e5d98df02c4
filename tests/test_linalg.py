"""The shared rank rule: exact confounding is found, near confounding is not, at any scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierbayes.design import make_design
from hierbayes.errors import DataError
from hierbayes.linalg import (
    first_dependent_column,
    numerical_rank,
    rank_tolerance,
    scaled_lstsq,
    segment_ranks,
)
from hierbayes.spec import parse_formula

RNG = np.random.default_rng(14)
N = 200
X1 = RNG.normal(size=N)
X2 = RNG.normal(size=N)
ONES = np.ones(N)


@pytest.mark.parametrize("scale", [1e-14, 1e-8, 1.0, 1e8, 1e16])
def test_rescaled_predictors_keep_full_rank(scale: float) -> None:
    X = np.column_stack([ONES, scale * X1, X2 / scale])
    assert numerical_rank(X) == 3
    assert first_dependent_column(X) is None


@pytest.mark.parametrize("scale", [1e-14, 1.0, 1e16])
def test_exact_confounding_is_found_at_every_scale(scale: float) -> None:
    X = np.column_stack([ONES, scale * X1, X2, scale * (3.0 * X1) - 2.0 * scale * ONES])
    assert numerical_rank(X) == 3
    assert first_dependent_column(X) == 3


@pytest.mark.parametrize("gap", [1e-6, 1e-4, 1e-2])
def test_nearly_but_not_confounded_is_full_rank(gap: float) -> None:
    # the third column's part outside the span of the first two is `gap` of its norm
    X = np.column_stack([ONES, X1, X1 + gap * np.linalg.norm(X1) * _unit_orthogonal()])
    assert numerical_rank(X) == 3


def _unit_orthogonal() -> np.ndarray:
    Q, _ = np.linalg.qr(np.column_stack([ONES, X1, X2]))
    return Q[:, 2]


def test_rounding_residue_below_the_tolerance_is_dependent() -> None:
    gap = rank_tolerance(N, 3) / 100
    X = np.column_stack([ONES, X1, X1 + gap * np.linalg.norm(X1) * _unit_orthogonal()])
    assert numerical_rank(X) == 2


def test_a_projection_that_annihilates_a_column_is_judged_against_the_original_norm() -> None:
    # residue of exact confounding after projecting out (1, x1): ~1e-16 of the original norm,
    # which is the largest column left, so only the reference scale can tell it is zero
    x = 5.0 * X1 + 3.0
    Q, _ = np.linalg.qr(np.column_stack([ONES, X1]))
    residue = (x - Q @ (Q.T @ x))[:, None]
    assert numerical_rank(residue) == 1
    assert numerical_rank(residue, scale=np.array([np.linalg.norm(x)])) == 0


def test_zero_columns_are_dependent() -> None:
    assert numerical_rank(np.zeros((4, 2))) == 0
    assert first_dependent_column(np.column_stack([np.ones(4), np.zeros(4)])) == 1


def test_scaled_lstsq_recovers_coefficients_in_any_units() -> None:
    y = 1.0 + 2.0 * X1 - 0.5 * X2
    for scale in (1e-14, 1.0, 1e16):
        coef = scaled_lstsq(np.column_stack([ONES, scale * X1, X2]), y)
        np.testing.assert_allclose(coef * [1.0, scale, 1.0], [1.0, 2.0, -0.5], rtol=1e-9)


@pytest.mark.parametrize("scale", [1e-9, 1e9])
def test_design_accepts_predictors_in_tiny_or_huge_units(scale: float) -> None:
    df = pd.DataFrame({"y": X2, "x": scale * X1, "g": np.repeat(["a", "b", "c", "d"], N // 4)})
    design = make_design(parse_formula("y ~ x + (1 | g)"), df)
    assert design.fixed_columns == ("Intercept", "x")


@pytest.mark.parametrize("scale", [1e-14, 1e16])
def test_predictors_in_extreme_units_are_a_scale_error_not_collinear(scale: float) -> None:
    df = pd.DataFrame({"y": X2, "x": scale * X1, "g": np.repeat(["a", "b", "c", "d"], N // 4)})
    with pytest.raises(DataError, match=r"column 'x' has standard deviation .*Rescale it"):
        make_design(parse_formula("y ~ x + (1 | g)"), df)


def test_design_refuses_an_exact_copy_in_other_units() -> None:
    df = pd.DataFrame({"y": X2, "x": X1, "g": np.repeat(["a", "b"], N // 2)})
    df["x_milli"] = 1e-3 * df["x"]
    with pytest.raises(DataError, match="column 'x_milli' is a linear combination"):
        make_design(parse_formula("y ~ x + x_milli + (1 | g)"), df)


def test_segment_ranks_are_numerical_rank_of_each_segment() -> None:
    rng = np.random.default_rng(5)
    extremes = [0.0, -0.0, 1e-320, 1e-300, 1e-160, 1e-100, 1e100, 1e160, 1e300, np.inf, np.nan]
    pieces = [rng.normal(size=rng.integers(1, 5)) for _ in range(40)]
    pieces += [np.zeros(3), np.array([0.0, 1e-100]), np.array([1e100, -1e100])]
    pieces += [np.array([v]) for v in extremes]
    pieces += [np.array([v, 1.0]) for v in extremes] + [np.array([v, 0.0, v]) for v in extremes]
    pieces.insert(7, np.zeros(0))  # an empty group
    column = np.concatenate(pieces)
    bounds = np.concatenate([[0], np.cumsum([len(p) for p in pieces])])
    expected = [numerical_rank(p[:, None]) for p in pieces]
    assert segment_ranks(column, bounds).tolist() == expected
    assert segment_ranks(column, bounds[:1]).tolist() == []


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        (np.array([0, 3, 2]), r"non-decreasing within 0\.\.4 .*got 0\.\.3 out of order"),
        (np.array([0, 5]), r"non-decreasing within 0\.\.4 .*got 0\.\.5"),
        (np.array([-1, 2]), r"non-decreasing within 0\.\.4 .*got -1\.\.2"),
        (np.array([], dtype=int), "at least one segment boundary"),
    ],
)
def test_segment_ranks_refuses_boundaries_outside_the_column(bounds, message) -> None:
    with pytest.raises(ValueError, match=message):
        segment_ranks(np.ones(4), bounds)
