"""Labels of the population-level parameters cover the family's own parameters."""

from __future__ import annotations

import numpy as np

import hierbayes as hb
from hierbayes.studies.parameters import population_values


def test_student_t_values_are_labelled_with_sigma_and_nu():
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model("Reaction ~ Days + (1 | Subject)", sleep, family="student_t")
    values = {
        "b": np.array([250.0, 10.0]),
        "sd|Subject": np.array([25.0]),
        "sigma": np.array(20.0),
        "nu": np.array(4.5),
    }
    assert population_values(model.design, values) == {
        "b[Intercept]": 250.0,
        "b[Days]": 10.0,
        "sd|Subject[Intercept]": 25.0,
        "sigma": 20.0,
        "nu": 4.5,
    }
