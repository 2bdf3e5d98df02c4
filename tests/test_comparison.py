"""PSIS-LOO with plain-word warnings, model comparison and grouped K-fold."""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fakes import fake_fit
from helpers import quiet_fit, simulate_correlated

import hierbayes as hb
from hierbayes.comparison import KFold, _assign_folds, _fold_units, _sampler_settings, kfold, loo
from hierbayes.errors import DataError, LooWarning


def _ll_fit(seed: int, heavy: bool, scale: float = 1.2) -> hb.Fit:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"y": rng.normal(size=12), "g": np.repeat(list("abcd"), 3)})
    ll = -1.0 + 0.1 * rng.standard_normal((2, 500, 12))
    if heavy:
        # observations 0 and 4 (groups a and b): importance ratios exp(-ll) with a very heavy tail
        ll[:, :, [0, 4]] = -np.exp(scale * rng.standard_normal((2, 500, 2)))
    model = hb.Model("y ~ 1 + (1 | g)", data=data)
    return fake_fit(model, draws=500, log_likelihood=ll)


def test_loo_matches_arviz(sleep_fit: hb.Fit) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # LooWarning and arviz's own
        ours = loo(sleep_fit)
        theirs = az.loo(sleep_fit.idata, pointwise=True)
    assert ours.elpd == theirs.elpd
    assert ours.se == theirs.se


def test_high_pareto_k_is_reported_in_plain_words() -> None:
    fit = _ll_fit(0, heavy=True)
    with pytest.warns(LooWarning, match=r"unreliable for 2 of 12 observations.*g a \(1\), b \(1\)"):
        result = fit.loo()
    assert (np.asarray(result.pareto_k)[[0, 4]] > result.good_k).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", LooWarning)
        _ll_fit(0, heavy=False).loo()
    # ratios so heavy-tailed that arviz cannot estimate k (NaN) count as unreliable too
    with pytest.warns(LooWarning, match="unreliable for 2 of 12"):
        _ll_fit(0, heavy=True, scale=2.5).loo()


def test_compare_table() -> None:
    good, bad = _ll_fit(1, heavy=False), _ll_fit(1, heavy=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LooWarning)
        table = hb.compare({"good": good, "bad": bad})
        elpd_bad = loo(bad).elpd
    assert list(table.index) == ["good", "bad"]
    assert table.loc["bad", "elpd"] == pytest.approx(elpd_bad)
    assert table.loc["bad", "elpd_diff"] == pytest.approx(elpd_bad - loo(good).elpd)


def test_compare_needs_the_same_observations() -> None:
    rng = np.random.default_rng(3)
    other = pd.DataFrame({"y": rng.normal(size=12), "g": np.repeat(list("abcd"), 3)})
    mismatched = fake_fit(
        hb.Model("y ~ 1 + (1 | g)", data=other), draws=500, log_likelihood=np.zeros((2, 500, 12))
    )
    with pytest.raises(DataError, match="not fitted to the same observations"):
        hb.compare({"a": _ll_fit(1, heavy=False), "b": mismatched})
    with pytest.raises(ValueError, match="at least two fits"):
        hb.compare({"a": mismatched})


def test_folds_never_split_a_group() -> None:
    units = np.repeat([f"g{j}" for j in range(7)], [1, 2, 3, 4, 5, 6, 7])
    fold = _assign_folds(units, 3, np.random.default_rng(0))
    table = pd.DataFrame({"unit": units, "fold": fold})
    assert table.groupby("unit")["fold"].nunique().eq(1).all()
    assert sorted(table.groupby("fold")["unit"].nunique()) == [2, 2, 3]
    with pytest.raises(ValueError, match="between 2 and the number of units"):
        _assign_folds(units, 8, np.random.default_rng(0))


def test_fold_units(sleep_fit: hb.Fit) -> None:
    by, units = _fold_units(sleep_fit, "group")
    assert by == "Subject" and units[0] == "308" and len(set(units)) == 18
    by, units = _fold_units(sleep_fit, "obs")
    assert by == "obs" and len(set(units)) == 180
    with pytest.raises(ValueError, match="Unknown by='school'"):
        _fold_units(sleep_fit, "school")


@pytest.mark.slow
def test_grouped_kfold_on_a_small_model() -> None:
    data, _ = simulate_correlated(5, n_groups=8, n_per_group=5)
    fit = quiet_fit(
        hb.Model("y ~ x + (1 | g)", data=data), draws=100, tune=100, chains=1, random_seed=2
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cv = fit.kfold(k=2, random_seed=4, draws=30, tune=20)  # too few draws: both folds warn
    convergence = [w for w in caught if issubclass(w.category, hb.ConvergenceWarning)]
    assert len(convergence) == 1  # one for the kfold() call, not one per fold or parameter
    assert convergence[0].filename == __file__
    assert re.match(
        r"The refits of 2 of 2 folds \(0, 1\) have convergence", str(convergence[0].message)
    )
    assert re.search(
        r"\n  fold +parameter +problem +value +what to try\n  0 ", str(convergence[0].message)
    )
    points = cv.pointwise
    assert cv.by == "g" and cv.k == 2
    assert list(points.index) == list(data.index)
    assert points.groupby("group")["fold"].nunique().eq(1).all()  # no group split
    assert points["group"].tolist() == data["g"].tolist()
    assert cv.folds["n_groups"].tolist() == [4, 4]
    assert cv.folds["elpd"].sum() == pytest.approx(cv.elpd)
    assert cv.elpd == pytest.approx(points["elpd"].sum())
    per_group = points.groupby("group")["elpd"].sum()
    assert cv.se == pytest.approx(np.sqrt(8 * per_group.var(ddof=1)))
    assert np.isfinite(points["elpd"]).all() and (points["elpd"] < 0).all()
    assert "2-fold cross-validation holding out 'g' groups" in str(cv)
    with pytest.raises(ValueError, match="between 2 and the number of units"):
        kfold(fit, k=9)


@pytest.mark.slow
def test_loo_computes_a_log_likelihood_that_was_not_stored(sleep_fit, sleep):
    from dataclasses import replace

    without = xr.DataTree.from_dict(
        {
            name: node.to_dataset()
            for name, node in sleep_fit.idata.children.items()
            if name != "log_likelihood"
        }
    )
    light = replace(sleep_fit, idata=without)
    assert "log_likelihood" not in light.idata.children
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, stored = light.loo(), sleep_fit.loo()
    assert float(ours.elpd) == pytest.approx(float(stored.elpd), rel=1e-10)
    assert "log_likelihood" not in light.idata.children  # the fit itself is not changed

    fit = quiet_fit(
        hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep),
        draws=20,
        tune=20,
        chains=1,
        random_seed=1,
        log_likelihood=False,
    )
    assert "log_likelihood" not in fit.idata.children


