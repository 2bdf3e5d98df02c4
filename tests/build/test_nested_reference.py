"""REML agreement on three-level nested real data with every level integrated out jointly.

mlmRev's egsingle: 7,230 yearly maths scores of 1,721 pupils in 60 schools,
``math ~ year + (1 + year | schoolid) + (1 | childid)``; lme4's REML estimates from
``tests/reference_nested_egsingle.R`` (which also writes ``tests/data/egsingle.csv``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import hierbayes as hb

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[1] / "data" / "egsingle.csv"
REML_FIXED = {"Intercept": -0.7770908015, "year": 0.7629610079}
REML_SD = {
    ("sd|childid", "Intercept"): 0.8199429425,
    ("sd|schoolid", "Intercept"): 0.4084277576,
    ("sd|schoolid", "year"): 0.1076279314,
    ("sigma", None): 0.5696632325,
}
REML_COR = 0.4430612704


@pytest.fixture(scope="module")
def egsingle_fit() -> hb.Fit:
    data = pd.read_csv(DATA, dtype={"schoolid": str, "childid": str})
    model = hb.Model("math ~ year + (1 + year | schoolid) + (1 | childid)", data=data)
    return model.fit(draws=300, tune=300, chains=2, random_seed=2)


def test_all_levels_are_integrated_out(egsingle_fit):
    assert set(egsingle_fit.model.parameterization.values()) == {
        ("marginal",),
        ("marginal", "marginal"),
    }
    assert egsingle_fit.diagnostics.divergences == 0


def test_fixed_effects_agree_with_reml(egsingle_fit):
    post = egsingle_fit.idata["posterior"]
    for term, reml in REML_FIXED.items():
        draws = post["b"].sel(term=term)
        # 0.3 posterior SD: the posterior mean against REML's GLS estimate (as tests/test_agreement)
        assert abs(float(draws.mean()) - reml) < 0.3 * float(draws.std()), term


def test_variance_components_agree_with_reml(egsingle_fit):
    post = egsingle_fit.idata["posterior"]
    # REML estimates are the posterior mode under flat priors: the posterior median sits within
    # half a posterior SD of it (as for Pastes in tests/build/test_nested.py)
    for (name, term), reml in REML_SD.items():
        draws = post[name]
        if term is not None:
            draws = draws.isel(
                {draws.dims[-1]: list(post[name][draws.dims[-1]].values).index(term)}
            )
        assert abs(float(draws.median()) - reml) < 0.5 * float(draws.std()), (name, term)
    cor = post["cor|schoolid"].isel(
        {post["cor|schoolid"].dims[-2]: 0, post["cor|schoolid"].dims[-1]: 1}
    )
    assert abs(float(cor.median()) - REML_COR) < 0.5 * float(cor.std())
