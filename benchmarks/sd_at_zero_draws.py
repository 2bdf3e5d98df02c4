"""Posterior draws of group SDs that do and do not pile up at zero: the calibration of
:mod:`hierbayes.sd_at_zero` and the draws of ``tests/data/sd_posterior_draws.csv``.

Fits MASS's ``bacteria`` (bernoulli ``yy ~ trt + week + (1 + week || ID)``, 50 children; the data
written by ``Rscript``) and gaussian ``y ~ 1 + (1 | g)`` on simulated data with true group SDs of
0, 0.3, 0.5 and 1 (residual SD 1) and few or many groups, two seeds each, and prints each SD's
posterior median, q10/q50 (the earlier rule) and its density at 0 over its mode's.

Usage::

    uv run python benchmarks/sd_at_zero_draws.py [--write tests/data/sd_posterior_draws.csv]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.sd_at_zero import density_ratio_at_zero

_SIMULATED = {  # name: (true SD, groups, rows per group)
    "sd0_8groups": (0.0, 8, 10),
    "sd0_30groups": (0.0, 30, 10),
    "sd03_5groups": (0.3, 5, 10),
    "sd03_8groups": (0.3, 8, 5),
    "sd05_20groups": (0.5, 20, 5),
    "sd1_20groups": (1.0, 20, 10),
    "sd1_50groups": (1.0, 50, 10),
}


def _bacteria() -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bacteria.csv"
        script = f'd <- MASS::bacteria; d$yy <- as.integer(d$y == "y"); write.csv(d, "{path}")'
        subprocess.run(["Rscript", "-e", script], check=True)
        return pd.read_csv(path)


def _simulate(sd: float, groups: int, per: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    y = 1 + rng.normal(0, sd, groups)[g] + rng.normal(0, 1, len(g))
    return pd.DataFrame({"y": y, "g": [f"g{i}" for i in g]})


def _sd_draws(fit: hb.Fit, factor: str) -> np.ndarray:
    return (
        fit.idata["posterior"][f"sd|{factor}"].sel({f"{factor}__term": "Intercept"}).values.ravel()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write 1000 random draws of three SDs here")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    draws = {}
    fit = hb.Model("yy ~ trt + week + (1 + week || ID)", _bacteria(), family="bernoulli").fit(
        random_seed=1
    )
    draws["bacteria_intercept"] = _sd_draws(fit, "ID")
    for name, (sd, groups, per) in _SIMULATED.items():
        for seed in (1, 2):
            fit = hb.Model("y ~ 1 + (1 | g)", _simulate(sd, groups, per, seed)).fit(
                random_seed=seed
            )
            draws[name if seed == 1 else f"{name}_seed2"] = _sd_draws(fit, "g")
    for name, x in draws.items():
        q10, q50 = np.quantile(x, [0.1, 0.5])
        ratio = density_ratio_at_zero(x)
        print(f"{name:22s} median {q50:.3f}  q10/q50 {q10 / q50:.3f}  f(0)/f(mode) {ratio:.3f}")
    if args.write:
        rng = np.random.default_rng(0)
        keep = ("bacteria_intercept", "sd0_8groups", "sd1_20groups")
        table = {k: rng.choice(draws[k], 1000, replace=False) for k in keep}
        pd.DataFrame(table).to_csv(args.write, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
