"""A full-size run that mixes slowly (an ESS short of 100 a requested chain, or an R-hat just over
1.01 that more chains can bring down; no divergences) gets as many chains more, one whose chains
are too short for R-hat is sampled again with longer ones, and says so; runs in worse trouble,
quick looks and clean runs do not."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from hierbayes.course import change_course, trouble
from hierbayes.course_extend import (
    EXTEND_MIN_DRAWS,
    combine_runs,
    convergence_rows,
    extension_seed,
    longer_chains,
    min_bulk_ess,
    rhat_within_noise,
    slow_mixing,
)
from hierbayes.diagnostics import check_convergence


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


def test_slow_mixing_is_short_ess_or_rhat_noise_without_divergences():
    slow, quick = _run(rho=0.9), _run(rho=0.0)
    assert slow_mixing(slow, 0)  # ESS about 210 of 400
    assert not slow_mixing(slow, 0, requested=1)  # of 100: met (its R-hat is not noise)
    assert not slow_mixing(quick, 0)  # clean
    apart = _run(rho=0.0, shift=0.3)  # R-hat over 1.01 with an ESS of thousands: not noise
    ((rhat, ess),) = convergence_rows(apart)
    assert rhat > 1.01 and ess > 2000
    assert not slow_mixing(apart, 0)
    assert not slow_mixing(_run(rho=0.0, shift=8.0), 0)  # chains elsewhere
    assert not slow_mixing(slow, 2)  # divergences: another course
    assert not slow_mixing(_run(rho=0.9, draws=EXTEND_MIN_DRAWS // 2), 0)  # quick look


def test_rhat_of_chains_of_one_distribution_is_about_sqrt_of_one_plus_2m_over_ess():
    """400 sets of 4 stationary AR(1) chains (rho 0.8, ESS about 110 a chain): the mean of
    R-hat² - 1 is 2 m / ESS (within 15%; its Monte Carlo error is about 3%), and at most 2%
    fall outside the 99% band that :func:`rhat_within_noise` allows (a bound of m / ESS, one
    chain count instead of the split halves, would put half of them outside)."""
    from arviz_stats.base import array_stats
    from scipy.signal import lfilter

    rng = np.random.default_rng(0)
    rho, chains = 0.8, 4
    start = rng.standard_normal((400, chains, 1)) * rho
    noise = rng.standard_normal((400, chains, 1000)) * np.sqrt(1 - rho**2)
    x = lfilter([1.0], [1.0, -rho], noise, axis=-1, zi=start)[0]
    rhat = np.asarray(array_stats.rhat(x, chain_axis=-2, draw_axis=-1))
    ess = np.asarray(array_stats.ess(x, chain_axis=-2, draw_axis=-1, method="bulk"))
    assert np.mean(rhat**2 - 1) == pytest.approx(np.mean(2 * chains / ess), rel=0.15)
    per_chain = ess / chains >= 101  # expected R-hat <= 1.01: noise alone can put it over
    pairs = zip(rhat[per_chain], ess[per_chain], strict=True)
    within = [rhat_within_noise(r, e, chains) for r, e in pairs]
    assert per_chain.sum() > 200 and np.mean(within) >= 0.98
    assert not rhat_within_noise(1.012, 300, chains)  # 75 a chain: no number of chains helps


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
        self.runs, self.calls, self.draws = list(runs), [], []

    def __call__(self, parameterization, target, draws=None):
        self.calls.append((dict(parameterization), target))
        self.draws.append(draws)
        return self.runs[len(self.calls) - 1]


class _Sampler:
    """Runs of AR(1) chains with autocorrelation ``rho``, as long as asked, a seed each."""

    def __init__(self, rho: float, seed: int = 50):
        self.rho, self.seed, self.draws = rho, seed, []

    def __call__(self, parameterization, target, draws):
        self.draws.append(draws)
        return _run(rho=self.rho, draws=draws, seed=self.seed + len(self.draws))


def test_a_slowly_mixing_clean_run_gets_as_many_chains_more_then_longer_ones_and_a_note_each_time():
    """R-hat 1.0095 at a bulk ESS of 176, short of the 400 that 4 requested chains want: 4 chains
    more. The 8 chains together have an R-hat over 1.01 at about 35 ESS a chain, which more chains
    would not bring down: 4 chains of 4 times the draws replace them (R-hat <= 1.01, ESS over
    400). The bar stays at 400; the times add up."""
    first = _Runs(_run(rho=0.93, seed=23))
    ((rhat, ess),) = convergence_rows(first.runs[0])
    assert rhat <= 1.01 and ess < 400
    extra = _Sampler(rho=0.93)
    idata, used = change_course(
        first, {"g": ("noncentered",)}, ["g"], 0.8, raise_target=True, extend=extra
    )
    assert len(first.calls) == 1 and extra.draws == [1000, 4000]
    assert dict(idata["posterior"].sizes) == {"chain": 4, "draw": 4000, "t": 1}
    assert used == {"g": ("noncentered",)} and idata["posterior"].attrs["requested_chains"] == 4
    notes = idata["posterior"].attrs["sampling_notes"].split("\n")
    assert notes[0].startswith(f"The run mixed slowly (R-hat up to {rhat:.3f}, smallest bulk ")
    assert "so 4 more chains were sampled: the 8 chains together have R-hat up to 1.0" in notes[0]
    assert "ESS a chain, its chains were too short for R-hat, which more chains" in notes[1]
    assert "4 chains of 4000 draws, which replace them: they have R-hat <= 1.01" in notes[1]
    assert "(wanted: 400, 100 a requested chain)" in notes[1] and len(notes) == 2
    assert min_bulk_ess(idata) >= 400 and not trouble(idata)
    assert idata["posterior"].attrs["sampling_time"] == 6.0


def test_a_run_that_still_fails_after_its_extensions_says_what_to_try():
    """Chains too short for R-hat, sampled 4 times as long, are still too short (the draws
    are far more autocorrelated than the first run's): the note says which parameter and what
    to try."""
    extra = _Sampler(rho=0.995)
    idata, _ = change_course(
        _Runs(_run(rho=0.95, seed=5)), {"g": ("noncentered",)}, ["g"], 0.8,
        raise_target=True, extend=extra,
    )  # fmt: skip
    # lengthened once: what follows is more chains of the new length, never longer ones again
    assert extra.draws[0] == 4000 and set(extra.draws) == {4000} and len(extra.draws) <= 2
    notes = idata["posterior"].attrs["sampling_notes"].split("\n")
    assert "its chains were too short for R-hat" in notes[0]
    assert notes[-1].startswith("sd|g[Intercept] still has R-hat 1.")


def test_extension_stops_as_soon_as_the_requested_ess_is_met():
    """ESS about 320 of 400: one extension (about 650 of 8 chains) meets the requested chains'
    400; the bar does not double with the chains, and the fit's diagnostics do not warn of it."""
    first = _Runs(_run(rho=0.85, seed=1))
    extra = _Runs(_run(rho=0.85, seed=41), _run(rho=0.85, seed=3))
    assert min_bulk_ess(first.runs[0]) < 400
    idata, _ = change_course(
        first, {"g": ("noncentered",)}, ["g"], 0.8, raise_target=True, extend=extra
    )
    assert len(extra.calls) == 1 and idata["posterior"].sizes["chain"] == 8
    assert 400 <= min_bulk_ess(idata) < 800  # short of 100 a chain sampled, not a chain asked
    problems = check_convergence(idata, emit=False).problems
    assert not any(p.problem.startswith("ESS") for p in problems)
    # without the requested chains (a fit saved before them), the bar is the chains sampled
    del idata["posterior"].attrs["requested_chains"]
    problems = check_convergence(idata, emit=False).problems
    assert [p.problem for p in problems if p.problem.startswith("ESS")] == ["ESS < 800"]


def test_extension_stops_once_the_chains_together_mix_well_enough():
    first, extra = _Runs(_run(rho=0.9, seed=6)), _Runs(_run(rho=0.0, seed=2))
    assert convergence_rows(first.runs[0])[0][0] <= 1.01  # ESS short, R-hat not: more chains
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
        (_run(rho=0.0, shift=0.3), "R-hat 1.011 with thousands of ESS: not noise"),
    ],
)
def test_other_runs_are_not_extended(run, why):
    extra = _Runs(_run(seed=9))
    idata, _ = change_course(
        _Runs(run), {"g": ("noncentered",)}, [], 0.8, raise_target=False, extend=extra
    )
    assert extra.calls == [], why
    assert idata["posterior"].sizes["chain"] == 4


