"""Fits whose group effects were integrated out (adaptive quadrature, the exact gaussian
marginal), one of them run again by the course change with another term switched: saved and
loaded, each keeps how it was sampled, its notes, tables and predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import quiet_fit

import hierbayes as hb
import hierbayes.model

SETTINGS = {"draws": 150, "tune": 150, "chains": 2, "random_seed": 1, "progressbar": False}


@pytest.fixture(scope="module")
def agq_fit() -> hb.Fit:
    """Small binary groups (30 of 4 rows) with their intercepts integrated out by quadrature."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(30), 4)
    x = rng.normal(size=g.size)
    eta = -0.3 + 0.8 * x + rng.normal(0, 1.2, 30)[g]
    y = (rng.random(g.size) < 1 / (1 + np.exp(-eta))).astype(int)
    data = pd.DataFrame({"y": y, "x": x, "g": [f"g{j:02d}" for j in g]})
    model = hb.Model("y ~ x + (1 | g)", data, family="bernoulli", parameterization={"g": "agq"})
    return quiet_fit(model, **SETTINGS)


@pytest.fixture(scope="module")
def switched_fit() -> hb.Fit:
    """Gaussian, crossed: 'h' integrated out exactly, 'g' (40 groups of 2 rows whose means hardly
    differ) forced centred, a funnel the first run fails in, so the course change switches it."""
    rng = np.random.default_rng(0)
    g, h = np.repeat(np.arange(40), 2), np.tile(np.arange(8), 10)
    y = 1 + rng.normal(0, 0.05, 40)[g] + rng.normal(0, 0.7, 8)[h] + rng.normal(0, 1, g.size)
    data = pd.DataFrame(
        {
            "y": y,
            "x": rng.normal(size=g.size),
            "g": [f"g{j:02d}" for j in g],
            "h": [f"h{j}" for j in h],
        }
    )
    chosen = {"g": ("centered",), "h": ("marginal",)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hierbayes.model, "resolve_parameterization", lambda design, how: chosen)
        model = hb.Model(
            "y ~ x + (1 | g) + (1 | h)", data, parameterization={"h": "marginal", "g": "auto"}
        )
    return quiet_fit(model, **{**SETTINGS, "draws": 200, "tune": 200})


def test_the_course_change_switches_a_term_and_keeps_the_integrated_one(switched_fit):
    assert switched_fit.model.parameterization == {"g": ("noncentered",), "h": ("marginal",)}
    assert "switched g[Intercept] centred -> non-centred" in str(switched_fit.summary())
    effects = switched_fit.idata["posterior"]["u|h"]  # drawn after sampling, labelled
    assert list(effects["h"].values) == [f"h{j}" for j in range(8)]
    assert np.isfinite(effects.values).all()


@pytest.mark.filterwarnings("ignore::hierbayes.errors.LooWarning")
@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("agq_fit", "adaptive Gauss-Hermite quadrature"),
        ("switched_fit", "switched g[Intercept] centred -> non-centred"),
    ],
)
def test_a_saved_fit_keeps_how_it_was_sampled_its_tables_and_predictions(
    name: str, said: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    fit: hb.Fit = request.getfixturevalue(name)
    loaded = hb.load(fit.save(tmp_path / "fit"))
    assert loaded.model.parameterization == fit.model.parameterization
    summary = str(loaded.summary())
    assert summary == str(fit.summary()) and said in summary
    pd.testing.assert_frame_equal(loaded.ranef(), fit.ranef())
    pd.testing.assert_frame_equal(loaded.varcorr(), fit.varcorr())
    new = fit.design.data.head(3).assign(g=["new1", "new1", "new2"], x=[0.0, 1.0, 0.0])
    for groups in ("existing", "new", "marginal"):
        rows = new if groups != "existing" else fit.design.data.head(3)
        a = fit.predict(rows, groups=groups, kind="mean", random_seed=4)
        b = loaded.predict(rows, groups=groups, kind="mean", random_seed=4)
        np.testing.assert_array_equal(a.values, b.values)
    assert loaded.loo().elpd == pytest.approx(fit.loo().elpd, abs=1e-9)
