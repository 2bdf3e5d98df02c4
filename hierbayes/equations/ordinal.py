"""The observation lines of an ordinal (cumulative) model's equations."""

from __future__ import annotations

from hierbayes.equations.math import Equation, Line, M, sym

__all__ = ["cumulative_lines"]

_SIM = M(" ~ ", r" \sim ")


def cumulative_lines(y: M, eta: M, name: str, link: str, terms: tuple[M, ...]) -> list[Line]:
    """``y ~ Cumulative(η, c)``, ``logit P(y ≤ k) = c_k − η`` (k = 1..K−1), ``η = ...``; with
    the probit link ``Φ⁻¹(P(y ≤ k)) = c_k − η``, Φ the standard normal CDF.

    Examples
    --------
    >>> eta = M("η", r"\\eta")
    >>> lines = cumulative_lines(M("y", "y"), eta, "Cumulative", "logit", (M("x", "x"),))
    >>> [line.text for line in lines[:2]]
    ['y ~ Cumulative(η, c)', 'logit P(y ≤ k) = c_k − η,   k = 1, …, K−1']
    >>> probit = cumulative_lines(M("y", "y"), eta, "Cumulative", "probit", (M("x", "x"),))
    >>> print(probit[1].text)
    Φ⁻¹(P(y ≤ k)) = c_k − η,   k = 1, …, K−1
    >>> print(probit[1].latex)
    \\Phi^{-1}(P(y \\le k)) = c_{k} − \\eta, \\quad k = 1, \\ldots, K-1
    """
    c = M("c", "c")
    law = y + _SIM + M(f"{name}(", rf"\operatorname{{{name}}}(") + eta + ", " + c + ")"
    below = M("P(", "P(") + y + M(" ≤ k)", r" \le k)")
    if link == "probit":  # the inverse of the standard normal CDF, as brms and ordinal write it
        linked = M("Φ⁻¹(", r"\Phi^{-1}(") + below + ")"
    else:
        linked = M(f"{link} ", rf"\operatorname{{{link}}} ") + below
    cut = linked + " = " + sym(c, "k") + " − " + eta
    cut = cut + M(",   k = 1, …, K−1", r", \quad k = 1, \ldots, K-1")
    return [law, cut, Equation(eta, terms)]
