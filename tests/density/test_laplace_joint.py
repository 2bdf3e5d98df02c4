"""The joint Laplace marginal over several factors' varying intercepts
(:mod:`hierbayes.density.laplace_joint`): equal to a dense-matrix Laplace approximation in numpy
on a tiny crossed and a tiny nested model, its gradient the derivative, exact for a gaussian
family (it equals the crossed and the nested marginals), and its effects' draws from the joint
Laplace Gaussian."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

import hierbayes as hb
from hierbayes.density.laplace import MAX_HALVINGS, MAX_NEWTON
from hierbayes.density.laplace_joint_draws import joint_effects
from hierbayes.density.laplace_layout import joint_blocks
from hierbayes.density.layout import Layout, centred_fixed_design, make_layout

CROSSED = "+ (1 | a) + (1 | b)"
NESTED = "+ (1 | s) + (1 | c) + (1 | p)"
# one row per group of o (eliminated as a diagonal block) over nested classes and schools
OBSERVATION = "+ (1 | s) + (1 | c) + (1 | o)"
CROSSED3 = "+ (1 | a) + (1 | b) + (1 | c)"  # the Schur complement on b and c fills


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    """Crossed ``a`` (12) x ``b`` (5) with empty cells; nested pupils ``p`` in classes ``c`` in
    schools ``s`` (unique labels); ``o``: each row its own group."""
    rng = np.random.default_rng(3)
    n = 90
    a = rng.integers(0, 12, n)
    b = rng.integers(0, 5, n)
    s = rng.integers(0, 4, n)
    c = s * 3 + rng.integers(0, 3, n)
    p = c * 4 + rng.integers(0, 4, n)
    x = rng.normal(size=n)
    eta = 0.2 + 0.5 * x + rng.normal(0, 0.8, 12)[a] + rng.normal(0, 0.6, 5)[b]
    eta += rng.normal(0, 0.5, 12)[c]
    return pd.DataFrame(
        {
            "a": [f"a{i}" for i in a],
            "b": [f"b{i}" for i in b],
            "s": [f"s{i}" for i in s],
            "c": [f"c{i}" for i in c],
            "p": [f"p{i}" for i in p],
            "o": [f"o{i}" for i in range(n)],
            "x": x,
            "yb": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
            "yc": rng.poisson(np.exp(0.3 + 0.5 * eta)),
            "yg": eta + rng.normal(0, 0.6, n),
        }
    )


def model(df: pd.DataFrame, response: str, groups: str, family: str, how: str) -> hb.Model:
    names = [t.split("|")[1].strip(" )") for t in groups.split("+") if "|" in t]
    return hb.Model(
        f"{response} ~ x {groups}", df, family=family, parameterization=dict.fromkeys(names, how)
    )


def layout(m: hb.Model) -> Layout:
    return make_layout(m.design, m.prior_values, m.parameterization)


def _rows(family: str, y: np.ndarray, eta: np.ndarray, sigma: float) -> tuple[np.ndarray, ...]:
    """ℓ (up to a constant in y), ℓ', ℓ''."""
    if family == "gaussian":
        r = y - eta
        return -0.5 * r * r / sigma**2, r / sigma**2, np.full(len(y), -1.0 / sigma**2)
    if family == "bernoulli":
        p = 1.0 / (1.0 + np.exp(-eta))
        return y * eta - np.logaddexp(0.0, eta), y - p, -p * (1.0 - p)
    mu = np.exp(eta)
    return y * eta - mu, y - mu, -mu


def scales(lay: Layout, x: np.ndarray) -> np.ndarray:
    """Each integrated-out column's SD, in the kernel's order (A's groups, then B's)."""
    sds = {bl.block.name: float(np.exp(x[bl.sd][0])) for bl in lay.blocks}
    blocks = joint_blocks([bl.block for bl in lay.blocks if bl.effects is None])
    return np.concatenate([np.full(len(b.levels), sds[b.name]) for b in blocks])


