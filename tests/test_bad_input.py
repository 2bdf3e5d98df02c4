"""Catalogue of bad inputs (other than formula text): each gets a typed error naming the culprit.

One case per bad input: the exception must be the named :mod:`hierbayes.errors` class and its
message must match the culprit's name. Nothing here samples: arguments and data are checked
before sampling, and the cases that need a fit use a fit with made-up draws (``fake_fit``).

Run as a script to count, for the code on ``PYTHONPATH``, how many cases get a typed error that
names the culprit, an untyped or unclear error, or are accepted silently::

    uv run python tests/test_bad_input.py
    git archive main | tar -x -C /tmp/main-src && PYTHONPATH=/tmp/main-src \\
        uv run python tests/test_bad_input.py        # the same cases on main
"""

from __future__ import annotations

import atexit
import json
import re
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes import tiny_data as _df
from fakes import tiny_fit as _fit
from fakes import tiny_model as _model

import hierbayes as hb
from hierbayes import errors

WORK = Path(tempfile.mkdtemp(prefix="hb-bad-input-"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[], Any]
    error: str  # name of a class in hierbayes.errors
    match: str
    hangs_on_main: bool = False


def _fit_with(**kwargs: Any) -> Callable[[], Any]:
    def call() -> Any:
        settings = {"draws": 20, "tune": 20, "chains": 1, "random_seed": 1}
        settings.update(kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _model().fit(**settings)

    return call


def _with_priors(priors: Any) -> Callable[[], Any]:
    return lambda: hb.Model("y ~ x + (1 + x | g)", _df(), priors=priors)


def _model_on(data: Any, formula: str = "y ~ x + (1 | g)", **kwargs: Any) -> Callable[[], Any]:
    return lambda: hb.Model(formula, data, **kwargs)


def _swap_columns(df: pd.DataFrame, columns: Any) -> pd.DataFrame:
    df = df.copy()
    df.columns = columns
    return df


FIT_CASES = [
    Case("draws=True", _fit_with(draws=True), "ArgumentError", "draws.*True"),
    Case("draws=False", _fit_with(draws=False), "ArgumentError", "draws.*False"),
    Case("draws=0", _fit_with(draws=0), "HierbayesError", "draws.*0"),
    Case("draws=-5", _fit_with(draws=-5), "HierbayesError", "draws.*-5"),
    Case("draws=1.5", _fit_with(draws=1.5), "HierbayesError", r"draws.*1\.5"),
    Case("draws='100'", _fit_with(draws="100"), "HierbayesError", "draws.*'100'"),
    Case("tune=-1", _fit_with(tune=-1), "HierbayesError", "tune.*-1"),
    Case("tune=True", _fit_with(tune=True), "ArgumentError", "tune.*True"),
    Case("tune=2.0", _fit_with(tune=2.0), "HierbayesError", r"tune.*2\.0"),
    Case("chains=0", _fit_with(chains=0), "HierbayesError", "chains.*0"),
    Case("chains=True", _fit_with(chains=True), "ArgumentError", "chains.*True"),
    Case("chains='4'", _fit_with(chains="4"), "HierbayesError", "chains.*'4'"),
    Case("cores=0", _fit_with(cores=0), "ArgumentError", "cores.*0", hangs_on_main=True),
    Case("cores=-1", _fit_with(cores=-1), "ArgumentError", "cores.*-1"),
    Case("cores=0 sampler=pymc", _fit_with(cores=0, sampler="pymc"), "ArgumentError", "cores.*0"),
    Case("cores=1.5", _fit_with(cores=1.5), "ArgumentError", r"cores.*1\.5"),
    Case("cores='all'", _fit_with(cores="all"), "ArgumentError", "cores.*'all'"),
    Case("random_seed='abc'", _fit_with(random_seed="abc"), "ArgumentError", "random_seed.*abc"),
    Case("random_seed=-1", _fit_with(random_seed=-1), "ArgumentError", "random_seed.*-1"),
    Case("random_seed=1.5", _fit_with(random_seed=1.5), "ArgumentError", r"random_seed.*1\.5"),
    Case("random_seed=2**64", _fit_with(random_seed=2**64), "ArgumentError", "random_seed"),
    Case("random_seed=True", _fit_with(random_seed=True), "ArgumentError", "random_seed.*True"),
    Case("random_seed=[1, 2]", _fit_with(random_seed=[1, 2]), "ArgumentError", "random_seed"),
    Case(
        "target_accept='high'",
        _fit_with(target_accept="high"),
        "ArgumentError",
        "target_accept.*high",
    ),
    Case("target_accept=1.0", _fit_with(target_accept=1.0), "HierbayesError", "target_accept"),
    Case("target_accept=0", _fit_with(target_accept=0), "HierbayesError", "target_accept"),
    Case("target_accept=nan", _fit_with(target_accept=np.nan), "ArgumentError", "target_accept"),
    Case("target_accept=True", _fit_with(target_accept=True), "ArgumentError", "target_accept"),
    Case("sampler='stan'", _fit_with(sampler="stan"), "HierbayesError", "sampler 'stan'"),
    Case("sampler=None", _fit_with(sampler=None), "HierbayesError", "sampler None"),
    Case("progressbar='yes'", _fit_with(progressbar="yes"), "ArgumentError", "progressbar"),
    Case(
        "log_likelihood='yes'", _fit_with(log_likelihood="yes"), "ArgumentError", "log_likelihood"
    ),
]

PRIOR_CASES = [
    Case("Prior mu='a'", lambda: hb.Prior("Normal", mu="a"), "PriorError", "mu.*'a'"),
    Case("Prior sigma=None", lambda: hb.Prior("Normal", sigma=None), "PriorError", "sigma.*None"),
    Case("Prior sigma=True", lambda: hb.Prior("Normal", sigma=True), "PriorError", "sigma.*True"),
    Case("Prior sigma=nan", lambda: hb.Prior("Normal", sigma=np.nan), "PriorError", "sigma.*nan"),
    Case(
        "Prior sigma 2-d", lambda: hb.Prior("Normal", sigma=[[1, 2], [3, 4]]), "PriorError", "sigma"
    ),
    Case("Prior sigma=[]", lambda: hb.Prior("Normal", sigma=[]), "PriorError", "sigma"),
    Case("Prior sigma=dict", lambda: hb.Prior("Normal", sigma={"a": 1}), "PriorError", "sigma"),
    Case("Prior('')", lambda: hb.Prior(""), "PriorError", "distribution"),
    Case("Prior(3)", lambda: hb.Prior(3), "PriorError", "distribution.*3"),
    Case(
        "priors as a list",
        _with_priors([hb.Prior("Normal", mu=0, sigma=1)]),
        "PriorError",
        "priors must be a dict.*list",
    ),
    Case("priors as a string", _with_priors("Normal"), "PriorError", "priors must be a dict.*str"),
    Case(
        "Prior('Normall') on sigma",
        _with_priors({"sigma": hb.Prior("Normall")}),
        "PriorError",
        "sigma.*Normall.*unknown distribution",
    ),
    Case(
        "Prior('Normall') on b|x",
        _with_priors({"b|x": hb.Prior("Normall", sigma=1)}),
        "PriorError",
        r"b\|x.*Normall.*unknown distribution",
    ),
    Case(
        "Prior('os.system') on sigma",
        _with_priors({"sigma": hb.Prior("os.system")}),
        "PriorError",
        "sigma.*os.system.*unknown distribution",
    ),
    Case(
        "misspelt parameter sgima",
        lambda: hb.Prior("Normal", sgima=1),
        "PriorError",
        r"Prior\('Normal'\) has no parameter sgima: Normal takes mu, sigma, tau",
    ),
    Case("Prior sigma=-1", lambda: hb.Prior("Normal", sigma=-1), "PriorError", "sigma.*> 0"),
    Case("HalfNormal sigma=0", lambda: hb.Prior("HalfNormal", sigma=0), "PriorError", "> 0"),
    Case("LKJ eta=0", lambda: hb.Prior("LKJ", eta=0), "PriorError", r"eta of Prior\('LKJ'\)"),
    Case(
        "unknown prior name",
        _with_priors({"b|nosuch": hb.Prior("Normal", sigma=1)}),
        "PriorError",
        "'b|nosuch'",
    ),
    Case(
        "prior not a Prior",
        _with_priors({"sigma": "HalfNormal"}),
        "PriorError",
        "'sigma' must be a hierbayes.Prior",
    ),
    Case(
        "SD prior not positive",
        _with_priors({"sd|g": hb.Prior("Normal", sigma=1)}),
        "PriorError",
        r"'sd\|g' is a standard deviation",
    ),
    Case(
        "correlation prior not LKJ",
        _with_priors({"cor|g": hb.Prior("Normal", sigma=1)}),
        "PriorError",
        r"'cor\|g' is a correlation",
    ),
    Case(
        "SD prior with 3 values for 2 coefficients",
        _with_priors({"sd|g": hb.Prior("HalfNormal", sigma=[1, 2, 3])}),
        "PriorError",
        r"sigma of the prior for 'sd\|g' has 3 values",
    ),
]

_DATES = pd.date_range("2024-01-01", periods=24)
DATA_CASES = [
    Case(
        "group column with 1 and '1'",
        _model_on(_df(g=[1] * 12 + ["1"] * 6 + [2] * 6)),
        "DataError",
        r"'g'.*label '1'.*1 \(int\).*'1' \(str\)",
    ),
    Case(
        "group column with 1.0 and '1'",
        _model_on(_df(g=[1.0] * 12 + ["1"] * 6 + [2.0] * 6)),
        "DataError",
        r"'g'.*label '1'.*1\.0 \(float\).*'1' \(str\)",
    ),
    Case(
        "g1:g2 pairs with one label",
        _model_on(
            _df(g1=["a"] * 8 + ["a:b"] * 8 + ["c"] * 8, g2=["b:c"] * 8 + ["c"] * 8 + ["d"] * 8),
            "y ~ x + (1 | g1:g2)",
        ),
        "DataError",
        "'g1:g2'.*label 'a:b:c'",
    ),
    Case(
        "column named Intercept",
        _model_on(_df(Intercept=np.arange(24.0)), "y ~ x + Intercept + (1 | g)"),
        "DataError",
        "column named 'Intercept'",
    ),
    Case(
        "duplicate column names",
        _model_on(_swap_columns(_df(), ["y", "x", "x"])),
        "DataError",
        "duplicate column name.*'x'",
    ),
    Case(
        "MultiIndex columns",
        _model_on(
            _swap_columns(_df(), pd.MultiIndex.from_tuples([("a", "y"), ("a", "x"), ("b", "g")]))
        ),
        "DataError",
        r"MultiIndex.*\('a', 'y'\)",
    ),
    Case(
        "datetime predictor",
        _model_on(_df(when=_DATES), "y ~ when + (1 | g)"),
        "DataError",
        "'when' holds dates",
    ),
    Case(
        "timedelta predictor",
        _model_on(_df(took=_DATES - _DATES[0]), "y ~ took + (1 | g)"),
        "DataError",
        "'took' holds time spans",
    ),
    Case(
        "poisson counts of 1e12",
        _model_on(_df(k=np.full(24, 1e12)), "k ~ x + (1 | g)", family="poisson"),
        "FamilyError",
        "'k'.*1e\\+12.*float64 rounding",
    ),
    Case(
        "poisson counts of 1e300",
        _model_on(_df(k=np.full(24, 1e300)), "k ~ x + (1 | g)", family="poisson"),
        "FamilyError",
        "'k'.*1e\\+300",
    ),
    Case(
        "binomial trials of 1e15",
        _model_on(
            _df(k=np.full(24, 3.0), n=np.full(24, 1e15)),
            "k | trials(n) ~ x + (1 | g)",
            family="binomial",
        ),
        "FamilyError",
        "trials.*1e\\+15",
    ),
    Case(
        "gaussian response of scale 1e14",
        _model_on(_df(y=1e14 * np.arange(24.0))),
        "FamilyError",
        "'y' has standard deviation .*e\\+14.*divide by 10\\*\\*14",
    ),
    Case(
        "gaussian response of 1e155",
        _model_on(_df(y=1e155 * (1 + np.arange(24.0)))),
        "FamilyError",
        "'y' reaches .*e\\+156.*Rescale",
    ),
    Case(
        "gaussian response of scale 1e-160",
        _model_on(_df(y=1e-160 * np.arange(24.0))),
        "FamilyError",
        "'y' has standard deviation .*e-160.*Rescale",
    ),
    Case(
        "predictor in units of 1e16",
        _model_on(_df().assign(x=lambda d: 1e16 * d["x"])),
        "DataError",
        "column 'x' has standard deviation .*e\\+16.*Rescale",
    ),
    Case(
        "predictor in units of 1e-14",
        _model_on(_df().assign(x=lambda d: 1e-14 * d["x"])),
        "DataError",
        "column 'x' has standard deviation .*e-14.*Rescale",
    ),
    Case(
        "varying slope in units of 1e16",
        _model_on(_df().assign(z=lambda d: 1e16 * d["x"] ** 2), "y ~ x + (1 + z | g)"),
        "DataError",
        "group term .*column 'z' has standard deviation",
    ),
    Case("data is a dict", _model_on({"y": [1.0], "x": [1.0]}), "HierbayesError", "data.*dict"),
    Case("data is None", _model_on(None), "HierbayesError", "data.*NoneType"),
    Case("data without rows", _model_on(_df().iloc[:0]), "DataError", "no rows"),
    Case(
        "missing predictor values",
        _model_on(_df(x=[np.nan] + [1.0] * 23)),
        "MissingValueError",
        "'x' has 1 missing",
    ),
    Case(
        "infinite predictor",
        _model_on(_df(x=[np.inf] + [1.0] * 23)),
        "DataError",
        "'x'.*infinite",
    ),
    Case(
        "collinear predictor",
        _model_on(_df().assign(x2=lambda d: 3 * d["x"] - 1), "y ~ x + x2 + (1 | g)"),
        "DataError",
        "'x2' is a linear combination",
    ),
    Case("unknown family", _model_on(_df(), family="gausian"), "FamilyError", "'gausian'"),
    Case(
        "bernoulli response of 2",
        _model_on(_df(k=[2.0] * 24), "k ~ x + (1 | g)", family="bernoulli"),
        "FamilyError",
        "'k'.*bernoulli",
    ),
    Case(
        "text response",
        _model_on(_df(k=["yes"] * 24), "k ~ x + (1 | g)"),
        "FamilyError",
        "'k' must be numeric",
    ),
    Case(
        "datetime response",
        _model_on(_df(when=_DATES), "when ~ x + (1 | g)"),
        "FamilyError",
        "'when' must be numeric",
    ),
    Case("single group", _model_on(_df(g=["a"] * 24)), "DataError", "'g' has a single level"),
    Case(
        "trials on gaussian",
        _model_on(_df(n=np.full(24, 3.0)), trials="n"),
        "FamilyError",
        "trials.*gaussian",
    ),
    Case(
        "parameterization='fast'",
        _model_on(_df(), parameterization="fast"),
        "HierbayesError",
        "'fast'",
    ),
    Case(
        "parameterization for an unknown term",
        _model_on(_df(), parameterization={"school": "centered"}),
        "HierbayesError",
        "'school'",
    ),
    Case(
        "negative poisson count",
        _model_on(_df(k=[-1.0] * 24), "k ~ x + (1 | g)", family="poisson"),
        "FamilyError",
        "'k'.*non-negative",
    ),
]


def _predict(**kwargs: Any) -> Callable[[], Any]:
    return lambda: _fit().predict(**kwargs)


def _simulate(*args: Any, **kwargs: Any) -> Callable[[], Any]:
    return lambda: _fit().simulate_new_groups(*args, **kwargs)


FIT_RESULT_CASES = [
    Case("predict groups typo", _predict(groups="exisiting"), "ArgumentError", "groups.*exisiting"),
    Case("predict groups=None", _predict(groups=None), "ArgumentError", "groups.*None"),
    Case("predict kind typo", _predict(kind="means"), "ArgumentError", "kind.*'means'"),
    Case("predict kind='response'", _predict(kind="response"), "ArgumentError", "kind.*response"),
    Case("predict random_seed='abc'", _predict(random_seed="abc"), "ArgumentError", "random_seed"),
    Case("predict random_seed=-1", _predict(random_seed=-1), "ArgumentError", "random_seed.*-1"),
    Case(
        "predict unknown group",
        _predict(newdata=pd.DataFrame({"x": [0.0], "g": ["zz"]})),
        "UnknownGroupError",
        "'zz'",
    ),
    Case(
        "predict missing column",
        _predict(newdata=pd.DataFrame({"g": ["a"]})),
        "MissingColumnError",
        "'x'",
    ),
    Case("simulate_new_groups(0)", _simulate(0), "ArgumentError", "n_groups.*0"),
    Case("simulate_new_groups(-3)", _simulate(-3), "ArgumentError", "n_groups.*-3"),
    Case("simulate_new_groups(2.5)", _simulate(2.5), "ArgumentError", r"n_groups.*2\.5"),
    Case("simulate_new_groups(True)", _simulate(True), "ArgumentError", "n_groups.*True"),
    Case(
        "simulate_new_groups random_seed=1.5",
        _simulate(5, random_seed=1.5),
        "ArgumentError",
        r"random_seed.*1\.5",
    ),
    Case(
        "simulate_new_groups unknown factor",
        _simulate(5, factor="school"),
        "DataError",
        "'school'",
    ),
]


@cache
def _saved() -> Path:
    return _fit().save(WORK / "saved.hb")


def _tamper(file: str, change: Callable[[Any], Any]) -> Callable[[], Any]:
    """Load a copy of the saved fit whose ``file`` was changed by ``change``."""

    def call() -> Any:
        target = Path(tempfile.mkdtemp(dir=WORK)) / "fit.hb"
        shutil.copytree(_saved(), target)
        content = json.loads((target / file).read_text())
        content = change(content) or content
        (target / file).write_text(json.dumps(content))
        return hb.load(target)

    return call


def _set(key: str, value: Any) -> Callable[[Any], None]:
    def change(content: Any) -> None:
        content[key] = value

    return change


def _prior_change(content: dict) -> None:
    content["priors"]["sigma"]["params"]["sigma"] = "__import__('os')"


def _level_change(content: dict) -> None:
    content["design"]["blocks"][0]["levels"][0] = 7


def _column_change(key: str, value: Any) -> Callable[[dict], None]:
    def change(content: dict) -> None:
        content["columns"]["x"][key] = value

    return change


def _pickle_codec() -> Any:
    target = Path(tempfile.mkdtemp(dir=WORK)) / "fit.hb"
    shutil.copytree(_saved(), target)
    meta_file = next(p for p in (target / "idata.zarr").rglob("zarr.json") if p.parent.name == "b")
    meta = json.loads(meta_file.read_text())
    meta["codecs"] = [{"name": "numcodecs.pickle", "configuration": {}}]
    meta_file.write_text(json.dumps(meta))
    return hb.load(target)


ATTACK = "np.f2py.os.system('touch {}')"


def _attack_formula(where: str) -> Callable[[Any], None]:
    def change(content: dict) -> None:
        marker = WORK / f"pwned-{where}"
        attack = ATTACK.format(marker)
        y, rhs = content["formula"].split("~", 1)
        content["formula"] = f"{attack} ~{rhs}" if where == "response" else f"{y}~{rhs} + {attack}"

    return change


def _file_in_the_way() -> Any:
    target = WORK / "results.csv"
    target.write_text("a,b\n1,2\n")
    return _fit().save(target, overwrite=True)


def _parent_is_a_file() -> Any:
    parent = WORK / "notes.txt"
    parent.write_text("mine")
    return _fit().save(parent / "fit.hb")


IO_CASES = [
    Case(
        "load: formula runs code (term)",
        _tamper("model.json", _attack_formula("term")),
        "FileFormatError",
        "'formula'.*np.f2py.os.system",
    ),
    Case(
        "load: formula runs code (response)",
        _tamper("model.json", _attack_formula("response")),
        "FileFormatError",
        "'formula'.*np.f2py.os.system",
    ),
    Case(
        "load: formula not text",
        _tamper("model.json", _set("formula", 12)),
        "FileFormatError",
        "'formula'",
    ),
    Case(
        "load: unknown top-level key",
        _tamper("model.json", _set("exec", "print(1)")),
        "FileFormatError",
        "'exec' \\(unknown field\\)",
    ),
    Case(
        "load: family of wrong type",
        _tamper("model.json", _set("family", ["gaussian"])),
        "FileFormatError",
        "'family'",
    ),
    Case(
        "load: unknown family",
        _tamper("model.json", _set("family", "evil")),
        "FileFormatError",
        "'family'.*'evil'",
    ),
    Case(
        "load: prior distribution not in the registry",
        _tamper("model.json", lambda m: m["priors"]["sigma"].update(dist="os.system")),
        "FileFormatError",
        "'priors.sigma.dist'.*os.system",
    ),
    Case(
        "load: prior parameter is text",
        _tamper("model.json", _prior_change),
        "FileFormatError",
        "'priors.sigma.params.sigma'",
    ),
    Case(
        "load: unknown field in a prior",
        _tamper("model.json", lambda m: m["priors"]["sigma"].update(code="x")),
        "FileFormatError",
        "'priors.sigma.code' \\(unknown field\\)",
    ),
    Case(
        "load: unknown parameterisation value",
        _tamper("model.json", _set("parameterization", {"g": ["exec"]})),
        "FileFormatError",
        "'parameterization.g\\[0\\]'.*'exec'",
    ),
    Case(
        "load: unknown sampler",
        _tamper("model.json", _set("sampler", "stan")),
        "FileFormatError",
        "'sampler'.*'stan'",
    ),
    Case(
        "load: format_version as text",
        _tamper("model.json", _set("format_version", "1")),
        "FileFormatError",
        "format_version",
    ),
    Case(
        "load: level2 of wrong type",
        _tamper("model.json", _set("level2", ["g"])),
        "FileFormatError",
        "'level2'",
    ),
    Case(
        "load: group label not text",
        _tamper("model.json", _level_change),
        "FileFormatError",
        "'design.blocks\\[0\\].levels\\[0\\]'",
    ),
    Case(
        "load: user prior that is not a prior",
        _tamper("model.json", _set("user_priors", ["b|nosuch"])),
        "FileFormatError",
        "'user_priors\\[0\\]'.*b\\|nosuch",
    ),
    Case(
        "load: hash that is not a digest",
        _tamper("model.json", lambda m: m["design"].update(y="abc")),
        "FileFormatError",
        "'design.y'",
    ),
    Case(
        "load: model.json is a list",
        _tamper("model.json", lambda m: [m]),
        "FileFormatError",
        "model.json",
    ),
    Case(
        "load: data.json is a list",
        _tamper("data.json", lambda d: [d]),
        "FileFormatError",
        "data.json is corrupt",
    ),
    Case(
        "load: data.json columns as a list",
        _tamper("data.json", lambda d: d.update(columns=[1, 2])),
        "FileFormatError",
        "data.json is corrupt: missing or bad 'columns'",
    ),
    Case(
        "load: data.json dtype not allowed",
        _tamper("data.json", _column_change("dtype", "datetime64[ns]")),
        "FileFormatError",
        "'columns.x.dtype'",
    ),
    Case(
        "load: data.json column kind unknown",
        _tamper("data.json", _column_change("kind", "pickle")),
        "FileFormatError",
        "'columns.x.kind'",
    ),
    Case(
        "load: data.json values nested",
        _tamper("data.json", _column_change("values", [[1.0]] * 24)),
        "FileFormatError",
        "'columns.x.values'",
    ),
    Case(
        "load: data.json column of the wrong length",
        _tamper("data.json", _column_change("values", [1.0, 2.0])),
        "FileFormatError",
        "'columns.x'",
    ),
    Case(
        "load: zarr metadata asks for the pickle codec",
        _pickle_codec,
        "FileFormatError",
        "codec 'numcodecs.pickle' is not allowed",
    ),
    Case(
        "save over a regular file with overwrite=True",
        _file_in_the_way,
        "PathExistsError",
        "results.csv' is a file, not a saved fit",
    ),
    Case(
        "save under a path whose parent is a file",
        _parent_is_a_file,
        "PathExistsError",
        "notes.txt' is a file",
    ),
    Case(
        "save over an existing fit without overwrite",
        lambda: _fit().save(_saved()),
        "PathExistsError",
        "saved.hb' already exists",
    ),
    Case("load of nothing", lambda: hb.load(WORK / "nothing"), "SavedFitNotFoundError", "nothing"),
]

CASES = FIT_CASES + PRIOR_CASES + DATA_CASES + FIT_RESULT_CASES + IO_CASES


def _error_class(name: str) -> type[BaseException]:
    # the cases also run against older code (see the module docstring), which may lack a class
    return getattr(errors, name, errors.HierbayesError)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_a_typed_error_naming_the_culprit(case: Case) -> None:
    with pytest.raises(_error_class(case.error), match=case.match):
        case.call()


def test_the_catalogue_has_a_case_for_every_bad_input() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


def test_no_attack_ran() -> None:
    for where in ("term", "response"):
        with pytest.raises(errors.FileFormatError):
            _tamper("model.json", _attack_formula(where))()
        assert not (WORK / f"pwned-{where}").exists()


def census() -> dict[str, list[str]]:
    """Sort the cases into typed / untyped / silently accepted for the code that is imported."""
    out: dict[str, list[str]] = {
        "typed": [],
        "untyped": [],
        "accepted": [],
        "hang": [],
        "ran code": [],
    }
    for case in CASES:
        if case.hangs_on_main and not hasattr(errors, "ArgumentError"):
            out["hang"].append(case.id)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.call()
        except Exception as err:
            typed = isinstance(err, errors.HierbayesError) and isinstance(
                err, _error_class(case.error)
            )
            named = re.search(case.match, str(err)) is not None
            out["typed" if typed and named else "untyped"].append(
                f"{case.id}: {type(err).__name__}: {str(err)[:90]!r}"
            )
        else:
            out["accepted"].append(case.id)
        for marker in WORK.glob("pwned-*"):
            out["ran code"].append(f"{case.id}: created {marker.name}")
            marker.unlink()
    return out


if __name__ == "__main__":
    print(f"hierbayes from {hb.__file__}, {len(CASES)} cases")
    result = census()
    for kind, items in result.items():
        print(f"{kind}: {len(items)}")
        for item in items if kind != "typed" else []:
            print(f"    {item}")
    shutil.rmtree(WORK, ignore_errors=True)
