"""Adaptive Gauss-Hermite quadrature of one factor (:mod:`hierbayes.density.agq`): one node is
the Laplace approximation, the default nodes integrate small bernoulli, binomial and Poisson
groups to a brute-force integral (scipy's ``quad``) at SDs up to 3, and the gradient is the
derivative of the value (central differences)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import small_binary_groups
from scipy import integrate, optimize

import hierbayes as hb
from hierbayes.density import agq
from hierbayes.density import codes as K
from hierbayes.density.agq import agq_loglik
from hierbayes.density.laplace import laplace_loglik
from hierbayes.density.layout import Layout, make_layout
from hierbayes.errors import ModelSpecError


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    """40 groups of 1-5 rows (a group's rows: 1 + code % 5) with a covariate."""
    rng = np.random.default_rng(3)
    sizes = 1 + np.arange(40) % 5
    g = np.repeat(np.arange(40), sizes)
    n = len(g)
    x = rng.normal(size=n)
    eta = -0.4 + 0.5 * x + rng.normal(0, 2.5, 40)[g]
    p = 1 / (1 + np.exp(-eta))
    return pd.DataFrame(
        {
            "g": [f"g{j:02d}" for j in g],
            "x": x,
            "yb": (rng.random(n) < p).astype(int),
            "k": rng.binomial(4, p),
            "four": 4,
            "yc": rng.poisson(np.exp(0.3 * eta)),
        }
    )


def agq_layout(model: hb.Model, nodes: int, monkeypatch: pytest.MonkeyPatch) -> Layout:
    monkeypatch.setattr(agq, "AGQ_NODES", nodes)
    return make_layout(model.design, model.prior_values, {"g": ("agq",)})


def _rows(family: str, y: np.ndarray, eta: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """The rows' log-likelihoods without constants (as the kernel's)."""
    if family == "poisson":
        return y * eta - np.exp(eta)
    return y * eta - trials * np.logaddexp(0.0, eta)


def exact_marginal(df, family, response, eta0, sd, slope=None):
    """``Σ_g log ∫ Π p(y_i | η0_i + Z_i sd z) N(z | 0, 1) dz`` by adaptive quadrature."""
    total = 0.0
    trials = df["four"].to_numpy(float) if family == "binomial" else np.ones(len(df))
    Z = np.ones(len(df)) if slope is None else df[slope].to_numpy()
    y = df[response].to_numpy(float)
    for _, idx in df.groupby("g").indices.items():

        def h(z, idx=idx):
            rows = _rows(family, y[idx], eta0[idx] + Z[idx] * sd * z, trials[idx])
            return np.exp(rows.sum() - 0.5 * z * z) / np.sqrt(2 * np.pi)

        total += np.log(integrate.quad(h, -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0])
    return total


def kernel_value(layout, n, eta0, sd, theta=()):
    """The kernel's Σ_g V_g at ``η0`` (in the data's row order) and ``sd``."""
    order = np.random.default_rng(0).permutation(n)  # the layout's row order (density.layout)
    eta = np.ascontiguousarray(eta0[order], dtype=float)
    theta = np.array(theta, dtype=float)
    meta = layout.arrays[0]
    fn = agq_loglik if meta[K.M_AGQ] > 0 else laplace_loglik
    return fn(layout.table, meta, np.array([sd]), theta, eta, np.zeros(len(theta)), np.zeros(1))


@pytest.mark.parametrize(
    ("formula", "family", "response"),
    [
        ("yb ~ x + (1 | g)", "bernoulli", "yb"),
        ("k | trials(four) ~ x + (1 | g)", "binomial", "k"),
        ("yc ~ x + (1 | g)", "poisson", "yc"),
        ("yb ~ x + (0 + x | g)", "bernoulli", "yb"),
    ],
)
@pytest.mark.parametrize("sd", [0.7, 3.0])
def test_quadrature_matches_a_brute_force_integral(df, formula, family, response, sd, monkeypatch):
    model = hb.Model(formula, df, family=family)
    layout = agq_layout(model, agq.AGQ_NODES, monkeypatch)
    eta0 = -0.4 + 0.5 * df["x"].to_numpy()
    slope = "x" if "0 + x" in formula else None
    exact = exact_marginal(df, family, response, eta0, sd, slope)
    value = kernel_value(layout, len(df), eta0, sd)
    # 40 groups, per group with 11 nodes: bernoulli at SD 3 2.7e-5 (9 nodes: 1e-4, Laplace:
    # 4e-2); Poisson counts and a slope (x ~ N(0, 1): an SD up to 9) at SD 3 5e-4 (25 nodes:
    # 2e-5 and 6e-5), everything at SD 0.7 below 5e-5
    hard = sd == 3.0 and (family == "poisson" or slope is not None)
    assert value == pytest.approx(exact, abs=40 * (1e-3 if hard else 5e-5))
    lap = make_layout(model.design, model.prior_values, {"g": ("laplace",)})
    if sd == 3.0 and family == "bernoulli" and slope is None:  # where Laplace is far off
        assert abs(kernel_value(lap, len(df), eta0, sd) - exact) > 0.5


def test_one_node_is_the_laplace_approximation(df, monkeypatch):
    model = hb.Model("k | trials(four) ~ x + (1 | g)", df, family="binomial")
    one = agq_layout(model, 1, monkeypatch)
    lap = make_layout(model.design, model.prior_values, {"g": ("laplace",)})
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = one.center + rng.uniform(-0.7, 0.7, one.n_dim)
        v1, g1 = one.logp_grad(x)
        v0, g0 = lap.logp_grad(x)
        assert v1 == pytest.approx(v0, rel=1e-12, abs=1e-10)
        np.testing.assert_allclose(g1, g0, rtol=1e-8, atol=1e-8)


def fd_gradient(layout: Layout, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    out = np.empty(layout.n_dim)
    for k in range(layout.n_dim):
        e = np.zeros(layout.n_dim)
        e[k] = h
        out[k] = (layout.logp_grad(x + e)[0] - layout.logp_grad(x - e)[0]) / (2 * h)
    return out


@pytest.mark.parametrize(
    ("formula", "family"),
    [
        ("yb ~ x + (1 | g)", "bernoulli"),
        ("yb ~ x + (0 + x | g)", "bernoulli"),
        ("yc ~ x + (1 | g)", "negativebinomial"),
        ("k | trials(four) ~ x + (1 | g)", "binomial"),
    ],
)
def test_gradient_is_the_derivative_of_the_value(df, formula, family, monkeypatch):
    """The exact gradient of the quadrature value (through the modes, curvatures and nodes):
    central differences agree to their own error, the SD and a dispersion included."""
    model = hb.Model(formula, df, family=family)
    layout = agq_layout(model, 5, monkeypatch)
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = layout.center + rng.uniform(-0.7, 0.7, layout.n_dim)
        x[layout.blocks[0].sd] = np.log(rng.uniform(0.5, 3.0))
        np.testing.assert_allclose(
            layout.logp_grad(x)[1], fd_gradient(layout, x), rtol=1e-6, atol=2e-6
        )


def test_agq_takes_one_factor_with_one_coefficient(df):
    m = hb.Model("yb ~ x + (1 | g)", df, family="bernoulli", parameterization="agq")
    assert m.parameterization == {"g": ("agq",)}
    with pytest.raises(ModelSpecError, match="'agq' for 'g' needs one varying coefficient"):
        hb.Model("yb ~ x + (1 + x | g)", df, family="bernoulli", parameterization={"g": "agq"})
    with pytest.raises(ModelSpecError, match="'agq' needs a family whose log-likelihood"):
        hb.Model("x ~ 1 + (1 | g)", df, family="student_t", parameterization={"g": "agq"})


def test_agq_on_a_factor_with_several_terms_says_to_use_laplace(df):
    with pytest.raises(ModelSpecError, match=r"factor 'g' has the terms .* Use 'laplace'"):
        hb.Model(
            "yb ~ x + (1 | g) + (0 + x | g)", df, family="bernoulli", parameterization={"g": "agq"}
        )


def test_the_string_agq_picks_the_largest_factor_it_can_take(df):
    data = df.assign(h=[f"h{i % 7}" for i in range(len(df))])
    m = hb.Model("yb ~ x + (1 + x | g) + (1 | h)", data, family="bernoulli", parameterization="agq")
    assert m.parameterization["h"] == ("agq",)
    with pytest.raises(ModelSpecError, match=r"has none\. Use 'laplace'"):
        hb.Model("yb ~ x + (1 + x | g)", df, family="bernoulli", parameterization="agq")


@pytest.fixture(scope="module")
def small_groups() -> pd.DataFrame:
    """Bernoulli, 1,500 groups of one or two rows, SD 2.5 (where Laplace is biased low)."""
    return small_binary_groups(1500, 2.5)


def posterior_mode(layout: Layout) -> np.ndarray:
    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = layout.logp_grad(x)
        return -value, -grad

    res = optimize.minimize(neg, layout.center, jac=True, method="BFGS", options={"gtol": 1e-6})
    assert np.linalg.norm(res.jac) < 1e-3, res.message
    return res.x


def test_the_mode_recovers_the_sd_of_small_binary_groups(small_groups):
    """With 1,500 groups of one or two binary rows and SD 2.5, the posterior mode of the SD
    under quadrature is near 2.5 (2.11), the Laplace marginal's far below it (1.24; its known
    bias: lme4's Laplace estimate on guImmun is 1.13, brms's posterior mean 2.7)."""
    model = hb.Model("y ~ x + (1 | g)", small_groups, family="bernoulli")
    sd = {}
    for how in ("agq", "laplace"):
        layout = make_layout(model.design, model.prior_values, {"g": (how,)})
        sd[how] = float(np.exp(posterior_mode(layout)[layout.blocks[0].sd][0]))
    assert abs(sd["agq"] - 2.5) < 0.6
    assert sd["laplace"] < sd["agq"] - 0.5


def test_a_node_where_the_rows_overflow_has_weight_zero() -> None:
    """Counts against slopes of x in 200-400 at slope SD 2: the outer nodes put ``η`` in the
    thousands, where ``exp`` overflows; those nodes weigh nothing, so the value is finite (it was
    -inf), is near a brute-force integral (a grid of 400,001 points in z, 25 a group's posterior SD)
    and far nearer than Laplace's, and the gradient is its derivative."""
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(20), 3)
    data = pd.DataFrame({"g": [f"g{j:02d}" for j in g], "x": rng.uniform(200, 400, g.size)})
    data["y"] = rng.poisson(np.exp(-1 + 0.001 * data.x * rng.normal(0, 1, 20)[g]))
    data.loc[data.g == "g00", "y"] = 0
    m = hb.Model("y ~ 1 + (0 + x | g)", data, family="poisson")
    quad = make_layout(m.design, m.prior_values, {"g": ("agq",)})
    eta0 = np.full(len(data), -1.0)
    zs = np.linspace(-8.0, 8.0, 400_001)
    exact = 0.0
    y, x = data["y"].to_numpy(float), data["x"].to_numpy()
    for _, idx in data.groupby("g").indices.items():
        eta = eta0[idx, None] + x[idx, None] * 2.0 * zs[None, :]
        with np.errstate(over="ignore"):
            logf = (y[idx, None] * eta - np.exp(eta)).sum(axis=0) - 0.5 * zs * zs
        top = logf.max()
        exact += top + np.log(np.exp(logf - top).sum() * (zs[1] - zs[0]) / np.sqrt(2 * np.pi))
    # the slope's scale reaches 800 here: 11 nodes leave 0.127 over the 20 groups (the all-zero
    # group's integral is one-sided), Laplace 2.79
    lap = make_layout(m.design, m.prior_values, {"g": ("laplace",)})
    value = kernel_value(quad, len(data), eta0, 2.0)
    assert value == pytest.approx(exact, abs=20 * 1e-2)
    assert abs(kernel_value(lap, len(data), eta0, 2.0) - exact) > 10 * abs(value - exact)
    point = quad.center.copy()
    point[quad.blocks[0].sd] = np.log(2.0)
    value, grad = quad.logp_grad(point)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, fd_gradient(quad, point), rtol=1e-5, atol=1e-5)
