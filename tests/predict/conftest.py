"""A fit to simulated data with known truth, plus held-out rows of its groups and of new groups."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest
from helpers import quiet_fit, simulate_correlated

import hierbayes as hb


@dataclass(frozen=True)
class Heldout:
    fit: hb.Fit
    train: pd.DataFrame
    test: pd.DataFrame  # further rows of the fitted groups
    new: pd.DataFrame  # one row each of groups the model has not seen


@pytest.fixture(scope="session")
def heldout() -> Heldout:
    data, _ = simulate_correlated(21, n_groups=80, n_per_group=24)
    position = data.groupby("g").cumcount()
    train, test = data[position < 12], data[position >= 12]
    new, _ = simulate_correlated(22, n_groups=300, n_per_group=1)
    new["g"] = "new_" + new["g"]
    model = hb.Model("y ~ x + (1 + x | g)", data=train)
    fit = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=3)
    return Heldout(fit, train, test, new)
