"""The rows of a family whose own parameter varies by row (``sigma="~ ..."``): the compiled sum
equals the family's numpy log density row by row, and its derivatives (in ``η``, in the log of
the varying parameter, in the other own parameters) are those of finite differences.

The whole log-density of such a model against the PyMC model: tests/density/test_kernel.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.density.dpar_density import DPAR_FAMILIES, dpar_rows
from hierbayes.families import get_family


def _data(name: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A response and a linear predictor on the family's scale."""
    eta = rng.normal(0.0, 0.5, n)
    if name in ("gaussian", "student_t"):
        return eta + rng.normal(0.0, 1.5, n), eta
    if name in ("gamma", "lognormal"):
        return rng.gamma(2.0, np.exp(eta) / 2.0), eta
    if name == "negativebinomial":
        return rng.poisson(np.exp(eta + 1.0)).astype(float), eta + 1.0
    return np.clip(rng.beta(2.0, 3.0, n), 1e-3, 1 - 1e-3), eta  # beta


CASES = [
    ("gaussian", "sigma"),
    ("student_t", "sigma"),
    ("student_t", "nu"),  # any own parameter: the second one varying
    ("lognormal", "sigma"),
    ("gamma", "shape"),
    ("negativebinomial", "shape"),
    ("beta", "phi"),
]


def _evaluate(code, k, y, eta, ls, weights, theta):
    eta_bar, ls_bar, tbar = eta.copy(), ls.copy(), np.zeros(len(theta))
    value = dpar_rows(code, k, y, eta_bar, ls_bar, np.zeros(0), weights, theta.copy(), tbar)
    return value, eta_bar, ls_bar, tbar


@pytest.mark.parametrize(("name", "param"), CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_rows_match_the_family_density_and_finite_differences(name, param, weighted):
    family = get_family(name)
    rng = np.random.default_rng(3)
    n = 12
    y, eta = _data(name, rng, n)
    k = family.params.index(param)
    ls = rng.normal(np.log(2.0), 0.4, n)  # log of the varying parameter, row by row
    theta = np.array([1.3, 4.5][: len(family.params)])  # the others at fixed values
    weights = rng.uniform(0.2, 2.0, n) if weighted else np.zeros(0)
    value, eta_bar, ls_bar, tbar = _evaluate(family.code, k, y, eta, ls, weights, theta)

    params = {p: np.full(n, theta[j]) for j, p in enumerate(family.params)}
    params[param] = np.exp(ls)
    rows = family.log_density(y, eta, params, None) - family.constant(y, None)
    expected = float((rows * (weights if weighted else 1.0)).sum())
    assert value == pytest.approx(expected, rel=1e-10)

    eps = 1e-6
    for i in range(n):
        step = np.zeros(n)
        step[i] = eps
        d_eta = (
            _evaluate(family.code, k, y, eta + step, ls, weights, theta)[0]
            - _evaluate(family.code, k, y, eta - step, ls, weights, theta)[0]
        ) / (2 * eps)
        d_ls = (
            _evaluate(family.code, k, y, eta, ls + step, weights, theta)[0]
            - _evaluate(family.code, k, y, eta, ls - step, weights, theta)[0]
        ) / (2 * eps)
        assert eta_bar[i] == pytest.approx(d_eta, rel=1e-6, abs=1e-7)
        assert ls_bar[i] == pytest.approx(d_ls, rel=1e-6, abs=1e-7)
    for j in range(len(theta)):
        if j == k:
            continue
        step = np.zeros(len(theta))
        step[j] = eps
        d_theta = (
            _evaluate(family.code, k, y, eta, ls, weights, theta + step)[0]
            - _evaluate(family.code, k, y, eta, ls, weights, theta - step)[0]
        ) / (2 * eps)
        assert tbar[j] == pytest.approx(d_theta, rel=1e-6, abs=1e-7)


def test_a_family_without_a_compiled_varying_parameter_gives_nan():
    poisson = get_family("poisson")
    assert poisson.code not in DPAR_FAMILIES
    y, eta = np.array([1.0, 2.0]), np.zeros(2)
    empty = np.zeros(0)
    value = dpar_rows(poisson.code, 0, y, eta, np.zeros(2), empty, empty, np.ones(1), np.zeros(1))
    assert np.isnan(value)


def test_a_family_the_kernel_cannot_vary_by_row_falls_back_to_the_pymc_model():
    import dataclasses

    import hierbayes as hb
    from hierbayes.density.layout import Unsupported, make_layout

    sleep = hb.datasets.load("sleepstudy")
    m = hb.Model("Reaction ~ Days + (1 | Subject)", data=sleep, sigma="~ Days")
    other = get_family("zero_inflated_poisson")  # its zi: a probability, no rows with zi by row
    design = dataclasses.replace(
        m.design, family=other, dpar=dataclasses.replace(m.design.dpar, name="zi")
    )
    with pytest.raises(Unsupported, match="linear predictor for zi of the zero_inflated_poisson"):
        make_layout(design, m.prior_values, m.parameterization)
