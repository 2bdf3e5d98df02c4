"""A negative binomial whose shape varies (``shape="~ mined"``) against glmmTMB on real data.

glmmTMB's Salamanders counts (tests/data/salamanders.csv): ``glmmTMB(count ~ mined + (1 | site),
dispformula = ~ mined, family = nbinom2)``, whose dispersion model is brms's and hierbayes's
``log shape_i = shape_Intercept + shape_mined·mined_i``; numbers from
``tests/reference_dispersion.R`` (R is not needed to run this test).

Tolerances: glmmTMB gives maximum-likelihood estimates and their standard errors, the posterior
(weakly-informative default priors, 644 rows) means and SDs. Means agree within 0.3 posterior
SD: the Monte Carlo error of the posterior mean at an ESS of at least 200 is under 0.07 SD, and
the rest is the difference between a posterior mean and a mode (measured: at most 0.15 SD, for
shape_mined). The dispersion's SDs agree with glmmTMB's standard errors within 15% (measured:
3%; Monte Carlo error about 5% at this ESS). The mean model's SDs are larger than glmmTMB's
standard errors, which condition on the estimated site SD where the posterior also carries its
uncertainty (23 sites): they agree within 40% (measured: 31% for the intercept, 19% for mined).
The site SD's posterior is skewed to the right of glmmTMB's estimate, as a posterior of an SD
from 23 groups is (measured: mean 0.52, SD 0.17, against 0.41): the estimate lies inside the
posterior's 90% interval and within one posterior SD of its mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb

pytestmark = pytest.mark.slow

# glmmTMB 1.x (tests/reference_dispersion.R): estimate and standard error
GLMMTMB = {
    "Intercept": (0.784048, 0.141119),
    "mined[T.yes]": (-2.186547, 0.262325),
    "shape_Intercept": (-0.340827, 0.123679),
    "shape_mined[T.yes]": (-1.028701, 0.348984),
}
GLMMTMB_SD_SITE = 0.412723


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    data = pd.read_csv(Path(__file__).parent / "data" / "salamanders.csv")
    model = hb.Model("count ~ mined + (1 | site)", data, family="negativebinomial", shape="~ mined")
    return quiet_fit(model, draws=500, tune=500, chains=2, random_seed=11)


def test_mean_and_dispersion_coefficients_agree_with_glmmtmb(fit: hb.Fit) -> None:
    table = fit.fixef()
    for term, (estimate, se) in GLMMTMB.items():
        mean, sd = table.loc[term, "mean"], table.loc[term, "sd"]
        assert abs(mean - estimate) < 0.3 * sd, (term, mean, estimate, sd)
        if term.startswith("shape_"):
            assert sd == pytest.approx(se, rel=0.15), term
        else:
            assert se < sd < 1.4 * se, term
    assert np.all(table["ess_bulk"] > 200)
    assert fit.diagnostics.divergences == 0


def test_site_sd_agrees_with_glmmtmb(fit: hb.Fit) -> None:
    draws = np.asarray(fit.idata["posterior"]["sd|site"].values).ravel()
    lo, hi = np.quantile(draws, [0.05, 0.95])
    assert lo < GLMMTMB_SD_SITE < hi
    assert abs(draws.mean() - GLMMTMB_SD_SITE) < draws.std()
