"""Sampler selection and its errors (no sampling here)."""

from __future__ import annotations

import importlib.util

import pytest

import hierbayes as hb
from hierbayes.errors import HierbayesError
from hierbayes.inference import SAMPLERS


def test_samplers_offered():
    assert SAMPLERS == ("nutpie", "pymc", "numpyro")


@pytest.mark.skipif(
    importlib.util.find_spec("numpyro") is not None and importlib.util.find_spec("jax") is not None,
    reason="the error is about jax/numpyro being absent",
)
def test_numpyro_without_jax_says_how_to_install():
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep)
    with pytest.raises(HierbayesError, match=r"sampler='numpyro' needs .*hierbayes\[jax\]"):
        model.fit(sampler="numpyro", draws=10, tune=10, chains=1)