def dense_laplace(
    m: hb.Model, lay: Layout, x: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Laplace by hand with dense matrices: the Laplace log-likelihood ``F``, ``Σ ℓ(η0)``, the
    mode ``z*`` and ``H`` (columns in the kernel's order). One BLAS thread: small solves on a
    busy machine are slowed a hundredfold by threads waiting for each other."""
    with threadpool_limits(1):
        return _dense_laplace(m, lay, x)


def _dense_laplace(
    m: hb.Model, lay: Layout, x: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray]:
    design = m.design
    W, _, _ = centred_fixed_design(design)
    eta0 = W @ x[: W.shape[1]]
    y = np.asarray(design.y, dtype=float)
    blocks = joint_blocks([bl.block for bl in lay.blocks if bl.effects is None])
    Z = np.column_stack([np.eye(len(b.levels))[b.codes] for b in blocks])  # n x k
    ZL = Z * scales(lay, x)
    sigma = float(np.exp(x[lay.sigma])) if lay.sigma is not None else 1.0
    z = np.zeros(Z.shape[1])
    family = design.family.name
    for _ in range(100):
        _, d1, d2 = _rows(family, y, eta0 + ZL @ z, sigma)
        H = np.eye(len(z)) - ZL.T @ (d2[:, None] * ZL)
        step = np.linalg.solve(H, ZL.T @ d1 - z)
        z += step
        if np.abs(step).max() < 1e-14:
            break
    ll, _, d2 = _rows(family, y, eta0 + ZL @ z, sigma)
    H = np.eye(len(z)) - ZL.T @ (d2[:, None] * ZL)
    F = ll.sum() - 0.5 * z @ z - 0.5 * np.linalg.slogdet(H)[1]
    return F, _rows(family, y, eta0, sigma)[0].sum(), z, H


def with_zero_effects(lap: Layout, full: Layout, x: np.ndarray) -> np.ndarray:
    """``x`` of the Laplace layout in the layout whose effects are sampled, effects zero."""
    out = np.zeros(full.n_dim)
    keep = np.ones(full.n_dim, dtype=bool)
    for bl in full.blocks:
        if bl.effects is not None:
            keep[bl.effects] = False
    out[keep] = x
    return out


def point(lay: Layout, seed: int) -> np.ndarray:
    return lay.center + np.random.default_rng(seed).uniform(-0.7, 0.7, lay.n_dim)


@pytest.mark.parametrize(
    "groups",
    [CROSSED, NESTED, OBSERVATION, CROSSED3],
    ids=["crossed", "nested", "observation", "crossed3"],
)
@pytest.mark.parametrize(("response", "family"), [("yb", "bernoulli"), ("yc", "poisson")])
def test_joint_laplace_equals_a_dense_laplace_and_its_gradient_is_the_derivative(
    df, groups, response, family
):
    m = model(df, response, groups, family, "laplace")
    lap = layout(m)
    full = layout(model(df, response, groups, family, "noncentered"))
    k = sum(len(bl.block.levels) for bl in lap.blocks)
    for seed in (1, 2):
        x = point(lap, seed)
        F, ll0, _, _ = dense_laplace(m, lap, x)
        # log p(x) - log p(x, z = 0) = F - Σ ℓ(η0) + k/2 log 2π (the prior and constants cancel)
        got = lap.logp_grad(x)[0] - full.logp_grad(with_zero_effects(lap, full, x))[0]
        assert got == pytest.approx(F - ll0 + 0.5 * k * np.log(2 * np.pi), abs=1e-8)
        _, grad = lap.logp_grad(x)
        h = 1e-5
        fd = np.array(
            [
                (lap.logp_grad(x + e)[0] - lap.logp_grad(x - e)[0]) / (2 * h)
                for e in np.eye(len(x)) * h
            ]
        )
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("groups", [CROSSED, NESTED], ids=["crossed", "nested"])
def test_gaussian_joint_laplace_equals_the_exact_marginal(df, groups):
    lap = layout(model(df, "yg", groups, "gaussian", "laplace"))
    exact = layout(model(df, "yg", groups, "gaussian", "marginal"))
    assert lap.n_dim == exact.n_dim
    for seed in (1, 2):
        x = point(lap, seed)
        v1, g1 = lap.logp_grad(x)
        v2, g2 = exact.logp_grad(x)
        assert v1 == pytest.approx(v2, abs=1e-8)
        np.testing.assert_allclose(g1, g2, atol=1e-7)


def test_gaussian_draws_follow_the_exact_conditional_with_zero_weights(df):
    m = model(df, "yg", CROSSED, "gaussian", "laplace")
    lap = layout(m)
    x = point(lap, 3)
    _, _, zstar, H = dense_laplace(m, lap, x)
    S = 3000
    k = H.shape[0]
    u, logw = joint_effects(lap.table, np.repeat(x[None], S, axis=0), k, seed=5)
    assert np.ptp(logw) < 1e-8  # the Laplace Gaussian is the exact conditional
    lam = scales(lap, x)
    mean = lam * zstar
    sd = lam * np.sqrt(np.diag(np.linalg.inv(H)))
    assert np.all(np.abs(u.mean(0) - mean) < 4.5 * sd / np.sqrt(S))
    assert np.all(np.abs(u.std(0) / sd - 1.0) < 4.5 / np.sqrt(2 * S))


def test_a_mode_far_from_zero_is_found_with_steps_shortened_to_the_limit() -> None:
    """A group of 100 counts of 5,000 at a small SD puts its mode about 1,300 prior SDs from
    zero: every shortened step is 3 SDs, more steps than the Newton budget, and the value is
    still the dense Laplace's (it was -inf when shortened steps counted against the budget)."""
    rng = np.random.default_rng(0)
    n = 300
    a = np.r_[np.zeros(100, int), rng.integers(1, 20, 200)]
    data = pd.DataFrame(
        {
            "a": [f"a{i}" for i in a],
            "b": [f"b{i}" for i in rng.integers(0, 5, n)],
            "x": rng.normal(size=n),
            "yc": np.where(a == 0, 5000, rng.poisson(1.0, n)),
        }
    )
    m = model(data, "yc", "+ (1 | a) + (1 | b)", "poisson", "laplace")
    lap = layout(m)
    full = layout(model(data, "yc", "+ (1 | a) + (1 | b)", "poisson", "noncentered"))
    k = sum(len(bl.block.levels) for bl in lap.blocks)
    x = np.zeros(lap.n_dim)
    for bl in lap.blocks:
        x[bl.sd] = np.log(0.005)
    F, ll0, z, _ = dense_laplace(m, lap, x)
    assert np.abs(z).max() > 3 * (MAX_NEWTON + MAX_HALVINGS)
    got = lap.logp_grad(x)[0] - full.logp_grad(with_zero_effects(lap, full, x))[0]
    assert got == pytest.approx(F - ll0 + 0.5 * k * np.log(2 * np.pi), rel=1e-9)
