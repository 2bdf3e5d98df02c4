"""The numba loops over draws agree with plain NumPy linear algebra."""

from __future__ import annotations

import numpy as np
import pytest

from hierbayes.density.batch import (
    add_effects,
    conditional_effects,
    fixed_residual_sums,
    group_sums,
)

S, N, J = 3, 40, 5


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def _codes(rng: np.random.Generator) -> np.ndarray:
    codes = rng.integers(0, J, N)
    codes[:J] = np.arange(J)
    return codes


@pytest.mark.parametrize("q", [1, 2, 3])
def test_add_effects_adds_each_rows_group_term(rng, q):
    codes, Z, u = _codes(rng), rng.normal(size=(N, q)), rng.normal(size=(S, J, q))
    eta = rng.normal(size=(S, N))
    expected = eta + np.einsum("nq,snq->sn", Z, u[:, codes])
    add_effects(eta, u, codes, Z)
    np.testing.assert_allclose(eta, expected, rtol=1e-12)


def test_add_effects_of_an_intercept_needs_no_design(rng):
    codes, u = _codes(rng), rng.normal(size=(S, J, 1))
    eta = np.zeros((S, N))
    add_effects(eta, u, codes, np.zeros((0, 1)))
    np.testing.assert_allclose(eta, u[:, codes, 0], rtol=1e-12)


@pytest.mark.parametrize("q", [1, 2, 3])
def test_group_sums_are_z_transpose_r_per_group(rng, q):
    codes, Z, r = _codes(rng), rng.normal(size=(N, q)), rng.normal(size=(S, N))
    expected = np.stack([[Z[codes == j].T @ r[s, codes == j] for j in range(J)] for s in range(S)])
    np.testing.assert_allclose(group_sums(r, codes, Z, J), expected, rtol=1e-12)


def test_fixed_residual_sums(rng):
    q, p = 2, 3
    Zty, ZtX, b = rng.normal(size=(J, q)), rng.normal(size=(J, q, p)), rng.normal(size=(S, p))
    out = fixed_residual_sums(Zty, ZtX, b, np.empty((S, J, q)))
    np.testing.assert_allclose(out, Zty[None] - np.einsum("jkp,sp->sjk", ZtX, b), rtol=1e-12)


def _reference_draw(t, ZtZ, L, sigma, eps):
    """v ~ N(M⁻¹ L't, σ² M⁻¹) with M = σ²I + L'Z'ZL, as v = M⁻¹ L't + σ C'⁻¹ eps; u = L v."""
    q = len(t)
    M = sigma**2 * np.eye(q) + L.T @ ZtZ @ L
    C = np.linalg.cholesky(M)
    v = np.linalg.solve(M, L.T @ t) + sigma * np.linalg.solve(C.T, eps)
    return L @ v


@pytest.mark.parametrize("q", [1, 2, 3])
@pytest.mark.parametrize("correlated", [True, False])
def test_conditional_effects_match_dense_linear_algebra(rng, q, correlated):
    Zs = [rng.normal(size=(8, q)) for _ in range(J)]
    ZtZ = np.stack([Z.T @ Z for Z in Zs])
    t = rng.normal(size=(S, J, q))
    L = np.tril(rng.normal(size=(S, q, q)))
    L[:, np.arange(q), np.arange(q)] = np.abs(L[:, np.arange(q), np.arange(q)]) + 0.1
    if not correlated:
        L = L * np.eye(q)
    sigma = rng.uniform(0.5, 2.0, S)
    eps = rng.normal(size=(S, J, q))
    out = conditional_effects(t, ZtZ, L, sigma, eps, np.empty((S, J, q)))
    expected = np.stack(
        [
            [_reference_draw(t[s, j], ZtZ[j], L[s], sigma[s], eps[s, j]) for j in range(J)]
            for s in range(S)
        ]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_conditional_effects_without_noise_are_the_blup(rng):
    """With zero noise the draw is the posterior mean E[u] = (Z'Z + σ² Σ⁻¹)⁻¹ Z'r."""
    q = 2
    Z = rng.normal(size=(30, q))
    r = rng.normal(size=30)
    Sigma = np.array([[1.5, 0.4], [0.4, 0.6]])
    L = np.linalg.cholesky(Sigma)
    sigma = 1.3
    out = conditional_effects(
        (Z.T @ r)[None, None], (Z.T @ Z)[None], L[None], np.array([sigma]),
        np.zeros((1, 1, q)), np.empty((1, 1, q)),
    )  # fmt: skip
    blup = np.linalg.solve(Z.T @ Z + sigma**2 * np.linalg.inv(Sigma), Z.T @ r)
    np.testing.assert_allclose(out[0, 0], blup, rtol=1e-12)
