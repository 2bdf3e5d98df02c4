"""The parameter-expanded form of a group term's SD (hierbayes.build.expanded): when auto uses it,
what it refuses, and the PyMC model it builds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.build.expanded import single_child_share
from hierbayes.errors import ModelSpecError

TICKS = "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"


@pytest.fixture(scope="module")
def ticks() -> pd.DataFrame:
    return hb.datasets.load("grouseticks")


def test_auto_expands_a_factor_whose_groups_mostly_hold_one_nested_group(ticks):
    """35 of 63 locations hold one brood: LOCATION and the factor nested in it (BROOD) are
    expanded when sampled (``"auto"`` inside a dict; the defaults integrate both out by Laplace,
    :mod:`hierbayes.build.auto_laplace`); the observation-level INDEX (one row per group) stays
    non-centred."""
    model = hb.Model(TICKS, data=ticks, family="poisson", parameterization={"INDEX": "auto"})
    assert model.parameterization == {
        "BROOD": ("expanded",),
        "INDEX": ("noncentered",),
        "LOCATION": ("expanded",),
    }
    shares = {b.name: single_child_share(model.design, b) for b in model.design.blocks}
    assert shares["LOCATION"] == pytest.approx(35 / 63)
    assert shares["BROOD"] == pytest.approx(18 / 118)  # broods of one chick
    assert shares["INDEX"] == 0.0  # nothing nests in a chick


def test_auto_keeps_non_centred_where_upper_groups_hold_several(ticks):
    """Without LOCATION, no factor's groups mostly hold one nested group (18 of 118 broods hold
    one chick): nothing is expanded."""
    model = hb.Model("TICKS ~ YEAR + (1 | BROOD) + (1 | INDEX)", data=ticks, family="poisson")
    assert "expanded" not in {c for how in model.parameterization.values() for c in how}


def test_auto_falls_back_under_a_prior_without_density_at_zero(ticks):
    priors = {"sd|LOCATION": hb.Prior("Gamma", alpha=2.0, beta=2.0)}
    model = hb.Model(
        TICKS, data=ticks, family="poisson", priors=priors, parameterization={"INDEX": "auto"}
    )
    assert model.parameterization["LOCATION"] == ("noncentered",)
    assert model.parameterization["BROOD"] == ("expanded",)
    # the Laplace marginal takes any SD prior: the defaults integrate both out
    model = hb.Model(TICKS, data=ticks, family="poisson", priors=priors)
    assert model.parameterization["LOCATION"] == model.parameterization["BROOD"] == ("laplace",)


def test_expanded_is_refused_where_it_cannot_apply(ticks):
    with pytest.raises(ModelSpecError, match=r"'sd\|LOCATION' has Gamma\. Use 'noncentered'"):
        hb.Model(
            TICKS,
            data=ticks,
            family="poisson",
            priors={"sd|LOCATION": hb.Prior("Gamma", alpha=2.0, beta=2.0)},
            parameterization={"LOCATION": "expanded"},
        )
    sleep = hb.datasets.load("sleepstudy")
    with pytest.raises(ModelSpecError, match=r"'Subject' has correlated coefficients"):
        hb.Model(
            "Reaction ~ Days + (1 + Days | Subject)",
            data=sleep,
            parameterization={"Subject": "expanded"},
        )
    with pytest.raises(ModelSpecError, match=r"mixes 'expanded' with other choices"):
        hb.Model(
            "Reaction ~ Days + (Days || Subject)",
            data=sleep,
            parameterization={"Subject": ("expanded", "centered")},
        )


def test_the_pymc_model_reports_sd_and_z_of_the_non_centred_model():
    """s may take either sign: sd = |s|, u = s zs and z = u / sd; the prior of s is half the
    SD's half prior at |s| (HalfNormal(2.5): Normal(0, 2.5))."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"y": rng.poisson(2.0, 30), "g": [f"g{j % 5}" for j in range(30)]})
    model = hb.Model("y ~ 1 + (1 | g)", data=data, family="poisson", parameterization="expanded")
    pm_model = model.build()
    assert {v.name for v in pm_model.free_RVs} == {"Intercept_c", "s|g", "zs|g"}
    zs = np.linspace(-1.0, 1.0, 5)[:, None]
    point = {"s|g": np.array([-0.7]), "zs|g": zs}
    outputs = pm_model.replace_rvs_by_values([pm_model[n] for n in ("sd|g", "z|g", "u|g")])
    values = [pm_model.rvs_to_values[pm_model[n]] for n in point]
    sd, z, u = pytensor.function(values, outputs, on_unused_input="ignore")(*point.values())
    np.testing.assert_allclose(sd, [0.7])
    np.testing.assert_allclose(u, -0.7 * zs)
    np.testing.assert_allclose(z, u / 0.7)
    prior = pm.logp(pm_model["s|g"], np.array([-0.7])).eval()
    np.testing.assert_allclose(prior, stats.norm(0, 2.5).logpdf(-0.7))
    draws = pm.draw(pm_model["s|g"], draws=4000, random_seed=1)  # prior predictive: ±|N(0, 2.5)|
    assert 0.4 < np.mean(draws > 0) < 0.6
    assert stats.kstest(np.abs(draws).ravel(), stats.halfnorm(scale=2.5).cdf).pvalue > 1e-3
