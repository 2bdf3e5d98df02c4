"""The dispersion of negativebinomial, gamma and beta (``shape=``, ``phi=``) and lognormal's
``sigma=`` with their own linear predictors: the PyMC likelihood against scipy's densities,
the keyword of each family and the typed errors of a wrong one."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import FamilyError, ModelSpecError


def _data(family: str) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 60
    x = rng.normal(size=n)
    g = np.repeat(list("abcdef"), n // 6)
    y = {
        "negativebinomial": rng.poisson(3.0, n).astype(float),
        "gamma": rng.gamma(2.0, 1.5, n),
        "beta": rng.beta(2.0, 3.0, n),
        "lognormal": rng.lognormal(1.0, 0.5, n),
    }[family]
    return pd.DataFrame({"y": y, "x": x, "g": g})


def _likelihood(family: str, y, eta, value):
    if family == "negativebinomial":
        mu = np.exp(eta)
        return stats.nbinom.logpmf(y, value, value / (value + mu))
    if family == "gamma":
        return stats.gamma.logpdf(y, value, scale=np.exp(eta) / value)
    if family == "beta":
        mu = 1 / (1 + np.exp(-eta))
        return stats.beta.logpdf(y, mu * value, (1 - mu) * value)
    return stats.lognorm.logpdf(y, value, scale=np.exp(eta))


@pytest.mark.parametrize(
    ("family", "name"),
    [("negativebinomial", "shape"), ("gamma", "shape"), ("beta", "phi"), ("lognormal", "sigma")],
)
def test_likelihood_reads_each_rows_dispersion(family: str, name: str) -> None:
    data = _data(family)
    model = hb.Model("y ~ x", data, family=family, **{name: "~ x + (1 | g)"})
    pm_model = model.build()
    x = data["x"].to_numpy()
    z = np.linspace(-1.0, 1.2, 6)
    point = {
        "Intercept_c": np.array(0.3),
        "beta": np.array([0.2]),
        f"{name}_Intercept_c": np.array(1.1),
        f"b|{name}_x": np.array(-0.3),
        f"sd|{name}_g_log__": np.array([np.log(0.5)]),
        f"z|{name}_g": z[:, None],
    }
    point = {k: v for k, v in point.items() if k in pm_model.initial_point()}
    assert set(point) == set(pm_model.initial_point())
    got = pm_model.compile_logp(vars=pm_model.observed_RVs)(point)
    eta = 0.3 + 0.2 * (x - x.mean())
    codes = model.design.dpar.blocks[0].codes
    value = np.exp(1.1 - 0.3 * (x - x.mean()) + 0.5 * z[codes])
    expected = _likelihood(family, data["y"].to_numpy(), eta, value).sum()
    assert got == pytest.approx(expected, rel=1e-9)
    assert list(pm_model.coords[f"{name}_term"]) == [f"{name}_Intercept", f"{name}_x"]
    assert list(pm_model.coords["g"]) == list("abcdef")  # a factor of the dispersion only


@pytest.mark.parametrize(
    ("family", "given", "right"),
    [
        ("negativebinomial", "sigma", "shape"),
        ("gamma", "phi", "shape"),
        ("beta", "shape", "phi"),
        ("gaussian", "shape", "sigma"),
    ],
)
def test_a_wrong_keyword_names_the_familys_dispersion(family: str, given: str, right: str) -> None:
    data = _data("beta" if family == "beta" else "gamma")
    message = rf"no parameter {given}.*dispersion parameter is {right}"
    with pytest.raises(FamilyError, match=message):
        hb.Model("y ~ x", data, family=family, **{given: "~ x"})


def test_families_without_dispersion_and_two_formulas_are_refused() -> None:
    data = _data("negativebinomial")
    with pytest.raises(FamilyError, match=r"poisson family has no parameter shape"):
        hb.Model("y ~ x", data, family="poisson", shape="~ x")
    with pytest.raises(ModelSpecError, match=r"Formulas given for shape and sigma.*Keep one"):
        hb.Model("y ~ x", data, family="negativebinomial", shape="~ x", sigma="~ x")
