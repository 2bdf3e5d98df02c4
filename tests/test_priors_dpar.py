"""Default priors of log sigma's linear predictor, on the log scale and scaled to the data."""

import numpy as np
import pandas as pd
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


def _data(family: str) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    x, g = rng.normal(size=60), np.repeat(list("abcdef"), 10)
    y = {
        "negativebinomial": rng.poisson(3.0, 60).astype(float),
        "beta": rng.beta(2.0, 3.0, 60),
        "lognormal": rng.lognormal(1.0, 0.5, 60),
    }[family]
    return pd.DataFrame({"y": y, "x": x, "g": g})


@pytest.mark.parametrize(
    ("family", "name", "priors"),
    [
        ("negativebinomial", "shape", ["shape_Intercept", "b|shape_x", "sd|shape_g"]),
        ("beta", "phi", ["phi_Intercept", "b|phi_x", "sd|phi_g"]),
    ],
)
def test_priors_replace_the_dispersions_own(family: str, name: str, priors: list[str]) -> None:
    model = hb.Model("y ~ x", _data(family), family=family, **{name: "~ x + (1 | g)"})
    assert list(model.priors.index) == ["Intercept", "b|x", *priors]
    # brms's default for the intercept of a distributional parameter on the log link
    assert str(model.prior_values[f"{name}_Intercept"]) == "StudentT(mu=0, nu=3, sigma=2.5)"
    sd_x = float(np.std(model.design.dpar.X[:, 1], ddof=1))
    assert model.prior_values[f"b|{name}_x"].kwargs["sigma"] == pytest.approx(2.5 / sd_x, abs=1e-4)


def test_lognormals_sigma_intercept_is_centred_at_the_log_sd_of_log_y() -> None:
    data = _data("lognormal")
    model = hb.Model("y ~ x", data, family="lognormal", sigma="~ x")
    sd = float(np.std(np.log(data["y"]), ddof=1))
    assert model.prior_values["sigma_Intercept"].kwargs["mu"] == pytest.approx(np.log(sd), abs=1e-3)


def test_level_equations_take_shape_as_the_formula_does() -> None:
    data = _data("negativebinomial")
    formula = hb.Model("y ~ x + (1 | g)", data, family="negativebinomial", shape="~ x")
    levels = hb.Model.from_levels(
        "y ~ 1 + x", group="g", data=data, family="negativebinomial", shape="~ x"
    )
    assert levels.prior_values == formula.prior_values
    np.testing.assert_array_equal(levels.design.dpar.X, formula.design.dpar.X)
