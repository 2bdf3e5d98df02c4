"""The mass matrix is adapted from the draws' variances for binary data whose groups mostly hold
one or two rows at the same bound, from the gradients otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.adaptation import BOUND_SHARE, MIN_GROUPS, mass_matrix_adaptation


def _design(groups: int, rows: int, *, same: float, family: str = "bernoulli", seed: int = 0):
    """``groups`` mothers of ``rows`` rows each; a share ``same`` of them all 0 or all 1."""
    rng = np.random.default_rng(seed)
    mom = np.repeat(np.arange(groups), rows)
    constant = rng.random(groups) < same
    y = np.where(constant[mom], rng.integers(0, 2, groups)[mom], 0)
    if rows > 1:
        # the rest: one 1 among 0s
        first = np.searchsorted(mom, np.arange(groups))
        y[first[~constant]] = 1
        y[first[~constant] + 1] = 0
    data = pd.DataFrame({"y": y, "mom": [f"m{j}" for j in mom]})
    return hb.Model("y ~ 1 + (1 | mom)", data, family=family).design


@pytest.mark.parametrize(
    ("groups", "rows", "same", "family", "expected"),
    [
        (200, 2, 0.9, "bernoulli", "draw_diag"),  # guPrenat's mothers
        (200, 1, 1.0, "bernoulli", "draw_diag"),  # one row each: always at a bound
        (200, 2, BOUND_SHARE - 0.15, "bernoulli", "diag"),  # most mothers mixed
        (200, 3, 0.9, "bernoulli", "diag"),  # larger groups inform their effects
        (MIN_GROUPS - 10, 2, 0.9, "bernoulli", "diag"),  # few groups
        (200, 2, 0.9, "poisson", "diag"),  # counts have no upper bound
    ],
)
def test_the_rule(groups, rows, same, family, expected):
    assert mass_matrix_adaptation(_design(groups, rows, same=same, family=family)) == expected
