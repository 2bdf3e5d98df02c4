"""The crossed binary model on lme4's VerbAgg (316 respondents x 24 items, 7,584 answers)
against lme4's Laplace fit.

Reference numbers: ``Rscript tests/reference_verbagg.R`` (lme4 1.1-31, ``glmer`` with bobyqa;
the test run does not need R). Both factors' effects are centred (each respondent answers 24
items, each item is answered 316 times: :mod:`hierbayes.build.glm_choice`), and the fixed
effects constant within an item (intercept, ``btype``, ``situ``) or a respondent (``Anger``,
``Gender``) are sampled inside those groups' intercepts (hierarchical centring,
:func:`hierbayes.density.layout.make_layout`), so a short run mixes well.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import quiet_fit

import hierbayes as hb

FORMULA = "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)"
# glmer (Laplace, maximum likelihood): estimates and standard errors of the fixed effects
GLMER_B = {
    "Intercept": (0.199276, 0.405855),
    "Anger": (0.057409, 0.0167964),
    "Gender[T.M]": (0.320626, 0.191592),
    "btype[T.scold]": (-1.05866, 0.257081),
    "btype[T.shout]": (-2.10508, 0.259054),
    "situ[T.self]": (-1.05527, 0.210539),
}
GLMER_SD = {"id": 1.33954, "item": 0.495244}


@pytest.fixture(scope="module")
def verbagg_fit() -> hb.Fit:
    model = hb.Model(FORMULA, data=hb.datasets.load("verbagg"), family="bernoulli")
    return quiet_fit(model, draws=500, tune=300, chains=2, random_seed=3)


def test_short_run_converges(verbagg_fit):
    """Two chains of 500 draws: R-hat <= 1.01 and bulk ESS >= 400 on every population
    parameter, no divergences."""
    d = verbagg_fit.diagnostics
    rows = [r for r in d.table.index if r.startswith(("b[", "sd|"))]
    assert len(rows) == 8
    assert d.divergences == 0
    assert d.table.loc[rows, "r_hat"].max() <= 1.01
    assert d.table.loc[rows, "ess_bulk"].min() >= 400


def test_agrees_with_glmer(verbagg_fit):
    """Fixed effects within 0.25 posterior SD of glmer's estimates (weak priors and 7,584 rows:
    the posterior mean and the maximum likelihood estimate differ by far less; 0.25 allows for
    Monte Carlo error, about 0.05 SD at ESS 400, and the Laplace approximation), posterior SDs
    within 25% of glmer's standard errors, except for the item-level predictors (``btype``,
    ``situ``): glmer's standard errors take the items' SD as known, but with 24 items it is
    uncertain and the posterior is wider (1.18-1.21 times in a 4 x 1000 run), so up to 1.45
    times with Monte Carlo error. Respondents' SD within 10% plus two Monte Carlo errors; the
    items' SD (24 items: its posterior is skewed, and its mean lies above the maximum likelihood
    estimate by about a tenth) within 20%."""
    post = verbagg_fit.idata["posterior"]
    for term, (estimate, se) in GLMER_B.items():
        draws = post["b"].sel(term=term)
        sd = float(draws.std())
        assert abs(float(draws.mean()) - estimate) < 0.25 * sd, term
        wider = 1.45 if term.startswith(("btype", "situ")) else 1.25
        assert 0.8 * se < sd < wider * se, term
    for factor, estimate in GLMER_SD.items():
        draws = post[f"sd|{factor}"]
        mcse = float(draws.std()) / np.sqrt(verbagg_fit.diagnostics.min_ess_bulk)
        allowed = 0.10 if factor == "id" else 0.20
        assert abs(float(draws.mean()) / estimate - 1) < allowed + 2 * mcse / estimate, factor
