"""Sampling again with a raised target_accept after divergences, said in the fit's notes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from helpers import quiet_fit

import hierbayes as hb
from hierbayes.build.settings import SMALL_DATA_ROWS, default_target_accept


def _funnel() -> hb.Model:
    """Eight groups of binary responses whose logit-scale means hardly differ (group SD 0.05),
    centred effects: a funnel at the group SD near zero that diverges at 0.8. Bernoulli rows
    carry little information each, so the groups stay weakly informed on more rows than
    :data:`SMALL_DATA_ROWS`: the model's default target is 0.8, the one that is raised."""
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), SMALL_DATA_ROWS // 8 + 5)
    u = rng.random(g.size)
    p = 1 / (1 + np.exp(-rng.normal(0, 0.05, 8)[g]))
    data = pd.DataFrame({"y": (u < p).astype(int), "g": g.astype(str)})
    return hb.Model("y ~ 1 + (1 | g)", data=data, family="bernoulli", parameterization="centered")


def test_default_target_is_raised_after_divergences_and_the_fit_says_so():
    model = _funnel()
    assert default_target_accept(model.design, model.parameterization) == 0.8
    kept = quiet_fit(model, draws=200, tune=200, chains=2, random_seed=4, target_accept=0.8)
    assert kept.diagnostics.divergences > 0  # the user's own target is kept
    assert not any("target_accept=0.95" in n for n in kept.diagnostics.notes)
    fit = quiet_fit(model, draws=200, tune=200, chains=2, random_seed=4)
    note = [n for n in fit.diagnostics.notes if "raised target_accept from 0.8 to 0.95" in n]
    assert len(note) == 1 and note[0].startswith("The first run failed (")
    # the draws reported are the better run's (hierbayes.course), and the note says which
    first = int(re.search(r"The first run failed \((\d+) divergent", note[0]).group(1))
    second = int(re.search(r"The second run had (\d+) divergent", note[0]).group(1))
    kept_first = "the first run's draws are the ones reported" in note[0]
    assert fit.diagnostics.divergences == (first if kept_first else second)
    assert any(note[0] in line for line in str(fit.summary()).splitlines())
