"""Nested gaussian models with default settings: convergence before and after a change.

Two shapes where the upper level of a nested design is weakly identified:

* ``weak``: simulated pupils (31,000) in schools (2,400) in local authorities (130), the authority
  SD a seventh of the school SD, ``score ~ x + (1 | authority) + (1 | school)``;
* ``pastes``: lme4's Pastes data (10 batches x 3 casks x 2 samples, ``tests/build/pastes.csv``),
  ``strength ~ 1 + (1 | batch/cask)``.

Prints, per model and parameterisation: what ``auto`` chose, wall time, divergences, the largest
R-hat and the smallest bulk ESS over the population-level parameters (fixed effects, group SDs,
residual SD).

Usage::

    uv run python benchmarks/nested.py                       # 4 chains x 1000 draws, auto
    # before (old auto: upper level centred, NUTS at 0.8) and after (defaults)
    uv run python benchmarks/nested.py --parameterizations upper-centered auto --target-accept 0.8
    uv run python benchmarks/nested.py --models pastes
    uv run python benchmarks/nested.py --models pastes --parameterizations auto centered
    # before the nested factors were integrated out jointly ("auto" then integrated out the
    # lower level and sampled the upper one non-centred) and after (defaults)
    uv run python benchmarks/nested.py --parameterizations upper-noncentered auto
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb

ROOT = Path(__file__).resolve().parents[1]


def simulate_weak_upper(
    n_rows: int = 31_000,
    n_schools: int = 2_400,
    n_authorities: int = 130,
    sd_school: float = 0.35,
    sd_authority: float = 0.05,
    sigma: float = 1.0,
    seed: int = 1,
) -> pd.DataFrame:
    """Pupils in schools in authorities, schools of unequal size, a weak authority level."""
    rng = np.random.default_rng(seed)
    authority_of_school = np.sort(rng.integers(0, n_authorities, n_schools))
    authority_of_school[:n_authorities] = np.arange(n_authorities)  # every authority has a school
    size = rng.gamma(2.0, 1.0, n_schools)
    school = rng.choice(n_schools, n_rows, p=size / size.sum())
    school[:n_schools] = np.arange(n_schools)  # every school has a pupil
    authority = authority_of_school[school]
    a = rng.normal(0.0, sd_authority, n_authorities)
    s = rng.normal(0.0, sd_school, n_schools)
    x = rng.normal(size=n_rows)
    score = 0.2 + 0.5 * x + a[authority] + s[school] + rng.normal(0.0, sigma, n_rows)
    return pd.DataFrame(
        {
            "score": score,
            "x": x,
            "authority": pd.Categorical([f"a{i}" for i in authority]),
            "school": pd.Categorical([f"s{i}" for i in school]),
        }
    )


MODELS = {
    "weak": ("score ~ x + (1 | authority) + (1 | school)", simulate_weak_upper),
    "pastes": (
        "strength ~ 1 + (1 | batch/cask)",
        lambda: pd.read_csv(ROOT / "tests" / "build" / "pastes.csv"),
    ),
}
# the upper level's term, and the lower level's (integrated out by "auto")
TERMS = {"weak": ("authority", "school"), "pastes": ("batch", "batch:cask")}


def resolve(name: str, parameterization: str) -> str | dict:
    """``"upper-centered"``/``"upper-noncentered"``: lower level integrated out, upper as named.

    ``upper-centered`` is what ``auto`` chose before it counted nested groups.
    """
    if parameterization.startswith("upper-"):
        upper, lower = TERMS[name]
        return {upper: parameterization.removeprefix("upper-"), lower: "marginal"}
    return parameterization


def run(
    name: str,
    parameterization: str,
    draws: int,
    tune: int,
    chains: int,
    target_accept: float | None,
) -> dict:
    formula, data = MODELS[name]
    start = time.perf_counter()
    model = hb.Model(formula, data=data(), parameterization=resolve(name, parameterization))
    chosen = "; ".join(f"{k}: {'/'.join(v)}" for k, v in model.parameterization.items())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.ConvergenceWarning)
        fit = model.fit(
            draws=draws, tune=tune, chains=chains, random_seed=1, target_accept=target_accept
        )
    table = fit.diagnostics.table
    return {
        "model": name,
        "parameterization": parameterization,
        "chosen": chosen,
        "target_accept": target_accept or "default",
        "wall_s": round(time.perf_counter() - start, 1),
        "divergences": fit.diagnostics.divergences,
        "max_rhat": round(fit.diagnostics.max_rhat, 3),
        "min_bulk_ess": int(fit.diagnostics.min_ess_bulk),
        "worst": str(table["ess_bulk"].idxmin()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--parameterizations", nargs="+", default=["auto"])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--target-accept", type=float, nargs="+", default=[None])
    args = parser.parse_args()
    rows = [
        run(name, p, args.draws, args.tune, args.chains, ta)
        for name in args.models
        for p in args.parameterizations
        for ta in args.target_accept
    ]
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