def test_an_rhat_just_over_that_can_be_noise_gets_more_chains():
    """R-hat 1.018 with a bulk ESS of 441 (110 a chain: expected R-hat 1.009, the 99% band up to
    1.025): four chains more from the same distribution."""
    run = _run(rho=0.8, seed=7)
    ((rhat, ess),) = convergence_rows(run)
    assert 1.01 < rhat < 1.025 and 400 <= ess
    extra = _Runs(_run(rho=0.8, seed=40), _run(rho=0.8, seed=41))
    idata, _ = change_course(
        _Runs(run), {"g": ("noncentered",)}, [], 0.8, raise_target=False, extend=extra
    )
    assert len(extra.calls) >= 1
    note = idata["posterior"].attrs["sampling_notes"].split("\n")[0]
    assert note.startswith(f"The run mixed slowly (R-hat up to {rhat:.3f}, smallest bulk ESS 441")


def _with(run, **attrs):
    run["posterior"].attrs.update(attrs)
    return run


def test_combine_runs_keeps_both_notes_renumbered_and_the_worse_checks():
    first = _with(
        _run(seed=1), sampling_notes="Chain 2 of 4 started far away.", laplace_pareto_k=0.3
    )
    second = _with(
        _run(seed=2),
        sampling_notes="Chain 1 of 4 started far away; run again from chain 3.",
        laplace_pareto_k=0.8,
    )
    attrs = combine_runs(first, second)["posterior"].attrs
    assert attrs["sampling_notes"].split("\n") == [
        "Chain 2 of 4 started far away.",
        "Chain 5 of 8 started far away; run again from chain 7.",
    ]
    assert attrs["laplace_pareto_k"] == 0.8
    assert combine_runs(second, first)["posterior"].attrs["laplace_pareto_k"] == 0.8
    nan = combine_runs(first, _with(_run(seed=3), laplace_pareto_k=float("nan")))
    assert np.isnan(nan["posterior"].attrs["laplace_pareto_k"])  # could not be checked
    ok = {"agq_check_sd": 0.01, "agq_check_max_dev": 0.04, "agq_check_nodes": 11,
          "agq_check_reference_nodes": 23, "agq_check_draws": 400}  # fmt: skip
    bad = ok | {"agq_check_sd": 0.4, "agq_check_max_dev": 1.3}
    both = combine_runs(_with(_run(seed=1), **ok), _with(_run(seed=2), **bad))
    assert both["posterior"].attrs["agq_check_sd"] == 0.4
    assert both["posterior"].attrs["agq_check_max_dev"] == 1.3
    both = combine_runs(_with(_run(seed=1), **bad), _with(_run(seed=2), **ok))
    assert both["posterior"].attrs["agq_check_sd"] == 0.4


