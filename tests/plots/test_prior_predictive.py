"""plot_prior_predictive(): simulated responses and group means against the observed range."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.errors import SummaryError


@pytest.fixture(scope="module")
def model() -> hb.Model:
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), 6)
    y = 1.0 + rng.normal(0, 1, 8)[g] + rng.normal(0, 1, g.size)
    return hb.Model("y ~ 1 + (1 | g)", data=pd.DataFrame({"y": y, "g": g}))


@pytest.fixture(scope="module")
def prior(model: hb.Model):
    return model.prior_predictive(draws=200, random_seed=1)


def test_share_inside_the_observed_range(model: hb.Model, prior, save_png) -> None:
    fig, axes = model.plot_prior_predictive(prior)
    y = model.design.y
    yrep = prior["prior_predictive"]["y"].values.ravel()
    share = np.mean((yrep >= y.min()) & (yrep <= y.max()))
    assert axes[0].get_title() == f"{share:.0%} of simulated values inside the observed range"
    assert axes[1].get_xlabel() == "mean y per g"
    save_png(fig)
    plt.close(fig)


def test_bad_arguments_are_errors(model: hb.Model, prior) -> None:
    with pytest.raises(SummaryError, match="Unknown factor 'school'"):
        model.plot_prior_predictive(prior, factor="school")
    with pytest.raises(SummaryError, match="prior= must be the DataTree"):
        model.plot_prior_predictive(prior["prior"])
