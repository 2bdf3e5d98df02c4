"""Exact conditional draws of integrated-out effects."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from helpers import crossed_data

from hierbayes.build.marginal import factor_design
from hierbayes.conditional import CONDITIONAL_DRAWS, _draw_effects
from hierbayes.design import make_design
from hierbayes.diagnostics import check_convergence
from hierbayes.spec import parse_formula


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return crossed_data()


def _posterior(S: int, b, sigma, sd, cor=None, others=None) -> xr.Dataset:
    """S identical draws, shaped (1 chain, S draws)."""

    def rep(v):
        v = np.asarray(v, dtype=float)
        return np.broadcast_to(v, (1, S, *v.shape)).copy()

    variables = {"b": (("chain", "draw", "term"), rep(b)), "sigma": (("chain", "draw"), rep(sigma))}
    variables["sd|g"] = (("chain", "draw", "t"), rep(sd))
    if cor is not None:
        variables["cor|g"] = (("chain", "draw", "t", "t2"), rep(cor))
        variables["chol_cor|g"] = (("chain", "draw", "t", "t2"), rep(np.linalg.cholesky(cor)))
    for name, u in (others or {}).items():
        variables[f"u|{name}"] = (("chain", "draw", "j", "k"), rep(u))
    return xr.Dataset(variables)


@pytest.mark.parametrize("crossed", [False, True])
def test_conditional_draws_have_the_exact_posterior_moments(data, crossed):
    formula = "y ~ x + (1 + x | g)" + (" + (1 | h)" if crossed else "")
    design = make_design(parse_formula(formula), data)
    g = design.blocks[0]
    others = list(design.blocks[1:])
    b, sigma, sd, rho = np.array([2.5, 0.8]), 0.7, np.array([1.2, 0.4]), -0.3
    cor = np.array([[1.0, rho], [rho, 1.0]])
    u_h = np.array([[0.4], [-0.2], [0.1]])
    S = 20_000
    post = _posterior(S, b, sigma, sd, cor, {"h": u_h} if crossed else None)
    draws = _draw_effects(
        post, design, factor_design(design, ["g"]), others, np.random.default_rng(1)
    )
    # closed form: precision T⁻¹ + Z'Z/σ², mean Σ Z'r/σ²
    T = np.outer(sd, sd) * cor
    r = design.y - design.X @ b
    if crossed:
        r = r - u_h[others[0].codes, 0]
    for j in range(len(g.levels)):
        Zj, rj = g.Z[g.codes == j], r[g.codes == j]
        cov = np.linalg.inv(np.linalg.inv(T) + Zj.T @ Zj / sigma**2)
        mean = cov @ Zj.T @ rj / sigma**2
        got = draws[:, j, :]
        se = np.sqrt(np.diag(cov) / S)
        assert np.all(np.abs(got.mean(axis=0) - mean) < 4 * se)
        # sampling SD of a variance estimate ≈ var * sqrt(2 / S)
        assert np.all(np.abs(got.var(axis=0) - np.diag(cov)) < 4 * np.diag(cov) * np.sqrt(2 / S))
        corr = np.corrcoef(got.T)[0, 1]
        exact = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
        assert abs(corr - exact) < 4 * (1 - exact**2) / np.sqrt(S)


def test_draws_varying_per_draw_are_exact_across_chunk_boundaries(data, monkeypatch):
    """Parameters differing in every draw, split into chunks of 3 draws: each draw is
    u = L v, v = M⁻¹ L't + σ C'⁻¹ ε (M = σ²I + L'Z'ZL = CC'), with the generator's normals
    taken in order."""
    import hierbayes.loglik as loglik

    design = make_design(parse_formula("y ~ x + (1 + x | g) + (1 | h)"), data)
    g, h = design.blocks
    S, J, q = 7, len(g.levels), 2
    rng = np.random.default_rng(4)
    b = rng.normal(size=(S, 2))
    sigma = rng.uniform(0.5, 1.5, S)
    sd = rng.uniform(0.3, 2.0, (S, q))
    rho = rng.uniform(-0.8, 0.8, S)
    cor = np.stack([[[1.0, r], [r, 1.0]] for r in rho])
    u_h = rng.normal(size=(S, len(h.levels), 1))
    post = xr.Dataset(
        {
            "b": (("chain", "draw", "term"), b[None]),
            "sigma": (("chain", "draw"), sigma[None]),
            "sd|g": (("chain", "draw", "t"), sd[None]),
            "cor|g": (("chain", "draw", "t", "t2"), cor[None]),
            "chol_cor|g": (("chain", "draw", "t", "t2"), np.linalg.cholesky(cor)[None]),
            "u|h": (("chain", "draw", "j", "k"), u_h[None]),
        }
    )
    monkeypatch.setattr(loglik, "_CHUNK_ELEMENTS", 3 * (J * q * q + design.n_obs))
    assert [p.stop for p in loglik.chunks(S, J * q * q + design.n_obs)] == [3, 6, 7]
    draws = _draw_effects(post, design, factor_design(design, ["g"]), [h], np.random.default_rng(1))
    eps = np.random.default_rng(1).standard_normal((S, J, q))
    for s in range(S):
        L = sd[s][:, None] * np.linalg.cholesky(cor[s])
        r = design.y - design.X @ b[s] - u_h[s, h.codes, 0]
        for j in range(J):
            Zj, rj = g.Z[g.codes == j], r[g.codes == j]
            M = sigma[s] ** 2 * np.eye(q) + L.T @ Zj.T @ Zj @ L
            C = np.linalg.cholesky(M)
            v = np.linalg.solve(M, L.T @ Zj.T @ rj) + sigma[s] * np.linalg.solve(C.T, eps[s, j])
            np.testing.assert_allclose(draws[s, j], L @ v, rtol=1e-9, atol=1e-12)


@pytest.mark.slow
def test_marginal_and_noncentered_posteriors_agree(sleep_fit, sleep_noncentered_fit):
    """sleepstudy: every parameter and every group effect within Monte Carlo error."""
    assert sleep_fit.model.parameterization == {"Subject": ("marginal", "marginal")}
    other = sleep_noncentered_fit
    for name in ("b", "sigma", "sd|Subject", "cor|Subject", "u|Subject"):
        a, c = sleep_fit.idata.posterior[name], other.idata.posterior[name]
        se = np.sqrt(az.mcse(a, method="mean") ** 2 + az.mcse(c, method="mean") ** 2)
        diff = np.abs(a.mean(("chain", "draw")) - c.mean(("chain", "draw")))
        if name == "cor|Subject":
            off = ~np.eye(2, dtype=bool)
            diff, se = diff.values[off], se.values[off]
        assert np.all(np.asarray(diff) < 4.5 * np.asarray(se)), name
        sd_a, sd_c = a.std(("chain", "draw")), c.std(("chain", "draw"))
        ratio = np.asarray(sd_a / sd_c).ravel()
        ratio = ratio[np.isfinite(ratio)]
        assert np.all(np.abs(ratio - 1) < 0.15), name
    assert sleep_fit.diagnostics.ok


def test_integrated_out_effects_are_marked_and_skip_the_rhat_screen(sleep_fit):
    idata = sleep_fit.idata.copy()
    post = idata["posterior"].to_dataset()
    assert post["u|Subject"].attrs["draws"] == CONDITIONAL_DRAWS
    shifted = post["u|Subject"] + xr.DataArray([100.0, 0, 0, 0], dims="chain")
    flagged = "R-hat reaches"
    for attrs, expect in (({"draws": CONDITIONAL_DRAWS}, False), ({}, True)):
        da = shifted.copy()
        da.attrs = dict(attrs)
        idata["posterior"] = xr.DataTree(post.assign({"u|Subject": da}))
        messages = check_convergence(idata, emit=False).warnings
        assert any(flagged in m for m in messages) is expect
