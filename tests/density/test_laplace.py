"""The Laplace marginal of the compiled kernel: exact for a gaussian family (it equals the
closed-form marginal), equal to a brute-force Laplace approximation (scipy's optimiser and a
numerical Hessian of the joint density) for the others, with the derivative as its gradient."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import hierbayes as hb
from hierbayes.density.layout import Layout, make_layout


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n, J = 160, 8
    g = rng.integers(0, J, n)
    x = rng.normal(size=n)
    u0 = rng.normal(0, 0.8, J)
    u1 = rng.normal(0, 0.5, J)
    eta = -0.3 + 0.7 * x + u0[g] + u1[g] * x
    data = pd.DataFrame({"g": [f"g{j}" for j in g], "x": x, "h": rng.integers(0, 4, n)})
    data["h"] = "h" + data.h.astype(str)
    data["yb"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    data["yc"] = rng.poisson(np.exp(0.5 + 0.5 * eta))
    data["yg"] = eta + rng.normal(0, 0.7, n)
    data["o"] = np.digitize(eta + rng.logistic(size=n), [-1.0, 0.0, 1.0]) + 1
    data["wt"] = rng.integers(1, 4, n).astype(float)
    data["k"] = rng.binomial(6, 1 / (1 + np.exp(-eta)))
    data["six"] = 6
    data["pos"] = rng.gamma(3.0, np.exp(0.3 * eta) / 3.0)
    return data


def layouts(model: hb.Model, factor: str = "g") -> tuple[Layout, Layout]:
    """The model with the factor's effects integrated out by Laplace, and sampled non-centred."""
    base = dict(model.parameterization)
    lap = {k: ("laplace",) * len(v) if k.endswith(factor) else v for k, v in base.items()}
    nc = {k: ("noncentered",) * len(v) if k.endswith(factor) else v for k, v in base.items()}
    return (
        make_layout(model.design, model.prior_values, lap),
        make_layout(model.design, model.prior_values, nc),
    )


def point(layout: Layout, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return layout.center + rng.uniform(-0.7, 0.7, layout.n_dim)


def embed(lap: Layout, full: Layout, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``x`` of the Laplace layout with the integrated-out effects ``z`` put in (the other
    parameters keep their order)."""
    out = np.empty(full.n_dim)
    keep = np.ones(full.n_dim, dtype=bool)
    for bl in full.blocks:
        if bl.effects is not None and all(c == "noncentered" for c in bl.choice):
            twin = next(b for b in lap.blocks if b.block.name == bl.block.name)
            if twin.effects is None:
                keep[bl.effects] = False
    out[keep] = x
    out[~keep] = z
    return out


def brute_force(lap: Layout, full: Layout, x: np.ndarray) -> float:
    """Laplace by hand: maximise the joint density over the effects with scipy, then
    ``log p(x, z*) + m/2 log 2π - ½ log det(-∇²)`` with a central-difference Hessian."""
    m = full.n_dim - lap.n_dim

    def neg(z: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = full.logp_grad(embed(lap, full, x, z))
        keep = np.ones(full.n_dim, dtype=bool)
        keep[: lap.n_dim] = True
        return -value, -grad[_effect_mask(lap, full)]

    res = optimize.minimize(neg, np.zeros(m), jac=True, method="BFGS", options={"gtol": 1e-11})
    z = res.x
    h = 1e-5
    H = np.empty((m, m))
    for k in range(m):
        e = np.zeros(m)
        e[k] = h
        H[:, k] = (neg(z + e)[1] - neg(z - e)[1]) / (2 * h)
    H = 0.5 * (H + H.T)
    return -neg(z)[0] + 0.5 * m * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(H)[1]


def _effect_mask(lap: Layout, full: Layout) -> np.ndarray:
    mask = np.zeros(full.n_dim, dtype=bool)
    for bl in full.blocks:
        twin = next(b for b in lap.blocks if b.block.name == bl.block.name)
        if bl.effects is not None and twin.effects is None:
            mask[bl.effects] = True
    return mask


def fd_gradient(layout: Layout, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    out = np.empty(layout.n_dim)
    for k in range(layout.n_dim):
        e = np.zeros(layout.n_dim)
        e[k] = h
        out[k] = (layout.logp_grad(x + e)[0] - layout.logp_grad(x - e)[0]) / (2 * h)
    return out


@pytest.mark.parametrize(
    "formula", ["yg ~ x + (1 | g)", "yg ~ x + (1 + x | g)", "yg ~ x + (1 | g) + (1 | h)"]
)
def test_gaussian_laplace_equals_the_exact_marginal(df, formula):
    model = hb.Model(formula, df)
    names = [b.name for b in model.design.blocks]
    exact = {
        n: ("marginal",) * len(v) if n.endswith("g") else v
        for n, v in model.parameterization.items()
    }
    if len(names) > 1:  # the other factor sampled
        exact = {n: v if n.endswith("g") else ("noncentered",) for n, v in exact.items()}
    lap = {n: ("laplace",) * len(v) if v[0] == "marginal" else v for n, v in exact.items()}
    a = make_layout(model.design, model.prior_values, exact)
    b = make_layout(model.design, model.prior_values, lap)
    assert a.n_dim == b.n_dim
    for seed in range(3):
        x = point(a, seed)
        va, ga = a.logp_grad(x)
        vb, gb = b.logp_grad(x)
        assert vb == pytest.approx(va, abs=1e-9, rel=1e-12)
        np.testing.assert_allclose(gb, ga, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("yb ~ x + (1 | g)", "bernoulli"),
        ("yb ~ x + (1 + x | g)", "bernoulli"),
        ("yc ~ x + (1 + x || g) + (1 | h)", "poisson"),
        ("yc ~ x + (1 | g)", "negativebinomial"),
        ("o ~ x + (1 | g)", "cumulative"),
        ("k | trials(six) ~ x + (1 | g)", "binomial"),
        ("pos ~ x + (1 + x | g)", "gamma"),
    ],
)
def test_laplace_equals_brute_force_and_its_gradient_is_the_derivative(df, formula, family):
    model = hb.Model(formula, df, family=family)
    lap, full = layouts(model)
    for seed in range(2):
        x = point(lap, seed)
        value, grad = lap.logp_grad(x)
        assert value == pytest.approx(brute_force(lap, full, x), abs=1e-8 * max(1, abs(value)))
        np.testing.assert_allclose(grad, fd_gradient(lap, x), rtol=1e-5, atol=1e-6)


def test_weights_count_rows(df):
    model = hb.Model("yb ~ x + (1 | g)", df, family="bernoulli", weights="wt")
    lap, full = layouts(model)
    x = point(lap, 3)
    value, grad = lap.logp_grad(x)
    assert value == pytest.approx(brute_force(lap, full, x), abs=1e-8 * abs(value))
    np.testing.assert_allclose(grad, fd_gradient(lap, x), rtol=1e-5, atol=1e-6)


def test_the_value_is_a_function_of_the_point_alone(df):
    """No state is kept between calls: the same point gives the same bits after other points."""
    model = hb.Model("yb ~ x + (1 + x | g)", df, family="bernoulli")
    lap, _ = layouts(model)
    x = point(lap, 4)
    first = lap.logp_grad(x)
    lap.logp_grad(point(lap, 5))  # another point in between
    again = lap.logp_grad(x)
    assert again[0] == first[0]
    np.testing.assert_array_equal(again[1], first[1])
