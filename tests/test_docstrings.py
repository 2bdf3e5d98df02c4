"""Every public method of Fit and Model, and every top-level function, has a full numpydoc
docstring with an example; Fit's methods carry the docstring of the function they call, and
those examples run on a fitted model."""

from __future__ import annotations

import doctest
import importlib
import inspect
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.forwarding import forwarded_docstring


def _public(cls: type) -> list[str]:
    return [
        name
        for name, value in vars(cls).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or isinstance(value, classmethod))
    ]


METHODS = [(hb.Fit, name) for name in _public(hb.Fit)] + [
    (hb.Model, name) for name in _public(hb.Model)
]
FUNCTIONS = [
    getattr(hb, name) for name in hb.__all__ if inspect.isfunction(getattr(hb, name, None))
] + [hb.datasets.load, hb.datasets.list_datasets]


def _section(doc: str, title: str) -> str | None:
    match = re.search(
        rf"^{title}\n-{{{len(title)}}}\n(.*?)(?=^\S[^\n]*\n-{{3,}}\n|\Z)", doc, re.S | re.M
    )
    return None if match is None else match.group(1)


def _documented(parameters: str) -> set[str]:
    names: set[str] = set()
    for line in parameters.splitlines():
        if line and not line.startswith(" "):
            head = line.split(" : ")[0]
            names.update(n.strip() for n in head.split(","))
    return names


def _check_numpydoc(function, where: str) -> None:
    doc = inspect.getdoc(function)
    assert doc, f"{where} has no docstring"
    summary = doc.split("\n\n")[0]
    assert len(summary) > 20, f"{where}: summary line too short: {summary!r}"
    params = [p for p in inspect.signature(function).parameters if p not in ("self", "cls", "fit")]
    if params:
        section = _section(doc, "Parameters")
        assert section is not None, f"{where} has no Parameters section"
        missing = set(params) - _documented(section)
        assert not missing, f"{where} does not document {sorted(missing)}"
    assert _section(doc, "Returns") is not None, f"{where} has no Returns section"
    examples = _section(doc, "Examples")
    assert examples is not None and ">>>" in examples, f"{where} has no runnable example"


@pytest.mark.parametrize(("cls", "name"), METHODS, ids=[f"{c.__name__}.{n}" for c, n in METHODS])
def test_public_methods_have_full_numpydoc_docstrings(cls: type, name: str) -> None:
    method = getattr(cls, name)
    _check_numpydoc(method, f"{cls.__name__}.{name}")


@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.__name__ for f in FUNCTIONS])
def test_top_level_functions_have_full_numpydoc_docstrings(function) -> None:
    _check_numpydoc(function, f"hb.{function.__name__}")


FORWARDED = [name for name in _public(hb.Fit) if hasattr(getattr(hb.Fit, name), "__forwards__")]


def test_every_summary_plot_and_prediction_method_forwards_its_docstring() -> None:
    assert set(_public(hb.Fit)) - set(FORWARDED) == set()


@pytest.mark.parametrize("name", FORWARDED)
def test_forwarded_docstring_is_the_functions_own(name: str) -> None:
    method = getattr(hb.Fit, name)
    module, _, function = method.__forwards__.partition(":")
    target = getattr(importlib.import_module(module), function)
    own = inspect.getdoc(target)
    doc = inspect.getdoc(method)
    method_params = list(inspect.signature(method).parameters)[1:]
    assert doc == inspect.cleandoc(forwarded_docstring(method.__forwards__, set(method_params)))
    # the whole documentation, fit parameter aside, and the method's arguments are the function's
    assert own.split("\n\n")[0] == doc.split("\n\n")[0]
    assert own.split("Examples\n--------\n")[1] in doc
    assert "fit : Fit" not in doc
    target_params = [p for p in inspect.signature(target).parameters if p != "fit"]
    assert set(method_params) <= set(target_params)


# Examples that refit (kfold) or write files (save) are left to their own tests.
_NOT_RUN = {"kfold", "save"}


def _statements(doc: str) -> list[str]:
    return [example.source for example in doctest.DocTestParser().get_examples(doc)]


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in FORWARDED if n not in _NOT_RUN])
def test_fit_method_examples_run(name: str, sleep_fit: hb.Fit) -> None:
    """The example of every Fit method runs on a sleepstudy fit (outputs are not compared:
    they depend on the draws). Statements that fit a model use the session's fit instead."""
    namespace = {"hb": hb, "pd": pd, "np": np}
    skipped: set[str] = set()
    ran = 0
    for source in _statements(inspect.getdoc(getattr(hb.Fit, name))):
        assigned = re.match(r"(\w+)\s*=", source)
        if ".fit(" in source or skipped & set(re.findall(r"\w+", source)):
            if assigned and assigned.group(1) != "fit":
                skipped.add(assigned.group(1))
            namespace["fit"] = sleep_fit
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hb.LooWarning)
            exec(compile(source, f"<Fit.{name} example>", "exec"), namespace)
        ran += 1
    plt.close("all")
    assert ran and f"fit.{name}(" in inspect.getdoc(getattr(hb.Fit, name))
