"""Fits with centred varying slopes, with and without their hierarchical centring.

A centred slope whose fixed term is in the model is sampled as each group's own slope (fixed
slope + effect, :mod:`hierbayes.density.centring`). ``--without`` samples the effect alone with
the fixed slope apart (the rule before, which centred intercepts only), to compare. Prints, per
model: CPU seconds of the fit (all threads), divergences, the largest R-hat and the bulk ESS of
each fixed effect and group SD, 4 chains x 1000 draws.

Usage::

    uv run python benchmarks/centred_slopes.py                     # sleepstudy hsb radon poisson
    uv run python benchmarks/centred_slopes.py --without --models sleepstudy
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.density import centring

RADON = Path("/work/shared/data/radon.csv")


def _poisson() -> pd.DataFrame:
    """30 groups of 40 counts, x ~ N(2, 1): intercept 1, slope 0.3, SDs 0.3 and 0.15."""
    rng = np.random.default_rng(5)
    J, n = 30, 40
    g = np.repeat(np.arange(J), n)
    x = rng.normal(2.0, 1.0, J * n)
    u = rng.normal(0.0, [0.3, 0.15], size=(J, 2))
    eta = 1.0 + u[g, 0] + (0.3 + u[g, 1]) * x
    return pd.DataFrame({"g": [f"g{j}" for j in g], "x": x, "k": rng.poisson(np.exp(eta))})


def _radon() -> pd.DataFrame:
    data = pd.read_csv(RADON).rename(columns={"log.radon": "y"})
    return data.assign(floor=1 - data.basement)


MODELS = {
    "sleepstudy": lambda: hb.Model(
        "Reaction ~ Days + (1 + Days | Subject)",
        data=hb.datasets.load("sleepstudy"),
        parameterization="centered",
    ),
    "hsb": lambda: hb.Model(
        "mAch ~ cses * (meanses + sector) + (1 + cses | school)",
        data=hb.datasets.load("hsb").drop(columns=["meanses", "sector"]),
        level2={"school": hb.datasets.load("hsb_schools")},
        parameterization="centered",
    ),
    "radon": lambda: hb.Model(
        "y ~ floor + uranium + (1 + floor | county)", data=_radon(), parameterization="centered"
    ),
    "poisson": lambda: hb.Model(
        "k ~ x + (1 + x | g)", data=_poisson(), family="poisson", parameterization="centered"
    ),
}


def run(name: str) -> str:
    model = MODELS[name]()
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.ConvergenceWarning)
        fit = model.fit(draws=1000, tune=1000, chains=4, random_seed=1, progressbar=False)
    cpu = time.process_time() - start
    post = fit.idata["posterior"]
    names = ["b"] + [v for v in post.data_vars if str(v).startswith("sd|")]
    ess = az.ess(post, var_names=names, method="bulk")
    parts = []
    for var in ess.data_vars:
        labels = ess[var].coords[ess[var].dims[0]].values
        values = np.atleast_1d(ess[var].values)
        parts.append(", ".join(f"{var}[{c}] {v:.0f}" for c, v in zip(labels, values, strict=True)))
    d = fit.diagnostics
    return (
        f"{name}: CPU {cpu:.1f} s, divergences {d.divergences}, max R-hat {d.max_rhat:.3f}; "
        f"bulk ESS {'; '.join(parts)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--without", action="store_true", help="slopes not hierarchically centred")
    args = parser.parse_args()
    if args.without:
        centring._held_by_slope = lambda *args: []  # type: ignore[assignment]
    for name in args.models:
        if name == "radon" and not RADON.exists():
            continue
        print(run(name), flush=True)


if __name__ == "__main__":
    main()
