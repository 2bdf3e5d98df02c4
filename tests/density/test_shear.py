"""Sheared group terms (density.shear): the same model in other coordinates.

The kernel samples a sheared term's effects at its slopes' centre. At any point its log-density
must equal the unsheared kernel's at the point that gives the same ``(θ, Σ, b)``, plus the log
of the (constant) Jacobian between the two coordinates, its gradient must be the derivative, and
the effects it reports (``u|term``) must be the same ``b``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.density import layout as layout_module
from hierbayes.density.codes import M_SHEAR
from hierbayes.density.draws import correlation_factor, named_draws
from hierbayes.density.layout import Layout, make_layout
from hierbayes.density.shear import chol_backward, shear_factor


@pytest.fixture(scope="module")
def far() -> pd.DataFrame:
    """Predictors far from 0 (``x``: 50 ± 10, ``t``: 20 ± 3) and one near it (``w``)."""
    rng = np.random.default_rng(3)
    n = 180
    data = pd.DataFrame(
        {
            "g": [f"g{j}" for j in rng.integers(0, 8, n)],
            "h": [f"h{j}" for j in rng.integers(0, 4, n)],
            "x": 50.0 + 10.0 * rng.normal(size=n),
            "t": 20.0 + 3.0 * rng.normal(size=n),
            "w": rng.normal(size=n),
            "n": 9,
        }
    )
    data["c"] = rng.binomial(9, 1.0 / (1.0 + np.exp(-(data.x - 50.0) / 20.0)))
    data["k"] = rng.poisson(np.exp(0.5 + 0.01 * (data.x - 50.0)))
    data["y"] = 2.0 + 0.1 * data.x + rng.normal(size=n)
    return data


def unsheared_layout(model: hb.Model, monkeypatch: pytest.MonkeyPatch) -> Layout:
    with monkeypatch.context() as m:
        m.setattr(layout_module, "shear_centres", lambda *args: {})
        return make_layout(model.design, model.prior_values, model.parameterization)


def old_point(new: Layout, old: Layout, x: np.ndarray) -> np.ndarray:
    """The unsheared kernel's ``x`` with the same θ, SDs, correlations and effects as the
    sheared kernel's ``x``."""
    draws = named_draws(new, x[None])
    b = {bl.block.name: draws[f"u|{bl.block.name}"][0] for bl in new.blocks}
    x_old = x.copy()
    for bl in old.blocks:  # log sd and the correlation's rows of Σ
        name = bl.block.name
        x_old[bl.sd] = np.log(draws[f"sd|{name}"][0])
        if bl.corr is not None:
            C = draws[f"chol_cor|{name}"][0]
            rows = [C[i, :i] / C[i, i] for i in range(1, len(bl.block.columns))]
            x_old[bl.corr] = np.concatenate(rows)
    for bl in old.blocks:
        if bl.effects is None:
            continue
        name = bl.block.name
        q = len(bl.block.columns)
        L = named_draws(old, x_old[None])
        Lf = L[f"sd|{name}"][0][:, None] * (
            L[f"chol_cor|{name}"][0] if f"chol_cor|{name}" in L else np.eye(q)
        )
        zeta = np.linalg.solve(Lf, b[name].T)  # (q, J)
        raw = np.where(np.array([c == "centered" for c in bl.choice])[:, None], b[name].T, zeta)
        for a, (c, k) in enumerate(zip(bl.shift_columns, bl.shift_coefficients, strict=True)):
            raw[k] += bl.shift_values[:, a] * x[c]
        x_old[bl.effects] = raw.ravel()
    return x_old


def effects_map(new: Layout, old: Layout, x: np.ndarray) -> np.ndarray:
    """The map from the new effects to the old ones at ``x`` (θ and Σ fixed): it is affine,
    so unit steps give its matrix exactly (up to rounding)."""
    every = np.arange(new.n_dim)
    idx = np.concatenate([every[bl.effects] for bl in new.blocks if bl.effects is not None])

    def image(v: np.ndarray) -> np.ndarray:
        return old_point(new, old, v)[idx]

    base = image(x)
    out = np.empty((len(idx), len(idx)))
    for a, i in enumerate(idx):
        e = x.copy()
        e[i] += 1.0
        out[:, a] = image(e) - base
    return out


