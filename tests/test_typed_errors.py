"""Bad arguments to the public API beyond Model.fit and predict (see test_bad_input.py): each gets
a typed hierbayes error naming the argument, model or column. Nothing here samples: the fits
have made-up draws (``fake_fit``) and every check runs before any work is sent out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).parent))
from fakes import fake_fit
from fakes import tiny_data as _df
from fakes import tiny_fit as _fit
from fakes import tiny_model as _model

import hierbayes as hb
from hierbayes import errors


@cache
def _other_fit() -> hb.Fit:
    return fake_fit(hb.Model("y ~ x + (1 | g)", _df(y=np.arange(24.0))), draws=20)


@cache
def _level2_fit() -> hb.Fit:
    table = pd.DataFrame({"g": list("abcd"), "w": [1.0, 2.0, 3.0, 4.0]})
    return fake_fit(hb.Model("y ~ x + w + (1 | g)", _df(), level2={"g": table}), draws=20)


@cache
def _flat_fit() -> hb.Fit:
    return fake_fit(hb.Model("y ~ x", _df()), draws=20)


def _power(**kwargs: Any) -> Callable[[], Any]:
    plan = {
        "fixed": {"Intercept": 1.0, "x": 0.0},
        "sd": {"g": 1.0},
        "sigma": 1.0,
        "level1": {"x": stats.norm()},
        "target": "x",
        "progressbar": False,
    }
    return lambda: hb.power("y ~ x + (1 | g)", **{**plan, **kwargs})


def _sbc(**kwargs: Any) -> Callable[[], Any]:
    return lambda: hb.sbc(_model(), **{"n": 2, "progressbar": False, **kwargs})


CASES: list[tuple[str, Callable[[], Any], str, str]] = [
    # hb.compare
    ("compare one fit", lambda: hb.compare({"a": _fit()}), "ArgumentError", "1 entry .'a'."),
    ("compare a list", lambda: hb.compare([_fit(), _fit()]), "ArgumentError", "got list"),
    (
        "compare a non-fit",
        lambda: hb.compare({"a": _fit(), "b": 3}),
        "ArgumentError",
        "got int for model 'b'",
    ),
    (
        "compare names that clash",
        lambda: hb.compare({1: _fit(), "1": _fit()}),
        "ArgumentError",
        "two models named '1'",
    ),
    (
        "compare method typo",
        lambda: hb.compare({"a": _fit(), "b": _fit()}, method="bma"),
        "ArgumentError",
        "method must be one of 'stacking'.*'bma'",
    ),
    (
        "compare fits on different data",
        lambda: hb.compare({"a": _fit(), "b": _other_fit()}),
        "DataError",
        "'a' and 'b' were not fitted to the same observations",
    ),
    ("kfold unknown by", lambda: _fit().kfold(by="x"), "ArgumentError", "Unknown by='x'"),
    ("kfold k=1", lambda: _fit().kfold(k=1), "ArgumentError", "k must be an integer >= 2, got 1"),
    ("kfold k=2.5", lambda: _fit().kfold(k=2.5), "ArgumentError", r"k must be .*got 2\.5"),
    ("kfold k=9", lambda: _fit().kfold(k=9), "ArgumentError", "between 2 and the number.*got 9"),
    ("kfold draws=0", lambda: _fit().kfold(draws=0), "ArgumentError", "draws must be a positive"),
    (
        "kfold n_effect_draws=0",
        lambda: _fit().kfold(n_effect_draws=0),
        "ArgumentError",
        "n_effect_draws must be a positive integer, got 0",
    ),
    ("kfold random_seed=-1", lambda: _fit().kfold(random_seed=-1), "ArgumentError", "random_seed"),
    # data sets
    (
        "datasets.load unknown",
        lambda: hb.datasets.load("nope"),
        "ArgumentError",
        "Unknown data set 'nope'",
    ),
    (
        "load misspelt",
        lambda: hb.datasets.load("sleepstudi"),
        "ArgumentError",
        "Did you mean 'sleepstudy'",
    ),
    ("datasets.load a number", lambda: hb.datasets.load(3), "ArgumentError", "Unknown data set 3"),
    # studies
    ("sbc n=0", _sbc(n=0), "ArgumentError", "n must be a positive integer, got 0"),
    ("sbc n=-1", _sbc(n=-1), "ArgumentError", "n must be a positive integer, got -1"),
    ("sbc n=2.5", _sbc(n=2.5), "ArgumentError", r"n must be a positive integer, got 2\.5"),
    ("sbc n=True", _sbc(n=True), "ArgumentError", "n must be a positive integer, got True"),
    ("sbc draws=0", _sbc(draws=0), "ArgumentError", "draws must be a positive integer"),
    ("sbc sampler typo", _sbc(sampler="stan"), "ArgumentError", "sampler 'stan'"),
    ("sbc random_seed=-1", _sbc(random_seed=-1), "ArgumentError", "random_seed.*-1"),
    ("sbc rhat_max=1", _sbc(rhat_max=1.0), "ArgumentError", "rhat_max must be a number above 1"),
    (
        "sbc of a formula",
        lambda: hb.sbc("y ~ x + (1 | g)", n=2),
        "ArgumentError",
        "sbc.. takes a hierbayes.Model, got str",
    ),
    ("power n=0", _power(n=0), "ArgumentError", "n must be a positive integer, got 0"),
    ("power n=2.5", _power(n=2.5), "ArgumentError", r"n must be a positive integer, got 2\.5"),
    ("power prob=1.5", _power(prob=1.5), "ArgumentError", r"prob must be between 0 and 1.*1\.5"),
    ("power n_groups=20", _power(n_groups=20), "ArgumentError", "n_groups must be a non-empty"),
    ("power n_per_group=[0]", _power(n_per_group=[0]), "ArgumentError", "n_per_group.*[0]"),
    ("power chains=0", _power(chains=0), "ArgumentError", "chains must be a positive integer"),
    # model arguments
    ("formula not text", lambda: hb.Model(123, _df()), "ArgumentError", "formula must be a string"),
    (
        "missing typo",
        lambda: hb.Model("y ~ x + (1 | g)", _df(), missing="omit"),
        "ArgumentError",
        "missing must be 'raise' or 'drop', got 'omit'",
    ),
    (
        "weights not a name",
        lambda: hb.Model("y ~ x + (1 | g)", _df(), weights=3),
        "ArgumentError",
        "weights must be a column name, got int",
    ),
    (
        "level2 table of the wrong type",
        lambda: hb.Model("y ~ x + (1 | g)", _df(), level2={"g": 3}),
        "ArgumentError",
        r"level2\['g'\] must be a DataFrame",
    ),
    (
        "from_levels level1 not text",
        lambda: hb.Model.from_levels(1, group="g", data=_df()),
        "ArgumentError",
        "level1 must be a string",
    ),
    (
        "trials not a name",
        lambda: hb.Model("y ~ x + (1 | g)", _df(), family="binomial", trials=3),
        "ArgumentError",
        "trials must be a column name, got int",
    ),
    (
        "level2 not a dict",
        lambda: hb.Model("y ~ x + (1 | g)", _df(), level2=["g"]),
        "ArgumentError",
        r"level2 must be a dict by grouping factor.*\['g'\] \(list\)",
    ),
    (
        "from_levels random not a list",
        lambda: hb.Model.from_levels("y ~ 1 + x", random=3, group="g", data=_df()),
        "ArgumentError",
        "random must list coefficients.*got 3",
    ),
    (
        "from_levels level2 not a dict",
        lambda: hb.Model.from_levels("y ~ 1 + x", ["~ w"], group="g", data=_df()),
        "ArgumentError",
        "level2 must be a dict of level-2 equations.*got list",
    ),
    (
        "from_levels correlated='yes'",
        lambda: hb.Model.from_levels("y ~ 1 + x", group="g", data=_df(), correlated="yes"),
        "ArgumentError",
        "correlated must be True or False, got 'yes'",
    ),
    # fit methods
    (
        "simulate_new_groups with a missing level-2 value",
        lambda: _level2_fit().simulate_new_groups(2, level2={"w": np.nan}),
        "MissingValueError",
        "level2's 'w' has 2 missing value.*new groups \\[0, 1\\]",
    ),
    (
        "predictions of a list",
        lambda: _fit().predictions([1.0]),
        "ArgumentError",
        "newdata must be a pandas DataFrame, got list",
    ),
    (
        "predict summary='yes'",
        lambda: _fit().predict(summary="yes"),
        "ArgumentError",
        "summary must be True or False, got 'yes'",
    ),
    (
        "predict level2 not a dict",
        lambda: _fit().predict(_df(), level2=3),
        "ArgumentError",
        "level2 must be a dict by grouping factor.*got 3",
    ),
    ("hypothesis not text", lambda: _fit().hypothesis(3), "SummaryError", "as text.*got 3"),
    ("save to a number", lambda: _fit().save(3), "ArgumentError", "path must be a file path"),
    ("load a number", lambda: hb.load(3), "ArgumentError", "path must be a file path.*3 .int."),
    # summaries and equations
    ("equations form typo", lambda: _model().equations(form="mixed"), "ArgumentError", "'mixed'"),
    ("equations notation", lambda: _model().equations(notation="hlm"), "ArgumentError", "'hlm'"),
    ("fixef by typo", lambda: _fit().fixef(by="term"), "SummaryError", "Unknown by='term'"),
    ("ranef without groups", lambda: _flat_fit().ranef(), "SummaryError", "no group-level terms"),
    ("coef without groups", lambda: _flat_fit().coef(), "SummaryError", "would equal fixef"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_argument_gets_a_typed_error_naming_it(case: tuple) -> None:
    _, call, error, match = case
    with pytest.raises(getattr(errors, error), match=match):
        call()


def test_errors_that_used_to_be_plain_are_still_the_builtin_kinds(tiny_data) -> None:
    """Callers that caught ValueError or TypeError keep catching them."""
    with pytest.raises(ValueError, match="Unknown data set"):
        hb.datasets.load("nope")
    with pytest.raises(TypeError, match="formula must be a string"):
        hb.Model(123, tiny_data)


def test_predictions_take_a_polars_frame_as_predict_does(tiny_data, tiny_fit) -> None:
    pl = pytest.importorskip("polars")
    new = tiny_data.iloc[:5]
    expected = tiny_fit.predictions(new, groups="population")
    got = tiny_fit.predictions(pl.from_pandas(new), groups="population")
    pd.testing.assert_frame_equal(got, expected)