def test_loo_is_cached_on_the_fit() -> None:
    fit = _ll_fit(1, heavy=False)
    first = fit.loo()
    assert fit.loo() is first and loo(fit) is first
    table = hb.compare({"a": fit, "b": _ll_fit(1, heavy=False)})
    assert table.loc["a", "elpd"] == first.elpd
    assert fit.loo() is first
    assert any(note.startswith("weight (stacking)") for note in table.notes)
    bma = hb.compare({"a": fit, "b": _ll_fit(1, heavy=False)}, method="pseudo-BMA")
    assert any(note.startswith("weight (pseudo-BMA)") for note in bma.notes)


def _kfold(elpd: np.ndarray, groups: np.ndarray, k: int = 2) -> KFold:
    pointwise = pd.DataFrame({"fold": np.arange(len(elpd)) % k, "group": groups, "elpd": elpd})
    per_group = pointwise.groupby("group")["elpd"].sum()
    se = float(np.sqrt(len(per_group) * per_group.var(ddof=1)))
    folds = pointwise.groupby("fold").agg(elpd=("elpd", "sum"))
    return KFold(float(elpd.sum()), se, pointwise, folds, "g", k)


def test_compare_kfold_results_difference_and_its_se_by_hand() -> None:
    rng = np.random.default_rng(8)
    groups = np.repeat([f"g{j}" for j in range(6)], 3)
    a = -1.0 + 0.3 * rng.standard_normal(18)
    b = a - 0.4 + 0.5 * rng.standard_normal(18)
    table = hb.compare({"b": _kfold(b, groups), "a": _kfold(a, groups)})
    assert list(table.index) == ["a", "b"]  # best first
    assert list(table.columns[:4]) == ["rank", "elpd_diff", "dse", "p_worse"]
    # the difference by held-out group: six pairs of group sums
    d = pd.Series(b - a).groupby(groups).sum()
    assert d.shape == (6,)
    assert table.loc["b", "elpd_diff"] == pytest.approx(b.sum() - a.sum(), rel=1e-12)
    assert table.loc["b", "dse"] == pytest.approx(np.sqrt(6 * d.var(ddof=1)), rel=1e-12)
    assert table.loc["a", "elpd_diff"] == 0 and table.loc["a", "dse"] == 0
    assert table.loc["b", "elpd"] == pytest.approx(b.sum())
    diff, dse = table.loc["b", "elpd_diff"], table.loc["b", "dse"]
    from scipy.stats import norm

    assert table.loc["b", "p_worse"] == pytest.approx(norm.cdf(-diff / dse))
    assert table["weight"].sum() == pytest.approx(1.0)
    shown = repr(_kfold(a, groups))
    assert shown.startswith("<KFold> 2-fold cross-validation holding out 'g' groups: elpd")
    assert len(shown.splitlines()) == 1 + 1 + 1 + 2  # summary, header, index name, two folds
    assert "weight (stacking)" in repr(table) and "dse" in table._repr_html_()


def test_compare_refuses_kfold_results_of_other_data_and_mixes() -> None:
    groups = np.repeat(["a", "b", "c"], 2)
    one = _kfold(np.full(6, -1.0), groups)
    other = _kfold(np.full(6, -1.0), np.repeat(["a", "b", "d"], 2))
    with pytest.raises(DataError, match="hold out different units of 'g'"):
        hb.compare({"one": one, "other": other})
    shorter = _kfold(np.full(4, -1.0), groups[:4])
    with pytest.raises(DataError, match="do not score the same held-out data"):
        hb.compare({"one": one, "shorter": shorter})
    with pytest.raises(hb.HierbayesError, match=r"got K-fold results \(one\) and fits \(fit\)"):
        hb.compare({"one": one, "fit": _ll_fit(1, heavy=False)})
    with pytest.raises(ValueError, match="stacking weights only"):
        hb.compare({"one": one, "two": one}, method="pseudo-BMA")


def test_kfold_refits_sample_the_chains_asked_for_not_those_an_extension_added():
    """A fit extended from 4 to 8 chains (course_extend) keeps ``requested_chains``: the
    folds' refits sample 4."""
    posterior = xr.Dataset({"mu": (("chain", "draw"), np.zeros((8, 1000)))})
    posterior.attrs.update(tuning_steps=1000, requested_chains=4)
    fit = SimpleNamespace(idata={"posterior": posterior})
    assert _sampler_settings(fit) == {"draws": 1000, "tune": 1000, "chains": 4}
    del posterior.attrs["requested_chains"]  # a run not extended, or saved before the attribute
    assert _sampler_settings(fit)["chains"] == 8