def covariance_map(new: Layout, old: Layout, x: np.ndarray) -> np.ndarray:
    """Jacobian of the map from the new SDs and correlation rows to the old ones at ``x``, by
    Richardson-extrapolated central differences (error O(h⁴) = 1e-12 at h = 1e-3)."""
    every = np.arange(new.n_dim)
    idx = np.concatenate([every[s] for bl in new.blocks for s in (bl.sd, bl.corr) if s is not None])

    def image(v: np.ndarray) -> np.ndarray:
        return old_point(new, old, v)[idx]

    def central(i: int, h: float) -> np.ndarray:
        e = np.zeros(new.n_dim)
        e[i] = h
        return (image(x + e) - image(x - e)) / (2 * h)

    h = 1e-3
    return np.column_stack([(4 * central(i, h / 2) - central(i, h)) / 3 for i in idx])


MODELS = [
    ("c | trials(n) ~ x + (1 + x | g)", "binomial", "noncentered"),
    ("c | trials(n) ~ x + (1 + x | g)", "binomial", "centered"),  # holds β of x, no shift
    ("c | trials(n) ~ x + w + (1 + x + w | g)", "binomial", "noncentered"),  # w not sheared
    (
        "k ~ x + t + (1 + x + t | g) + (1 | h)",
        "poisson",
        {"g": ("centered", "noncentered", "centered"), "h": "centered"},
    ),
    ("k ~ x + (x || g)", "poisson", "noncentered"),  # uncorrelated: A Σ A' is not diagonal
    ("k ~ w + (1 + x | g)", "poisson", "centered"),  # x not a fixed column: its own mean
    ("y ~ x + (1 + x | g)", "student_t", "noncentered"),
]


@pytest.mark.parametrize(("formula", "family", "parameterization"), MODELS)
def test_sheared_log_density_is_the_unsheared_one_in_new_coordinates(
    far, monkeypatch, formula, family, parameterization
):
    model = hb.Model(formula, far, family=family, parameterization=parameterization)
    new = make_layout(model.design, model.prior_values, model.parameterization)
    old = unsheared_layout(model, monkeypatch)
    assert new.arrays[0][M_SHEAR] > 0 and old.arrays[0][M_SHEAR] == 0
    assert new.blocks[0].centre is not None and new.blocks[0].centre[1] == pytest.approx(
        far.x.mean()
    )
    rng = np.random.default_rng(7)
    for _ in range(3):
        x = new.center + rng.normal(0.0, 0.5, new.n_dim)
        value, grad = new.logp_grad(x)
        draws = named_draws(new, x[None])
        b = {bl.block.name: draws[f"u|{bl.block.name}"][0] for bl in new.blocks}
        x_old = old_point(new, old, x)
        # the same (θ, Σ, b): the old kernel reports the same effects
        back = named_draws(old, x_old[None])
        for name, value_b in b.items():
            np.testing.assert_allclose(back[f"u|{name}"][0], value_b, rtol=1e-10, atol=1e-10)
        # Σ's coordinates move too where the term is correlated (density.shear)
        _, log_det = np.linalg.slogdet(effects_map(new, old, x))
        _, log_det_cov = np.linalg.slogdet(covariance_map(new, old, x))
        expected = old.logp_grad(x_old)[0] + log_det + log_det_cov
        assert value == pytest.approx(expected, rel=1e-10, abs=1e-9)
        step = 1e-6
        for i in range(new.n_dim):
            e = np.zeros(new.n_dim)
            e[i] = step
            numeric = (new.logp_grad(x + e)[0] - new.logp_grad(x - e)[0]) / (2 * step)
            # rounding error of central differences: about 1e-16 |logp| / step
            assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8 * (1 + abs(value))), i


def test_the_effects_jacobian_in_closed_form(far, monkeypatch):
    for how in ("centered", "noncentered"):
        model = hb.Model("k ~ x + (1 + x | g)", far, family="poisson", parameterization=how)
        new = make_layout(model.design, model.prior_values, model.parameterization)
        old = unsheared_layout(model, monkeypatch)
        x = new.center + np.random.default_rng(2).normal(0.0, 0.5, new.n_dim)
        # effects: c = L' z, b = A⁻¹ c, z_old = L⁻¹ b, det = Π L'_kk / Π L_kk per group
        draws, old_draws = named_draws(new, x[None]), named_draws(old, old_point(new, old, x)[None])
        J = len(new.blocks[0].block.levels)
        Lc = np.exp(x[new.blocks[0].sd]) * np.diag(
            correlation_factor(x[new.blocks[0].corr][None], 2)[0]
        )
        L = old_draws["sd|g"][0] * np.diag(old_draws["chol_cor|g"][0])
        expected = J * (np.log(Lc).sum() - np.log(L).sum()) if how == "noncentered" else 0.0
        assert draws["sd|g"][0] == pytest.approx(old_draws["sd|g"][0], rel=1e-12)
        _, log_det = np.linalg.slogdet(effects_map(new, old, x))
        assert log_det == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize("formula", ["k ~ w + (1 + w | g)", "k ~ x + (1 + x | g) + (1 | h)"])
