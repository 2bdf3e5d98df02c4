"""A full-size run that mixes slowly (R-hat just over 1.01 or an ESS short of 100 a chain, no
divergences) gets as many chains more, and says so; runs in worse trouble, quick looks and
clean runs do not."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hierbayes.course import change_course
from hierbayes.course_extend import (
    BORDERLINE_RHAT,
    EXTEND_MIN_DRAWS,
    combine_runs,
    extension_seed,
    min_bulk_ess,
    slow_mixing,
)


def _run(*, rho: float = 0.0, shift: float = 0.0, draws: int = 1000, diverging: int = 0, seed=0):
    """4 chains of ``sd|g``: an AR(1) series with autocorrelation ``rho`` (bulk ESS about
    ``4 draws (1 - rho) / (1 + rho)``), chain 0 shifted by ``shift`` SDs."""
    rng = np.random.default_rng(seed)
    x = np.empty((4, draws))
    x[:, 0] = rng.standard_normal(4)
    for t in range(1, draws):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(4)
    x[0] += shift
    post = xr.Dataset(
        {"sd|g": (("chain", "draw", "t"), 1.0 + 0.1 * x[..., None])},
        coords={"t": ["Intercept"], "chain": np.arange(4)},
    )
    div = np.zeros((4, draws), dtype=bool)
    div.flat[:diverging] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), div)}, coords={"chain": np.arange(4)})
    post.attrs["sampling_time"] = stats.attrs["sampling_time"] = 2.0
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


def test_min_bulk_ess_is_that_of_an_ar1_series():
    """AR(1) with rho: ESS = N (1 - rho) / (1 + rho); 4000 draws at rho 0.9 give about 211
    (the estimate's own relative error at this length is about 15%)."""
    ess = min_bulk_ess(_run(rho=0.9))
    assert 211 * 0.7 < ess < 211 * 1.3
    assert min_bulk_ess(_run(rho=0.0)) > 3000


def test_slow_mixing_is_short_ess_or_borderline_rhat_without_divergences():
    slow, quick = _run(rho=0.9), _run(rho=0.0)
    assert slow_mixing(slow, 1.005, 0)  # ESS short of 400
    assert not slow_mixing(quick, 1.005, 0)  # clean
    assert slow_mixing(quick, 1.02, 0)  # R-hat just over
    assert not slow_mixing(quick, BORDERLINE_RHAT + 0.01, 0)  # chains elsewhere
    assert not slow_mixing(slow, 1.005, 2)  # divergences: another course
    assert not slow_mixing(_run(rho=0.9, draws=EXTEND_MIN_DRAWS // 2), 1.005, 0)  # quick look


def test_combine_runs_keeps_every_chain_in_order_and_adds_the_times():
    a, b = _run(seed=1), _run(seed=2)
    both = combine_runs(a, b)
    post = both["posterior"]
    assert post["chain"].values.tolist() == list(range(8))
    np.testing.assert_array_equal(post["sd|g"].values[:4], a["posterior"]["sd|g"].values)
    np.testing.assert_array_equal(post["sd|g"].values[4:], b["posterior"]["sd|g"].values)
    assert both["sample_stats"].sizes["chain"] == 8
    assert post.attrs["sampling_time"] == both["sample_stats"].attrs["sampling_time"] == 4.0


def test_extension_seed_is_derived_and_none_stays_random():
    assert extension_seed(5) == extension_seed(5) != extension_seed(6) != 6
    assert extension_seed(None) is None


class _Runs:
    def __init__(self, *runs):
        self.runs, self.calls = list(runs), []

    def __call__(self, parameterization, target):
        self.calls.append((dict(parameterization), target))
        return self.runs[len(self.calls) - 1]


def test_a_slowly_mixing_clean_run_gets_as_many_chains_more_and_a_note_each_time():
    """ESS about 210 of 400 wanted: 4 chains more (about 420 of 800), then 4 more (about 630
    of 1,200, still short: the extensions stop at two)."""
    first = _Runs(_run(rho=0.9, seed=1))
    extra = _Runs(_run(rho=0.9, seed=2), _run(rho=0.9, seed=3))
    idata, used = change_course(
        first, {"g": ("noncentered",)}, ["g"], 0.8, raise_target=True, extend=extra
    )
    assert len(first.calls) == 1 and extra.calls == [({"g": ("noncentered",)}, 0.8)] * 2
    assert idata["posterior"].sizes["chain"] == 12 and used == {"g": ("noncentered",)}
    notes = idata["posterior"].attrs["sampling_notes"].split("\n")
    assert notes[0].startswith("The run mixed slowly (R-hat up to 1.0")
    assert "so 4 more chains were sampled: the 8 chains together have" in notes[0]
    assert "so 4 more chains were sampled: the 12 chains together have" in notes[1]
    assert min_bulk_ess(idata) > 2.0 * min_bulk_ess(first.runs[0])
    assert idata["posterior"].attrs["sampling_time"] == 6.0


def test_extension_stops_once_the_chains_together_mix_well_enough():
    first, extra = _Runs(_run(rho=0.9, seed=1)), _Runs(_run(rho=0.0, seed=2))
    idata, _ = change_course(
        first, {"g": ("noncentered",)}, ["g"], 0.8, raise_target=True, extend=extra
    )
    assert len(extra.calls) == 1 and idata["posterior"].sizes["chain"] == 8


@pytest.mark.parametrize(
    ("run", "why"),
    [
        (_run(rho=0.0), "clean"),
        (_run(rho=0.9, diverging=3), "divergent"),
        (_run(rho=0.0, shift=8.0), "chains apart"),
    ],
)
def test_other_runs_are_not_extended(run, why):
    extra = _Runs(_run(seed=9))
    idata, _ = change_course(
        _Runs(run), {"g": ("noncentered",)}, [], 0.8, raise_target=False, extend=extra
    )
    assert extra.calls == [], why
    assert idata["posterior"].sizes["chain"] == 4
