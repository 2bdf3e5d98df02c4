"""Convergence checks on hand-made draws whose problems are known."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from hierbayes.diagnostics import check_convergence, describe_parameter
from hierbayes.errors import ConvergenceWarning


def _tree(sd_slope: np.ndarray, diverging: int = 0) -> xr.DataTree:
    rng = np.random.default_rng(0)
    chains, draws = sd_slope.shape
    terms = ["Intercept", "cses"]
    sd = np.stack([1.5 + 0.1 * rng.normal(size=(chains, draws)), sd_slope], axis=-1)
    cor = np.broadcast_to(np.eye(2), (chains, draws, 2, 2)).copy()
    cor[..., 0, 1] = cor[..., 1, 0] = 0.2 + 0.05 * rng.normal(size=(chains, draws))
    posterior = xr.Dataset(
        {
            "b": (("chain", "draw", "term"), rng.normal(size=(chains, draws, 2))),
            "sd|school": (("chain", "draw", "school__term"), sd),
            "cor|school": (("chain", "draw", "school__term", "school__term_bis"), cor),
            "u|school": (
                ("chain", "draw", "school", "school__term"),
                rng.normal(size=(chains, draws, 5, 2)),
            ),
            "sigma": (("chain", "draw"), 6 + 0.05 * rng.normal(size=(chains, draws))),
        },
        coords={
            "term": terms,
            "school__term": terms,
            "school__term_bis": terms,
            "school": list("abcde"),
        },
    )
    flags = np.zeros((chains, draws), dtype=bool)
    flags.flat[:diverging] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), flags)})
    return xr.DataTree.from_dict({"posterior": posterior, "sample_stats": stats})


def test_healthy_draws_raise_nothing():
    rng = np.random.default_rng(1)
    diagnostics = check_convergence(_tree(0.5 + 0.05 * rng.normal(size=(4, 500))))
    assert diagnostics.ok and diagnostics.divergences == 0
    assert diagnostics.max_rhat < 1.01
    # one row per population parameter; the correlation's diagonal and mirror are skipped
    assert list(diagnostics.table.index) == [
        "b[Intercept]",
        "b[cses]",
        "sd|school[Intercept]",
        "sd|school[cses]",
        "cor|school[Intercept, cses]",
        "sigma",
    ]


def test_disagreeing_chains_are_named_in_the_models_words():
    rng = np.random.default_rng(2)
    stuck = 0.5 + 0.05 * rng.normal(size=(4, 500))
    stuck[0] += 1.0  # one chain elsewhere
    with pytest.warns(
        ConvergenceWarning, match=r"sd\|school\[cses\] +the SD of cses across school +R-hat > 1.01"
    ):
        diagnostics = check_convergence(_tree(stuck))
    assert not diagnostics.ok
    assert any(
        "R-hat is" in w and "the SD of cses across school" in w for w in diagnostics.warnings
    )
    assert diagnostics.table.loc["sd|school[cses]", "r_hat"] > 1.1


def test_divergences_are_counted_and_explained():
    rng = np.random.default_rng(3)
    with pytest.warns(ConvergenceWarning, match=r"divergences +7 of 2000 +target_accept=0.95"):
        diagnostics = check_convergence(_tree(0.5 + 0.05 * rng.normal(size=(4, 500)), 7))
    assert diagnostics.divergences == 7
    assert "7 of 2000 draws ended in a divergent" in diagnostics.warnings[0]


def test_sd_piling_up_at_zero_is_a_note_not_a_warning():
    rng = np.random.default_rng(4)
    diagnostics = check_convergence(_tree(np.abs(rng.normal(0, 0.3, size=(4, 500)))))
    assert diagnostics.ok
    assert any(
        n.startswith("The SD of cses across school piles up at zero") for n in diagnostics.notes
    )


def test_a_long_left_tail_away_from_zero_is_not_a_note():
    # bacteria's intercept SD (tests/data/sd_posterior_draws.csv): q10/q50 = 0.28 but its mode
    # is near its median; a well-identified SD is no note either
    from pathlib import Path

    import pandas as pd

    draws = pd.read_csv(Path(__file__).parent / "data" / "sd_posterior_draws.csv")
    for column in ("bacteria_intercept", "sd1_20groups"):
        sd_slope = draws[column].to_numpy()[:1000].reshape(2, 500)
        diagnostics = check_convergence(_tree(sd_slope), emit=False)
        assert not any("piles up at zero" in n for n in diagnostics.notes), column


def test_low_ess_is_reported():
    rng = np.random.default_rng(5)
    walk = 0.5 + np.cumsum(0.01 * rng.normal(size=(4, 500)), axis=1)  # strongly autocorrelated
    with pytest.warns(ConvergenceWarning, match=r"the SD of cses across school +ESS < 400 +bulk"):
        diagnostics = check_convergence(_tree(walk))
    assert any(w.startswith("Effective sample size is low for") for w in diagnostics.warnings)


@pytest.mark.parametrize(
    ("shift", "scale"), [(1.0, 1.0), (0.0, 3.0)], ids=["one chain elsewhere", "one chain wider"]
)
def test_group_effects_whose_chains_disagree_are_reported(shift, scale):
    rng = np.random.default_rng(6)
    tree = _tree(0.5 + 0.05 * rng.normal(size=(4, 500)))
    u = tree["posterior"]["u|school"].values.copy()
    u[0] = shift + scale * u[0]  # the first chain: moved, or as centred but wider
    tree["posterior"] = xr.DataTree(
        tree["posterior"].to_dataset().assign({"u|school": (tree["posterior"]["u|school"].dims, u)})
    )
    with pytest.warns(ConvergenceWarning, match=r"u\|school +the school effects +R-hat > 1.01"):
        assert not check_convergence(tree).ok


@pytest.mark.parametrize(
    ("var", "coords", "expected"),
    [
        ("b", {"term": "cses"}, "the population effect of cses"),
        ("sigma", {}, "the residual SD"),
        ("sd|school.2", {"t": "x"}, "the SD of x across school"),
        (
            "cor|school",
            {"a": "Intercept", "b": "x"},
            "the correlation of Intercept and x across school",
        ),
        ("u|rater", {}, "the rater effects"),
        ("sd|county.id", {"t": "Intercept"}, "the SD of Intercept across county.id"),
        ("sd|county.id.2", {"t": "x"}, "the SD of x across county.id"),
    ],
)
def test_describe_parameter(var, coords, expected):
    assert describe_parameter(var, coords) == expected


def test_all_problems_are_one_warning_located_at_the_callers_line():
    rng = np.random.default_rng(7)
    walk = 0.5 + np.cumsum(0.01 * rng.normal(size=(4, 500)), axis=1)  # every parameter is poor
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diagnostics = check_convergence(_tree(walk, 3))
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(diagnostics.problems) == 3  # R-hat and ESS of the SD, divergences
    assert len(convergence) == 1
    assert convergence[0].filename == __file__
    message = str(convergence[0].message)
    assert message.startswith(f"{len(diagnostics.problems)} convergence problems")
    for problem in diagnostics.problems:
        assert f"{problem.parameter}  " in message