def test_terms_near_0_or_beside_an_integrated_factor_are_not_sheared(far, formula):
    how = {"g": "noncentered", "h": "laplace"} if "h)" in formula else "noncentered"
    model = hb.Model(formula, far, family="poisson", parameterization=how)
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    assert layout.arrays[0][M_SHEAR] == 0 and layout.blocks[0].centre is None


def test_a_slope_interacting_with_a_group_level_predictor_is_not_sheared(far):
    """``x * u`` with ``u`` constant within groups: at the centre the interaction's coefficient
    would move every group's value, so the term keeps its coordinates; ``x + u`` is sheared."""
    data = far.assign(u=far["g"].str[1:].astype(float) % 2)
    for formula, sheared in [("k ~ x * u + (1 + x | g)", False), ("k ~ x + u + (1 + x | g)", True)]:
        model = hb.Model(formula, data, family="poisson", parameterization="noncentered")
        layout = make_layout(model.design, model.prior_values, model.parameterization)
        assert (layout.blocks[0].centre is not None) is sheared, formula
        assert bool(layout.arrays[0][M_SHEAR] != 0) is sheared, formula


def test_the_cholesky_adjoint_matches_finite_differences():
    rng = np.random.default_rng(1)
    q = 3
    centre = np.array([0.0, 5.0, -3.0])
    L = np.tril(rng.normal(size=(q, q)))
    L[np.diag_indices(q)] = np.abs(L.diagonal()) + 0.5
    weights = np.tril(rng.normal(size=(q, q)))

    def f(L: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        S, M = np.empty((q, q)), np.zeros((q, q))
        assert shear_factor(L, centre, q, S, M)
        return float((weights * M).sum()), S, M

    _, S, M = f(L)
    G = weights.copy()
    chol_backward(M, G, q)
    sym = np.tril(G, -1) / 2.0
    sym = sym + sym.T + np.diag(G.diagonal())
    A = np.eye(q)
    A[0] += centre
    Lbar = np.tril(A.T @ (2.0 * sym @ S))
    numeric = np.zeros((q, q))
    h = 1e-6
    for i in range(q):
        for j in range(i + 1):
            e = np.zeros((q, q))
            e[i, j] = h
            numeric[i, j] = (f(L + e)[0] - f(L - e)[0]) / (2 * h)
    np.testing.assert_allclose(Lbar, numeric, atol=1e-8)


def _far_binomial(seed: int) -> pd.DataFrame:
    """30 groups of 8 binomial rows with ``x`` = 50 ± 10: intercept SD 0.6 at the centre, slope
    SD 0.02."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(30), 8)
    x = 50.0 + 10.0 * rng.normal(size=len(g))
    a, s = rng.normal(0.0, 0.6, 30), rng.normal(0.0, 0.02, 30)
    eta = -0.3 + 0.04 * (x - 50.0) + a[g] + s[g] * (x - 50.0)
    y = rng.binomial(10, 1.0 / (1.0 + np.exp(-eta)))
    return pd.DataFrame({"y": y, "n": 10, "x": x, "g": [f"g{j}" for j in g]})


@pytest.mark.slow
def test_sheared_and_unsheared_posteriors_agree(monkeypatch):
    """The same posterior of (β, Σ, b) in either coordinates, within Monte Carlo error: means
    and SDs of every fixed effect, SD, correlation and group effect."""
    import arviz as az

    from hierbayes.density import shear_layout

    data = _far_binomial(1)
    model = hb.Model("y | trials(n) ~ x + (1 + x | g)", data, family="binomial")
    assert model.parameterization == {"g": ("noncentered", "noncentered")}
    options = {"draws": 500, "tune": 500, "chains": 4, "random_seed": 1, "progressbar": False}
    sheared = model.fit(**options)
    monkeypatch.setattr(shear_layout, "SHEAR_AT", np.inf)
    plain = hb.Model("y | trials(n) ~ x + (1 + x | g)", data, family="binomial").fit(**options)
    for name in ("b", "sd|g", "cor|g", "u|g"):
        a, c = sheared.idata["posterior"][name], plain.idata["posterior"][name]
        if name == "cor|g":
            pick = {"g__term": 1, "g__term_bis": 0}
            a, c = a.isel(pick), c.isel(pick)
        for method, stat in (("mean", "mean"), ("sd", "std")):
            se = np.hypot(az.mcse(a, method=method).values, az.mcse(c, method=method).values)
            diff = np.abs(
                getattr(a, stat)(("chain", "draw")).values
                - getattr(c, stat)(("chain", "draw")).values
            )
            assert np.all(diff < 4.5 * se), (name, method, diff.max(), se.min())
