"""Group terms coded unlike the fixed part: coef() and pooling refuse, as lme4's coef does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import synthetic_fit

import hierbayes as hb
from hierbayes.summaries.tables import unaligned_terms


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "y": rng.normal(size=90),
            "x": rng.normal(size=90),
            "trt": np.tile(list("abc"), 30),
            "g": np.repeat(list("abcdefghi"), 10),
        }
    )


def test_unaligned_terms():
    assert unaligned_terms(["Intercept", "trt[T.b]"], ["trt[a]", "trt[b]"]) == ["trt[a]", "trt[b]"]
    assert unaligned_terms(["Intercept", "trt[T.b]"], ["Intercept", "trt[T.b]"]) == []
    assert unaligned_terms(["Intercept"], ["x"]) == []  # no population effect of x at all


@pytest.mark.parametrize("method", ["coef", "pooling", "shrinkage"])
def test_cell_means_group_term_beside_contrast_coded_fixed_part_is_refused(method):
    fit = synthetic_fit(hb.Model("y ~ trt + (0 + trt | g)", _data()), 1)
    with pytest.raises(hb.SummaryError, match=r"codes trt\[a\], trt\[b\], trt\[c\] differently"):
        getattr(fit, method)()


def test_term_without_population_effect_is_its_deviation():
    fit = synthetic_fit(hb.Model("y ~ 1 + (0 + x | g)", _data()), 1)
    coef = fit.coef()
    post = fit.idata["posterior"]
    row = coef[(coef["group"] == "a") & (coef["term"] == "x")].iloc[0]
    assert row["mean"] == pytest.approx(float(post["u|g"].sel(g="a", g__term="x").mean()))


def test_simulated_coefficients_of_unaligned_terms_are_missing():
    fit = synthetic_fit(hb.Model("y ~ trt + (0 + trt | g)", _data()), 1)
    sims = fit.simulate_new_groups(5, random_seed=1).coefficients
    assert sims["coefficient"].isna().all()
    assert sims["effect"].notna().all()
