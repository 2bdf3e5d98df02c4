"""Likelihood weights: aggregated data with counts as weights is the expanded data's model.

brms's ``weights()`` meaning: each row's log-likelihood counts ``w`` times. The aggregated and
the expanded data then have the same log posterior density (default priors included, since
they use frequency-weighted statistics), hence the same posterior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density.layout import make_layout
from hierbayes.errors import DataError, MissingColumnError, ModelSpecError


def _expanded_and_aggregated() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(4)
    n = 401  # mean(y) is no multiple of 1e-4 (the default priors round to 4 decimals)
    g = rng.integers(0, 8, n)
    x = rng.integers(0, 3, n).astype(float)
    expanded = pd.DataFrame(
        {
            "g": [f"g{j}" for j in g],
            "x": x,
            "k": rng.poisson(np.exp(0.3 + 0.4 * x + 0.3 * (g - 4) / 4)),
            "y": np.round(1.0 + 0.5 * x + rng.normal(0, 1, n), 1),
        }
    )
    aggregated = expanded.groupby(["g", "x", "k", "y"], as_index=False).size()
    return expanded, aggregated.rename(columns={"size": "count"})


@pytest.mark.parametrize(
    ("formula", "family"),
    [("k ~ x + (1 + x | g)", "poisson"), ("y ~ x + (1 | g)", "gaussian")],
)
def test_aggregated_data_with_weights_has_the_expanded_log_density(formula, family):
    expanded, aggregated = _expanded_and_aggregated()
    assert len(aggregated) < len(expanded)
    full = hb.Model(formula, expanded, family=family, parameterization="noncentered")
    agg = hb.Model(
        formula, aggregated, family=family, weights="count", parameterization="noncentered"
    )
    assert agg.prior_values == full.prior_values
    a = make_layout(full.design, full.prior_values, full.parameterization)
    b = make_layout(agg.design, agg.prior_values, agg.parameterization)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = a.center + rng.normal(0, 0.3, a.n_dim)
        va, ga = a.logp_grad(x)
        vb, gb = b.logp_grad(x)
        assert vb == pytest.approx(va, rel=1e-10)
        np.testing.assert_allclose(gb, ga, rtol=1e-8, atol=1e-8)
    # the PyMC models agree as well
    pa = full.build().compile_logp()
    pb = agg.build().compile_logp()
    point = full.build().initial_point()
    assert pb(point) == pytest.approx(pa(point), rel=1e-10)


def test_bad_weights_are_errors_naming_the_column():
    _, aggregated = _expanded_and_aggregated()
    with pytest.raises(MissingColumnError, match=r"Column 'n' given as weights= is not in"):
        hb.Model("k ~ x + (1 | g)", aggregated, family="poisson", weights="n")
    bad = aggregated.assign(count=-aggregated["count"])
    with pytest.raises(DataError, match=r"Weights column 'count' has \d+ missing, infinite or"):
        hb.Model("k ~ x + (1 | g)", bad, family="poisson", weights="count")
    with pytest.raises(DataError, match=r"Weights column 'g' must hold numbers"):
        hb.Model("k ~ x + (1 | g)", aggregated, family="poisson", weights="g")
    with pytest.raises(ModelSpecError, match=r"'marginal' does not take likelihood weights"):
        hb.Model("y ~ x + (1 | g)", aggregated, weights="count", parameterization="marginal")


def test_weights_column_is_kept_for_saving():
    _, aggregated = _expanded_and_aggregated()
    model = hb.Model("k ~ x + (1 | g)", aggregated, family="poisson", weights="count")
    assert "count" in model.design.data.columns
    from hierbayes.rebuild import Recipe

    again = Recipe.of(model).build(model.design.data)
    np.testing.assert_array_equal(again.design.weights, model.design.weights)
