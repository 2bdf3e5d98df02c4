"""Sheared group terms on and off: the sweep's varying-slope models, seed by seed.

Fits each model of :mod:`sweep_glmms` (4 x 1000 draws, defaults) with the slopes of terms far
from 0 sampled at their centre (``shear``, the default; :mod:`hierbayes.density.shear`) and as
written (``plain``: :data:`hierbayes.density.shear_layout.SHEAR_AT` set to infinity, so no term
is sheared), and prints divergences, the largest R-hat and smallest bulk ESS of the population
parameters (and which parameter), the chains kept (an extension adds 4) and CPU seconds. Models
whose slopes are not sheared (centred or 0/1 slopes) give the same fit both ways.

Usage::

    Rscript benchmarks/sweep_glmms.R /tmp/sweep          # writes the CSV files
    uv run python benchmarks/shear_sweep.py /tmp/sweep ome_slopes sleepstudy --seeds 1 2 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import sweep_glmms as sweep

import hierbayes as hb
from hierbayes.density import shear_layout

MODELS = (
    "ome_slopes",
    "ome_probit",
    "sleepstudy",
    "orthodont",
    "early",
    "bacteria_slopes",
    "epil_nb",
    "dietox",
    "chick_lognormal",
    "bodyweight_gamma",
)
sweep.MODELS.setdefault(
    "sleepstudy", ("sleepstudy", "Reaction ~ Days + (1 + Days | Subject)", "gaussian")
)


def one(folder: Path, model: str, seed: int, shear: bool) -> dict:
    """One fit's row; the shear switched off by an infinite threshold."""
    keep = shear_layout.SHEAR_AT
    shear_layout.SHEAR_AT = keep if shear else np.inf
    try:
        row = sweep.run(folder, model, seed)
    finally:
        shear_layout.SHEAR_AT = keep
    extended = sum("more chains were sampled" in n for n in row["notes"])
    return {
        "model": model,
        "seed": seed,
        "how": "shear" if shear else "plain",
        "div": row["divergences"],
        "r_hat": round(row["r_hat"], 3),
        "ess": round(row["ess_bulk"]),
        "worst": row["worst"],
        "chains": 4 * (1 + extended),
        "rerun": row["rerun"],
        "cpu_s": round(row["cpu_s"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    if not (args.folder / "sleepstudy.csv").exists():
        hb.datasets.load("sleepstudy").to_csv(args.folder / "sleepstudy.csv", index=False)
    rows = [
        one(args.folder, model, seed, shear)
        for model in args.models
        for seed in args.seeds
        for shear in (False, True)
    ]
    with pd.option_context("display.width", 160):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
