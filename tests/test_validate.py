"""Argument checks accept every valid spelling (NumPy integers included) and return plain values."""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.errors import ArgumentError
from hierbayes.validate import (
    check_choice,
    check_cores,
    check_count,
    check_fit_arguments,
    check_probability,
    check_seed,
)


@pytest.mark.parametrize("value", [50, np.int64(50), np.int32(50), np.uint16(50)])
def test_numpy_integers_are_integers(value) -> None:
    settings = check_fit_arguments(
        draws=value, tune=value, chains=2, cores=value, random_seed=value,
        sampler="nutpie", target_accept=np.float32(0.9),
    )  # fmt: skip
    assert settings["draws"] == 50 and type(settings["draws"]) is int
    assert type(settings["random_seed"]) is int and type(settings["cores"]) is int
    assert settings["target_accept"] == pytest.approx(0.9)


def test_defaults_pass_through() -> None:
    settings = check_fit_arguments(
        draws=1000, tune=0, chains=4, cores=None, random_seed=None,
        sampler="pymc", target_accept=0.8, progressbar=True, log_likelihood=None,
    )  # fmt: skip
    assert settings == {
        "draws": 1000, "tune": 0, "chains": 4, "cores": None, "random_seed": None,
        "target_accept": 0.8,
    }  # fmt: skip


def test_limits() -> None:
    assert check_count("tune", 0, minimum=0) == 0
    assert check_cores(1) == 1
    assert check_seed(0) == 0 and check_seed(2**63 - 1) == 2**63 - 1
    with pytest.raises(ArgumentError, match=r"random_seed.*2\*\*63"):
        check_seed(2**63)
    assert check_probability("target_accept", 0.999) == 0.999
    assert check_choice("kind", "mean", ("mean", "pps")) == "mean"


def test_a_generator_is_a_seed_where_allowed() -> None:
    rng = np.random.default_rng(1)
    assert check_seed(rng, generator=True) is rng
    with pytest.raises(ArgumentError, match="random_seed must be a non-negative integer"):
        check_seed(rng)


def test_the_error_is_also_a_value_and_type_error() -> None:
    # callers that caught ValueError (predict's choices) or TypeError keep working
    for base in (ValueError, TypeError):
        with pytest.raises(base, match="cores"):
            check_cores(0)
