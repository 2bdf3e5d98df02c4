"""R functions that lme4 and brms users write are refused with hierbayes's spelling."""

from __future__ import annotations

import pytest

import hierbayes as hb
from hierbayes.errors import FormulaSyntaxError


@pytest.fixture(scope="module")
def cbpp():
    return hb.datasets.load("cbpp")


@pytest.mark.parametrize(
    ("formula", "hint"),
    [
        (
            "cbind(incidence, size - incidence) ~ C(period) + (1 | herd)",
            r"cbind\(successes, failures\) is written 'successes \| trials\(n\) ~ \.\.\.'",
        ),
        ("incidence | trials(size) ~ factor(period) + (1 | herd)", r"factor\(x\) is C\(x\)"),
        (
            "ordered(incidence) ~ C(period) + (1 | herd)",
            r"An ordered response is an ordered pandas Categorical",
        ),
        (
            "incidence | trials(size) ~ relevel(period, ref = '2') + (1 | herd)",
            r"C\(x, contr.treatment\('b'\)\)",
        ),
    ],
)
def test_r_functions_get_the_spelling_here(cbpp, formula, hint):
    with pytest.raises(FormulaSyntaxError, match=hint):
        hb.Model(formula, cbpp, family="binomial")
