"""The checked sampler settings of fit() (hierbayes.fit_settings), shared by every kind of model."""

from __future__ import annotations

import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.build.settings import default_target_accept
from hierbayes.errors import ArgumentError
from hierbayes.fit_settings import fit_settings

ARGS = {
    "draws": 10,
    "tune": 20,
    "chains": 2,
    "cores": None,
    "random_seed": 3,
    "sampler": "nutpie",
    "target_accept": None,
    "progressbar": False,
    "log_likelihood": None,
}


def test_the_default_target_is_the_models_and_may_be_raised(sleep: pd.DataFrame) -> None:
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep)
    settings, raise_target = fit_settings(model.design, model.parameterization, **ARGS)
    assert raise_target
    expected = default_target_accept(model.design, model.parameterization)
    assert settings["target_accept"] == expected
    assert (settings["draws"], settings["tune"], settings["chains"]) == (10, 20, 2)
    chosen, raise_target = fit_settings(
        model.design, model.parameterization, **(ARGS | {"target_accept": 0.95})
    )
    assert chosen["target_accept"] == 0.95 and not raise_target


def test_bad_settings_are_refused_before_sampling(sleep: pd.DataFrame) -> None:
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep)
    with pytest.raises(ArgumentError, match=r"draws must be a positive integer, got 0"):
        fit_settings(model.design, model.parameterization, **(ARGS | {"draws": 0}))
    with pytest.raises(ArgumentError, match=r"target_accept must be between 0 and 1"):
        fit_settings(model.design, model.parameterization, **(ARGS | {"target_accept": 1.5}))
