"""The observation lines of an ordinal (cumulative) model's equations."""

from __future__ import annotations

from hierbayes.equations.math import Equation, Line, M, sym

__all__ = ["cumulative_lines"]

_SIM = M(" ~ ", r" \sim ")


def cumulative_lines(y: M, eta: M, name: str, link: str, terms: tuple[M, ...]) -> list[Line]:
    """``y ~ Cumulative(η, c)``, ``logit P(y ≤ k) = c_k − η`` (k = 1..K−1), ``η = ...``.

    Examples
    --------
    >>> eta = M("η", r"\\eta")
    >>> lines = cumulative_lines(M("y", "y"), eta, "Cumulative", "logit", (M("x", "x"),))
    >>> [line.text for line in lines[:2]]
    ['y ~ Cumulative(η, c)', 'logit P(y ≤ k) = c_k − η,   k = 1, …, K−1']
    """
    c = M("c", "c")
    law = y + _SIM + M(f"{name}(", rf"\operatorname{{{name}}}(") + eta + ", " + c + ")"
    below = M("P(", "P(") + y + M(" ≤ k)", r" \le k)")
    cut = M(f"{link} ", rf"\operatorname{{{link}}} ") + below + " = " + sym(c, "k") + " − " + eta
    cut = cut + M(",   k = 1, …, K−1", r", \quad k = 1, \ldots, K-1")
    return [law, cut, Equation(eta, terms)]
