"""A default fit that fails is run again with the parameterisation its posterior suggests (and a
raised target_accept after divergences), and says so; a fit that still fails names the
parameter and what to try."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import quiet_fit

import hierbayes as hb
import hierbayes.model
from hierbayes.course import (
    change_course,
    proposed_parameterization,
    shrinkage_ratios,
    trouble,
)


def _run(*, shift: float = 0.0, diverging: int = 0, ratio: float = 1.0, seed: int = 0):
    """A fake run: 4 chains x 400 draws of ``sd|g`` and ``u|g`` (8 groups) whose groups'
    posterior variance is ``ratio`` times the between-group variance; chain 0 of ``sd|g``
    shifted by ``shift`` posterior SDs; ``diverging`` divergent transitions."""
    rng = np.random.default_rng(seed)
    sd = 1.0 + 0.1 * rng.standard_normal((4, 400, 1))
    sd[0] += 0.1 * shift
    u = rng.normal(0.0, np.sqrt(ratio), (4, 400, 8, 1))
    post = xr.Dataset(
        {
            "sd|g": (("chain", "draw", "t"), sd),
            "u|g": (("chain", "draw", "g", "t"), u),
        },
        coords={"t": ["Intercept"], "g": [f"g{j}" for j in range(8)]},
    )
    div = np.zeros((4, 400), dtype=bool)
    div.flat[:diverging] = True
    stats = xr.Dataset({"diverging": (("chain", "draw"), div)})
    post.attrs["sampling_time"] = stats.attrs["sampling_time"] = 1.5
    return xr.DataTree.from_dict({"posterior": post, "sample_stats": stats})


class _Runs:
    """Returns the given runs in turn and records how each was asked for."""

    def __init__(self, *runs: xr.DataTree):
        self.runs, self.calls = list(runs), []

    def __call__(self, parameterization, target):
        self.calls.append((dict(parameterization), target))
        return self.runs[len(self.calls) - 1]


def test_a_clean_run_is_sampled_once_and_left_without_notes():
    runs = _Runs(_run())
    idata, used = change_course(runs, {"g": ("centered",)}, ["g"], 0.8, raise_target=True)
    assert len(runs.calls) == 1 and used == {"g": ("centered",)}
    assert (
        "sampling_notes" not in idata["posterior"].attrs
        or not idata["posterior"].attrs["sampling_notes"]
    )


def test_divergences_switch_the_term_the_posterior_disowns_and_raise_the_target():
    """Centred effects whose groups' posterior variance is the whole between-group variance
    (ratio 1: the data say nothing of each group) suit non-centred."""
    runs = _Runs(_run(diverging=7, ratio=1.0), _run(seed=1))
    idata, used = change_course(runs, {"g": ("centered",)}, ["g"], 0.8, raise_target=True)
    assert runs.calls[1] == ({"g": ("noncentered",)}, 0.95)
    assert used == {"g": ("noncentered",)}
    note = idata["posterior"].attrs["sampling_notes"]
    assert note.startswith("The first run failed (7 divergent transitions, R-hat <= 1.01)")
    assert "switched g[Intercept] centred -> non-centred" in note
    assert "raised target_accept from 0.8 to 0.95" in note
    assert "The second run had 0 divergent transitions, R-hat <= 1.01" in note
    assert idata["posterior"].attrs["sampling_time"] == 3.0  # both runs'
    assert idata["sample_stats"].attrs["sampling_time"] == 3.0


def test_terms_chosen_by_the_user_are_kept_and_a_target_set_by_the_user_too():
    runs = _Runs(_run(diverging=3, ratio=1.0))
    idata, used = change_course(runs, {"g": ("centered",)}, [], 0.8, raise_target=False)
    assert len(runs.calls) == 1 and used == {"g": ("centered",)}
    note = idata["posterior"].attrs["sampling_notes"]
    assert note.startswith("3 divergent transitions remain: try target_accept=0.99")


def test_divergences_at_the_highest_target_are_not_told_to_raise_it():
    runs = _Runs(_run(diverging=1, ratio=1.0))
    idata, _ = change_course(runs, {"g": ("centered",)}, [], 0.99, raise_target=False)
    note = idata["posterior"].attrs["sampling_notes"]
    assert note.startswith("1 divergent transition remains at target_accept=0.99: try the other")
    assert "try target_accept" not in note


def test_a_worse_second_run_is_dropped():
    first, second = _run(diverging=1, ratio=1.0), _run(shift=8.0, diverging=9, seed=2)
    runs = _Runs(first, second)
    idata, used = change_course(runs, {"g": ("centered",)}, ["g"], 0.8, raise_target=True)
    assert idata is first and used == {"g": ("centered",)}
    assert (
        "it did worse, so the first run's draws are the ones reported"
        in (idata["posterior"].attrs["sampling_notes"])
    )


def test_a_fit_that_still_fails_names_the_parameter_and_what_to_try():
    """Chains that disagree on the SD with nothing to switch (the groups' posterior agrees
    with non-centred): the advice names sd|g and does not offer the parameterisation that the
    posterior disowns."""
    runs = _Runs(_run(shift=8.0, ratio=1.0))
    idata, _ = change_course(runs, {"g": ("noncentered",)}, ["g"], 0.8, raise_target=True)
    assert len(runs.calls) == 1
    note = idata["posterior"].attrs["sampling_notes"]
    assert note.startswith("sd|g[Intercept] still has R-hat")
    assert "draws=4000" in note and "parameterization=" not in note
    # were the groups pinned down by their data, centring is what to try
    runs = _Runs(_run(shift=8.0, ratio=0.01))
    idata, _ = change_course(runs, {"g": ("noncentered",)}, [], 0.8, raise_target=True)
    assert "parameterization={'g': 'centered'}" in idata["posterior"].attrs["sampling_notes"]


def test_the_advice_asks_for_longer_chains_than_the_run_had():
    """A run of 4 x 400 draws (fewer than the default) is told 4,000 draws and 2,000 warm-up
    steps; one whose chains already held 3,000 draws after 1,500 warm-up steps, twice those."""
    runs = _Runs(_run(shift=8.0, ratio=1.0))
    idata, _ = change_course(runs, {"g": ("noncentered",)}, [], 0.8, raise_target=True)
    assert "(e.g. draws=4000, tune=2000)" in idata["posterior"].attrs["sampling_notes"]
    long = _run(shift=8.0, ratio=1.0)
    post = long["posterior"].to_dataset()
    post = xr.concat([post] * 8, dim="draw", data_vars="all")  # 3,200 draws a chain
    post.attrs.update(sampling_time=1.5, tuning_steps=1500)
    long["posterior"] = xr.DataTree(post)
    idata, _ = change_course(_Runs(long), {"g": ("noncentered",)}, [], 0.8, raise_target=True)
    assert "(e.g. draws=6400, tune=3000)" in idata["posterior"].attrs["sampling_notes"]


def test_trouble_finds_a_chain_apart_on_a_population_parameter():
    assert trouble(_run()).rhat == {}
    t = trouble(_run(shift=8.0, diverging=2))
    assert t.divergences == 2 and list(t.rhat) == ["sd|g[Intercept]"]
    assert t.rhat["sd|g[Intercept]"] > 1.5


@pytest.mark.parametrize("n_rows", [1, 4, 64])
def test_shrinkage_ratio_is_the_normal_model_posterior_variance_share(n_rows):
    """Gaussian groups of n rows (residual SD 1) with between-group SD 0.5: a group's posterior
    variance given the SDs is 1 / (n + 4), its share of τ² = 0.25 is 4 / (n + 4). Draws from
    that posterior give it within Monte Carlo error (2,000 draws: variance estimates within
    about 3 per cent; 10 per cent allowed)."""
    rng = np.random.default_rng(n_rows)
    tau, J, S = 0.5, 30, 2000
    y_bar = rng.normal(0, np.sqrt(tau**2 + 1 / n_rows), J)
    mean = y_bar * n_rows / (n_rows + 1 / tau**2)
    u = mean + rng.normal(0, np.sqrt(1 / (n_rows + 1 / tau**2)), (2, S // 2, J))
    post = xr.Dataset(
        {
            "sd|g": (("chain", "draw", "t"), np.full((2, S // 2, 1), tau)),
            "u|g": (("chain", "draw", "g", "t"), u[..., None]),
        }
    )
    ratio = float(shrinkage_ratios(post, "g")[0])
    assert ratio == pytest.approx(4 / (n_rows + 4), rel=0.10)
    # centred suits 64 rows (ratio 0.06); one row (0.8) and four (0.5, in the band where
    # either suits) keep what they have
    for now in ("centered", "noncentered"):
        new, _ = proposed_parameterization(post, {"g": (now,)}, ["g"])
        expected = {1: "noncentered", 4: now, 64: "centered"}[n_rows]
        assert new["g"] == (expected,)


def _few_rows() -> pd.DataFrame:
    """40 groups of two gaussian rows whose means hardly differ (group SD 0.05, residual SD 1):
    centred effects meet a funnel at an SD near zero."""
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(40), 2)
    y = 1 + rng.normal(0, 0.05, 40)[g] + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "g": [f"g{j:02d}" for j in g]})


def test_a_centred_funnel_is_switched_to_non_centred_and_the_summary_says_so(monkeypatch):
    """'auto' forced to centre the few-row factor: the first run diverges, the second samples it
    non-centred without divergences, and the fit's model and summary say so."""
    monkeypatch.setattr(
        hierbayes.model, "resolve_parameterization", lambda design, how: {"g": ("centered",)}
    )
    model = hb.Model("y ~ 1 + (1 | g)", data=_few_rows())
    fit = quiet_fit(model, draws=300, tune=300, chains=2, random_seed=3)
    assert model.parameterization == {"g": ("centered",)}  # the model itself is left alone
    assert fit.model.parameterization == {"g": ("noncentered",)}
    assert "z|g" in fit.idata["posterior"] and "u|g" in fit.idata["posterior"]
    note = [n for n in fit.diagnostics.notes if n.startswith("The first run failed (")]
    assert len(note) == 1 and "divergent transition" in note[0].split(")")[0]
    assert "switched g[Intercept] centred -> non-centred" in note[0]
    assert fit.diagnostics.divergences == 0
    text = str(fit.summary())
    assert "switched g[Intercept] centred -> non-centred" in text
    assert "g: non-centred" in text