def test_a_run_whose_laplace_check_failed_is_not_extended():
    """It is run again with the effects sampled (laplace_fit.checked_laplace): no chains added."""
    extra = _Runs(_run(rho=0.9, seed=2))
    idata, _ = change_course(
        _Runs(_with(_run(rho=0.9, seed=1), laplace_pareto_k=0.9)),
        {"g": ("noncentered",)},
        [],
        0.8,
        raise_target=False,
        extend=extra,
    )
    assert extra.calls == [] and idata["posterior"].sizes["chain"] == 4


@pytest.mark.parametrize(
    ("parameterization", "target_accept", "extended"),
    [("auto", None, True), ("auto", 0.9, False), ("noncentered", None, False)],
)
def test_only_a_default_fit_is_extended(
    monkeypatch, sleep, parameterization, target_accept, extended
):
    """README: "a full-size default run". A target_accept or a parameterisation of the user's
    keeps the run as asked."""
    import dataclasses

    import hierbayes as hb
    import hierbayes.course as course
    from hierbayes.build.settings import default_target_accept

    @dataclasses.dataclass
    class Density:
        adaptation: str = "diag"

    calls = []

    def sample_compiled(density, **settings):
        calls.append(settings["random_seed"])
        return _run(rho=0.9, seed=len(calls), draws=settings["draws"])

    monkeypatch.setattr(course, "sample_compiled", sample_compiled)
    model = hb.Model("Reaction ~ Days + (1 | Subject)", sleep, parameterization=parameterization)
    target = target_accept or default_target_accept(model.design, model.parameterization)
    settings = {"draws": 1000, "chains": 4, "random_seed": 1, "target_accept": target}
    idata, _ = course.sample_on_course(model, Density(), target_accept is None, settings)
    assert (len(calls) > 1) == extended
    sizes = idata["posterior"].sizes
    assert (sizes["chain"] * sizes["draw"] > 4000) == extended


