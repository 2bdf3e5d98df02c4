"""Partially centred effects in the compiled kernel (:mod:`hierbayes.density.effects_partial`).

With weights ``λ_j`` the free value is ``v_j = u_j / s^(1 - λ_j)``: the kernel's log density in
``v`` must be the non-centred one at ``z_j = v_j / s^λ_j`` plus the log-Jacobian
``-Σ_j λ_j log s`` (and the centred one at ``u_j = s^(1 - λ_j) v_j`` plus
``Σ_j (1 - λ_j) log s``), its gradient the finite differences of its value, and the effects drawn
back from ``v`` the same ``u``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
import hierbayes.density.partial_layout as partial_layout
from hierbayes.density.draws import named_draws
from hierbayes.density.effects_partial import LEVELS
from hierbayes.density.layout import make_layout

PATTERNS = {
    "zero": lambda J, rng: np.zeros(J),
    "one": lambda J, rng: np.ones(J),
    "mixed": lambda J, rng: np.where(
        np.arange(J) % 3 == 0,
        0.0,
        np.where(np.arange(J) % 3 == 1, 1.0, np.round(rng.random(J) * LEVELS) / LEVELS),
    ),
}


@pytest.fixture(scope="module")
def slope_model() -> hb.Model:
    """A bernoulli model with one varying slope: x varies within groups, so a centred slope holds
    no fixed term (no hierarchical centring) and the centred layout is the plain ``u``."""
    rng = np.random.default_rng(11)
    n = 150
    df = pd.DataFrame({"g": rng.integers(0, 30, n).astype(str), "x": rng.normal(size=n)})
    df["y"] = (rng.random(n) < 0.4).astype(int)
    return hb.Model("y ~ x + (0 + x | g)", df, family="bernoulli")


def _layouts(model: hb.Model, lam: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setattr(partial_layout, "group_weights", lambda design, block, tau2=None: lam)
    out = {
        how: make_layout(model.design, model.prior_values, {"g": (how,)})
        for how in ("partial", "noncentered", "centered")
    }
    assert not out["centered"].blocks[0].intercept_shift
    return out


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_log_density_is_the_non_centred_one_plus_the_jacobian(
    slope_model: hb.Model, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    J = len(slope_model.design.blocks[0].levels)
    lam = PATTERNS[pattern](J, rng)
    layouts = _layouts(slope_model, lam, monkeypatch)
    bl = layouts["partial"].blocks[0]
    np.testing.assert_array_equal(bl.weights, lam)
    for _ in range(4):
        x = rng.normal(size=layouts["partial"].n_dim)
        log_s = x[bl.sd.start]
        v = x[bl.effects]
        x_nc, x_c = x.copy(), x.copy()
        x_nc[bl.effects] = v * np.exp(-lam * log_s)
        x_c[bl.effects] = v * np.exp((1.0 - lam) * log_s)
        value = layouts["partial"].logp_grad(x)[0]
        nc = layouts["noncentered"].logp_grad(x_nc)[0]
        c = layouts["centered"].logp_grad(x_c)[0]
        assert value == pytest.approx(nc - lam.sum() * log_s, abs=1e-10, rel=1e-13)
        assert value == pytest.approx(c + (1.0 - lam).sum() * log_s, abs=1e-10, rel=1e-13)


@pytest.mark.parametrize("pattern", ["zero", "one"])
def test_end_weights_reproduce_the_plain_forms(
    slope_model: hb.Model, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """λ = 0 is the non-centred kernel, λ = 1 the centred one, value and gradient (to rounding:
    the partial pass computes ``v · s^-λ`` where the plain passes take ``v`` or ``v / s``)."""
    rng = np.random.default_rng(8)
    J = len(slope_model.design.blocks[0].levels)
    layouts = _layouts(slope_model, PATTERNS[pattern](J, rng), monkeypatch)
    plain = layouts["noncentered" if pattern == "zero" else "centered"]
    for _ in range(4):
        x = rng.normal(size=plain.n_dim)
        value, grad = layouts["partial"].logp_grad(x)
        value0, grad0 = plain.logp_grad(x)
        assert value == pytest.approx(value0, rel=1e-14, abs=1e-12)
        np.testing.assert_allclose(grad, grad0, rtol=1e-13, atol=1e-12)


def test_gradient_matches_finite_differences(
    slope_model: hb.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(2)
    J = len(slope_model.design.blocks[0].levels)
    layout = _layouts(slope_model, PATTERNS["mixed"](J, rng), monkeypatch)["partial"]
    x = rng.normal(size=layout.n_dim)
    grad = layout.logp_grad(x)[1]
    eps = 1e-6
    fd = np.empty(layout.n_dim)
    for i in range(layout.n_dim):
        e = np.zeros(layout.n_dim)
        e[i] = eps
        fd[i] = (layout.logp_grad(x + e)[0] - layout.logp_grad(x - e)[0]) / (2 * eps)
    # central differences: error O(eps² f''') plus rounding O(|f| 1e-16 / eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_effects_drawn_back_equal_u(slope_model: hb.Model, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    J = len(slope_model.design.blocks[0].levels)
    lam = PATTERNS["mixed"](J, rng)
    layouts = _layouts(slope_model, lam, monkeypatch)
    bl = layouts["partial"].blocks[0]
    X = rng.normal(size=(6, layouts["partial"].n_dim))
    X_nc = X.copy()
    X_nc[:, bl.effects] = X[:, bl.effects] * np.exp(-np.outer(X[:, bl.sd.start], lam))
    drawn = named_draws(layouts["partial"], X)
    expected = named_draws(layouts["noncentered"], X_nc)
    np.testing.assert_allclose(drawn["u|g"], expected["u|g"], rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(drawn["z|g"], expected["z|g"], rtol=1e-13, atol=1e-14)
