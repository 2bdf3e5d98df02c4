"""The note when the default Gamma(0.01, 0.01) prior of a shape pulls its posterior down."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import hierbayes as hb
from hierbayes.prior_pull import shape_prior_notes
from hierbayes.priors import Prior

_DEFAULT = Prior("Gamma", alpha=0.01, beta=0.01)


def _draws(mean: float, sd: float) -> xr.Dataset:
    rng = np.random.default_rng(3)
    return xr.Dataset({"shape": (("chain", "draw"), rng.normal(mean, sd, (2, 1000)))})


def test_a_precise_shape_gets_the_note_with_the_shift():
    # d log p / d shape = -0.99 / 2600 - 0.01 = -0.0104: x SD 300 = 3.1 posterior SDs; the
    # shift, x variance, 934
    (note,) = shape_prior_notes(_draws(2600, 300), {"shape": _DEFAULT})
    assert "pulls it down" in note
    assert "3.1 posterior SDs" in note
    shift = float(re.search(r"shape = ([\d,]+)", note).group(1).replace(",", ""))
    assert 880 < shift < 990  # 934 up to the draws' own SD
    assert "beta=1e-6" in note


def test_a_shape_of_a_few_units_gets_none():
    assert shape_prior_notes(_draws(5, 1), {"shape": _DEFAULT}) == ()


def test_a_shape_the_data_say_little_about_gets_none():
    # a negative binomial on counts without overdispersion: shape 94 (SD 78); the prior's rate
    # is what keeps it finite, and a flatter prior would not be better
    draws = xr.Dataset(
        {"shape": (("chain", "draw"), np.random.default_rng(2).gamma(1.45, 65, (2, 1000)))}
    )
    assert shape_prior_notes(draws, {"shape": _DEFAULT}) == ()


def test_a_users_own_gamma_prior_gets_none():
    # Gamma(50, 1) at a shape of 50: d log p / d shape = 49 / 50 - 1 = -0.02, 0.16 SDs; and
    # a prior the user set is meant
    assert shape_prior_notes(_draws(50, 8), {"shape": Prior("Gamma", alpha=50, beta=1)}) == ()
    assert shape_prior_notes(_draws(2600, 300), {"shape": Prior("Gamma", alpha=2, beta=0.1)}) == ()


@pytest.mark.parametrize(
    "priors",
    [
        {"shape": Prior("Gamma", alpha=0.01, beta=1e-6)},  # flat enough: 0.0003 SDs
        {"shape": Prior("HalfNormal", sigma=1000)},
        {},
    ],
)
def test_other_priors_get_none(priors):
    assert shape_prior_notes(_draws(2600, 300), priors) == ()


@pytest.mark.slow
def test_a_gamma_fit_on_precise_data_notes_the_pull():
    # CV 1.8% (shape 3000), 300 rows: the default prior moves the shape by several SDs
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(10), 30)
    mu = np.exp(5 + rng.normal(0, 0.1, 10)[g])
    data = pd.DataFrame({"y": rng.gamma(3000, mu / 3000), "g": [f"g{i}" for i in g]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = hb.Model("y ~ 1 + (1 | g)", data, family="gamma").fit(
            draws=200, tune=300, chains=2, random_seed=1, progressbar=False
        )
    assert any("pulls it down" in n for n in fit.diagnostics.notes)