def test_the_log_likelihood_size_counts_the_chains_sampled(monkeypatch, sleep, sleep_fit):
    """A fit asked for 4 chains that sampled 8: the pointwise log-likelihood is left out when 8
    chains' table is over the limit, though 4 chains' would fit."""
    from helpers import SLEEP_FORMULA, quiet_fit

    import hierbayes as hb
    import hierbayes.model as model_module

    run = xr.DataTree.from_dict(
        {g: sleep_fit.idata[g].to_dataset() for g in ("posterior", "sample_stats")}
    )
    model = hb.Model(SLEEP_FORMULA, data=sleep)
    monkeypatch.setattr(model_module, "sample_on_course", lambda m, *a: (combine_runs(run, run), m))
    size = model.design.n_obs * 4 * 500  # 4 requested chains x 500 draws
    monkeypatch.setattr(model_module, "LOG_LIKELIHOOD_MAX_SIZE", size)
    fit = quiet_fit(model, draws=500, tune=500, chains=4, random_seed=1)
    assert fit.idata["posterior"].sizes["chain"] == 8
    assert "log_likelihood" not in fit.idata.children
    monkeypatch.setattr(model_module, "LOG_LIKELIHOOD_MAX_SIZE", 2 * size)
    fit = quiet_fit(model, draws=500, tune=500, chains=4, random_seed=1)
    assert fit.idata["log_likelihood"].sizes["chain"] == 8


def test_chains_too_short_for_rhat_are_sampled_again_longer_and_replaced():
    """R-hat 1.026 at a bulk ESS of 98 (25 a chain: R-hat about 1.04 expected, more chains would
    not bring it down): the same 4 chains, 4 times as long (for 150 ESS a chain, at most 4), and
    those draws replace the first run's; the note says why and what came of it."""
    first = _run(rho=0.95, seed=5)
    ((rhat, ess),) = convergence_rows(first)
    assert 1.01 < rhat < 1.05 and ess < 100
    assert longer_chains(first, 0) == 4
    extra = _Sampler(rho=0.95)
    idata, _ = change_course(
        _Runs(first), {"g": ("noncentered",)}, [], 0.8, raise_target=False, extend=extra
    )
    assert extra.draws[0] == 4000
    post = idata["posterior"]
    assert post.sizes["chain"] == 4 and post.sizes["draw"] >= 4000
    note = post.attrs["sampling_notes"].split("\n")[0]
    assert note.startswith(f"The run mixed slowly (R-hat up to {rhat:.3f}, smallest bulk ESS")
    assert "its chains were too short for R-hat" in note
    assert "sampled again with 4 chains of 4000 draws, which replace them" in note
    assert post.attrs["sampling_time"] >= 4.0  # both runs'
    assert post.attrs["requested_chains"] == 4


@pytest.mark.parametrize(
    ("run", "divergences", "why"),
    [
        (_run(rho=0.0), 0, "clean"),
        (_run(rho=0.95, seed=5), 2, "divergent: another course"),
        (_run(rho=0.0, shift=0.3), 0, "R-hat 1.011 with thousands of ESS: chains apart"),
        (_run(rho=0.8, seed=7), 0, "R-hat 1.018 at 110 ESS a chain: more chains can do it"),
        (_run(rho=0.95, seed=5, draws=EXTEND_MIN_DRAWS // 2), 0, "a quick look"),
    ],
)
def test_other_runs_are_not_sampled_longer(run, divergences, why):
    assert longer_chains(run, divergences) == 0, why
