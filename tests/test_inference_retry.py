"""Sampling again with a raised target_accept after divergences, said in the fit's notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import quiet_fit

import hierbayes as hb


def _funnel() -> hb.Model:
    """Eight weakly informed groups with centred effects: a funnel that diverges at 0.8."""
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), 2)
    y = rng.normal(0, 0.3, 8)[g] + rng.normal(0, 3.0, g.size)
    data = pd.DataFrame({"y": y, "g": g.astype(str)})
    return hb.Model("y ~ 1 + (1 | g)", data=data, parameterization="centered")


def test_default_target_is_raised_after_divergences_and_the_fit_says_so():
    model = _funnel()
    kept = quiet_fit(model, draws=200, tune=200, chains=2, random_seed=2, target_accept=0.8)
    assert kept.diagnostics.divergences > 0  # the user's own target is kept
    assert not any("target_accept=0.95" in n for n in kept.diagnostics.notes)
    fit = quiet_fit(model, draws=200, tune=200, chains=2, random_seed=2)
    note = [n for n in fit.diagnostics.notes if "run again with target_accept=0.95" in n]
    assert len(note) == 1 and note[0].startswith("The first run had")
    assert f"with {fit.diagnostics.divergences} divergent" in note[0]
    assert any(note[0] in line for line in str(fit.summary()).splitlines())
