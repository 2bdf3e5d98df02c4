"""auto's joint Laplace marginal for nested factors whose upper groups mostly hold one lower group
(hierbayes.build.auto_laplace): where it applies, and where auto keeps the expanded form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.summaries.parameterization import describe_parameterization

NESTED = "y ~ x + (1 | site) + (1 | plot) + (1 | obs)"


@pytest.fixture(scope="module")
def nested() -> pd.DataFrame:
    """16 sites: 10 hold one plot, 6 hold three; 4 counts a plot, one row per ``obs``."""
    rng = np.random.default_rng(3)
    plots = [1] * 10 + [3] * 6
    site = np.repeat(np.arange(16), plots)  # site of each plot
    plot = np.repeat(np.arange(site.size), 4)
    x = rng.normal(size=plot.size)
    eta = 0.5 + 0.3 * x + rng.normal(0, 0.5, 16)[site[plot]] + rng.normal(0, 0.5, site.size)[plot]
    return pd.DataFrame(
        {
            "y": rng.poisson(np.exp(eta)),
            "x": x,
            "site": [f"s{j}" for j in site[plot]],
            "plot": [f"p{j}" for j in plot],
            "obs": np.arange(plot.size),
        }
    )


def test_auto_integrates_the_pair_out_by_laplace(nested):
    """10 of 16 sites hold one plot: site and plot jointly by Laplace; ``obs`` (one row per group)
    sampled non-centred; the summary says so, with why."""
    model = hb.Model(NESTED, nested, family="poisson")
    assert model.parameterization == {
        "site": ("laplace",),
        "plot": ("laplace",),
        "obs": ("noncentered",),
    }
    words = describe_parameterization(model.design, model.parameterization)
    assert words.startswith("site + plot: intercepts integrated out jointly by Laplace")
    assert "62% of the site groups hold a single plot group" in words
    assert words.endswith("obs: non-centred")


def test_auto_keeps_expanded_where_laplace_cannot_apply(nested):
    """A family not concave in the linear predictor (zero-inflated Poisson), varying slopes in a
    ``||`` term, or ``"auto"`` inside a dict (which never integrates out): expanded as before."""
    zip_ = hb.Model(NESTED, nested, family="zero_inflated_poisson")
    assert zip_.parameterization["site"] == zip_.parameterization["plot"] == ("expanded",)
    in_dict = hb.Model(NESTED, nested, family="poisson", parameterization={"obs": "auto"})
    assert in_dict.parameterization["site"] == in_dict.parameterization["plot"] == ("expanded",)
    slopes = hb.Model("y ~ x + (1 + x || site) + (1 | plot) + (1 | obs)", nested, family="poisson")
    assert slopes.parameterization["site"] == ("expanded", "expanded")
    assert slopes.parameterization["plot"] == ("expanded",)


def test_gaussian_models_still_integrate_out_exactly(nested):
    data = nested.assign(y=np.log1p(nested["y"]))
    model = hb.Model("y ~ x + (1 | site) + (1 | plot)", data)
    assert set(model.parameterization.values()) == {("marginal",)}
