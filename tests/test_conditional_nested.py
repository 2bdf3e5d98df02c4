"""Exact conditional draws of nested effects: their mean and covariance are those of the dense
gaussian posterior of all effects given the parameters, within Monte Carlo error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hierbayes.build.nested_marginal import nested_chain
from hierbayes.conditional_nested import nested_effects
from hierbayes.design import make_design
from hierbayes.spec import parse_formula


@pytest.mark.parametrize(
    ("formula", "L_a"),
    [
        ("y ~ x + (1 + x | a) + (1 | s) + (0 + x | c)", [[1.2, 0.0], [0.5, 0.7]]),
        ("y ~ x + (1 | a) + (1 | s) + (1 | c)", [[1.2]]),  # the one-coefficient code
    ],
)
def test_draws_have_the_dense_conditional_mean_and_covariance(formula, L_a):
    rng = np.random.default_rng(5)
    n = 60
    a = rng.integers(0, 2, n)
    s = a * 2 + rng.integers(0, 2, n)
    c = s * 2 + rng.integers(0, 2, n)
    df = pd.DataFrame({"a": a.astype(str), "x": rng.normal(size=n)})
    df["s"], df["c"] = [f"s{i}" for i in s], [f"c{i}" for i in c]
    df["y"] = 1 + df.x + rng.normal(size=n) * 2
    design = make_design(parse_formula(formula), df)
    chain = nested_chain(design)
    assert [f.n_groups for f in chain.levels] == [2, 4, 8]
    Ls = {"a": np.array(L_a), "s": np.array([[0.9]]), "c": np.array([[0.6]])}
    b, sigma = np.array([0.8, 1.1]), 1.3
    S = 6000
    draws = nested_effects(
        np.tile(b, (S, 1)),
        np.full(S, sigma),
        {k: np.tile(v, (S, 1, 1)) for k, v in Ls.items()},
        design,
        chain,
        np.random.default_rng(0),
    )
    # dense posterior of all effects u = (u_a, u_s, u_c): precision T⁻¹ + Z'Z / σ²
    Zs, Ts, flat = [], [], []
    for block in design.blocks:
        q, J = len(block.columns), len(block.levels)
        Z = np.zeros((n, J * q))
        for k in range(q):
            Z[np.arange(n), block.codes * q + k] = block.Z[:, k]
        Zs.append(Z)
        Ts.append(np.kron(np.eye(J), Ls[block.name] @ Ls[block.name].T))
        flat.append(draws[block.name].reshape(S, J * q))
    Z = np.concatenate(Zs, axis=1)
    T = np.zeros((Z.shape[1], Z.shape[1]))
    k = 0
    for Tb in Ts:
        T[k : k + len(Tb), k : k + len(Tb)] = Tb
        k += len(Tb)
    r = design.y - design.X @ b
    cov = np.linalg.inv(np.linalg.inv(T) + Z.T @ Z / sigma**2)
    mean = cov @ Z.T @ r / sigma**2
    sample = np.concatenate(flat, axis=1)
    sd = np.sqrt(np.diag(cov))
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 4.5 * sd / np.sqrt(S))
    emp = np.cov(sample.T)
    mc_error = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / S)
    assert np.all(np.abs(emp - cov) < 4.5 * mc_error)
    # the levels are correlated a posteriori (the draws are joint, not level by level)
    k = 2 * len(L_a)  # the first school's effect
    assert np.abs(cov[0, k]) > 10 * mc_error[0, k]
