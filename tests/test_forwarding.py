"""forwards(): a method gets the full docstring of the function it calls."""

from __future__ import annotations

import inspect

from hierbayes.comparison import loo
from hierbayes.forwarding import forwarded_docstring, forwards
from hierbayes.summaries.pooling import shrinkage


def test_docstring_is_copied_without_fit_and_the_function_is_named() -> None:
    class Result:
        @forwards("hierbayes.summaries.pooling:shrinkage")
        def shrinkage(self, *, prob: float = 0.94):
            """One line."""

    doc = inspect.getdoc(Result.shrinkage)
    own = inspect.getdoc(shrinkage)
    assert doc.splitlines()[0] == own.splitlines()[0]
    assert "This method calls ``hierbayes.summaries.pooling.shrinkage`` with this fit." in doc
    assert "fit : Fit" in own and "fit : Fit" not in doc
    assert "prob : float" in doc
    assert Result.shrinkage.__forwards__ == "hierbayes.summaries.pooling:shrinkage"
    # the signature is the method's own
    assert list(inspect.signature(Result.shrinkage).parameters) == ["self", "prob"]


def test_parameters_the_method_does_not_take_are_left_out() -> None:
    doc = forwarded_docstring("hierbayes.comparison:loo", parameters=set())
    assert "name : str" in inspect.getdoc(loo)
    assert "name : str" not in doc and "Parameters\n----------" not in doc
    assert "Returns\n-------" in doc and "Examples\n--------" in doc


def test_a_target_that_moved_keeps_the_methods_own_docstring() -> None:
    @forwards("hierbayes.summaries.pooling:no_such_function")
    def method(self):
        """Own docstring."""

    assert method.__doc__ == "Own docstring."
