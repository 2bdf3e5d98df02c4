"""The design of log sigma's own linear predictor (``sigma="~ ..."``)."""

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.errors import DataError, FamilyError, MissingColumnError, MissingValueError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 24
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "x": rng.normal(size=n),
            "t": np.tile([0.0, 1.0], n // 2),
            "g": np.repeat(list("abcdef"), 4),
            "k": rng.poisson(3, size=n),
        }
    )


def test_a_second_fixed_design_and_its_own_blocks(data):
    m = hb.Model("y ~ x + (1 | g)", data=data, sigma="~ t + (1 + t | g)")
    dpar = m.design.dpar
    assert dpar.labels == ("sigma_Intercept", "sigma_t")
    np.testing.assert_array_equal(dpar.X[:, 1], data["t"])
    (block,) = dpar.blocks
    assert (block.name, block.factor, block.columns) == ("sigma_g", "g", ("Intercept", "t"))
    assert block.levels == tuple("abcdef")
    np.testing.assert_array_equal(block.codes, np.repeat(np.arange(6), 4))
    # the mean's terms on the same factor keep their own block: effects are not correlated
    assert [b.name for b in m.design.blocks] == ["g"]
    assert m.design.block("sigma_g") is block


def test_a_family_without_a_residual_sd_is_refused(data):
    with pytest.raises(FamilyError, match="poisson family has no parameter sigma"):
        hb.Model("k ~ x + (1 | g)", data=data, family="poisson", sigma="~ t")


def test_an_unknown_column_is_named(data):
    with pytest.raises(MissingColumnError, match=r"Column 'tt' used in the sigma formula.*'t'"):
        hb.Model("y ~ x", data=data, sigma="~ tt")


def test_missing_values_in_a_sigma_column_are_an_error_or_dropped(data):
    holes = data.assign(t=data["t"].where(data.index != 3))
    with pytest.raises(MissingValueError, match="Column 't' has 1 missing"):
        hb.Model("y ~ x", data=holes, sigma="~ t")
    with pytest.warns(UserWarning, match="1"):
        m = hb.Model("y ~ x", data=holes, sigma="~ t", missing="drop")
    assert m.design.n_obs == len(data) - 1 and m.design.dpar.X.shape == (len(data) - 1, 2)


def test_a_single_group_and_collinear_columns_are_refused(data):
    with pytest.raises(DataError, match="'h' of the sigma formula has a single level"):
        hb.Model("y ~ x", data=data.assign(h="one"), sigma="~ (1 | h)")
    with pytest.raises(DataError, match=r"sigma formula.*'t2' is a linear combination"):
        hb.Model("y ~ x", data=data.assign(t2=2 * data["t"]), sigma="~ t + t2")


def test_a_family_whose_mean_needs_sigma_takes_it(data):
    positive = data.assign(p=np.exp(data["y"]))
    model = hb.Model("p ~ x + (1 | g)", data=positive, family="lognormal", sigma="~ t")
    assert model.design.dpar.labels == ("sigma_Intercept", "sigma_t")
    with pytest.raises(FamilyError, match=r"no parameter shape.*dispersion parameter is sigma"):
        hb.Model("p ~ x + (1 | g)", data=positive, family="lognormal", shape="~ t")
