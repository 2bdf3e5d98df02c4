"""Default priors of log sigma's linear predictor, on the log scale and scaled to the data."""

import numpy as np
import pytest

import hierbayes as hb
from hierbayes.errors import PriorError


@pytest.fixture(scope="module")
def model():
    return hb.Model(
        "Reaction ~ Days + (1 | Subject)",
        data=hb.datasets.load("sleepstudy"),
        sigma="~ Days + (1 + Days | Subject)",
    )


def test_defaults_are_the_residual_sd_prior_moved_to_the_log_scale(model):
    sleep = hb.datasets.load("sleepstudy")
    priors = model.prior_values
    assert "sigma" not in priors  # no single residual SD any more
    intercept = priors["sigma_Intercept"]
    assert intercept.dist == "StudentT"
    assert intercept.kwargs == {
        "nu": 3.0,
        "mu": round(float(np.log(sleep["Reaction"].std())), 4),
        "sigma": 2.5,
    }
    assert priors["b|sigma_Days"].kwargs == {
        "mu": 0.0,
        "sigma": round(2.5 / sleep["Days"].std(), 4),
    }
    sd = priors["sd|sigma_Subject"]
    assert sd.dist == "HalfNormal"
    assert list(sd.kwargs["sigma"]) == [1.0, round(1.0 / sleep["Days"].std(), 4)]
    assert priors["cor|sigma_Subject"].kwargs == {"eta": 2.0}
    assert model.priors.loc["sd|sigma_Subject", "applies to"] == (
        "SD of sigma_Intercept, sigma_Days across Subject (log scale)"
    )


def test_overrides_by_name_and_checks():
    sleep = hb.datasets.load("sleepstudy")
    args = ("Reaction ~ Days + (1 | Subject)", sleep)
    m = hb.Model(
        *args,
        sigma="~ (1 | Subject)",
        priors={"sd|sigma_Subject": hb.Prior("HalfNormal", sigma=0.5)},
    )
    assert m.priors.loc["sd|sigma_Subject", "source"] == "user"
    assert m.build()  # the override reaches the PyMC model
    with pytest.raises(PriorError, match="'sd\\|sigma_Subject' is a standard deviation"):
        hb.Model(
            *args,
            sigma="~ (1 | Subject)",
            priors={"sd|sigma_Subject": hb.Prior("Normal", mu=0, sigma=1)},
        )
    with pytest.raises(PriorError, match=r"Unknown prior name.*'sigma'.*sigma_Intercept"):
        hb.Model(*args, sigma="~ 1", priors={"sigma": hb.Prior("HalfNormal", sigma=1)})


def test_level_equations_take_the_same_sigma_formula():
    sleep = hb.datasets.load("sleepstudy")
    formula = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep, sigma="~ Days")
    levels = hb.Model.from_levels(
        "Reaction ~ 1 + Days", group="Subject", data=sleep, sigma="~ Days"
    )
    assert levels.prior_values == formula.prior_values
    np.testing.assert_array_equal(levels.design.dpar.X, formula.design.dpar.X)
