"""Scale check: a correlated intercept-and-slope model on simulated data with many rows and groups.

Simulates ``y = 1 + 0.5 x + u0[g] + u1[g] x + e`` with (u0, u1) correlated across groups, fits
``y ~ x + (1 + x | g)`` (the default parameterisation integrates the group effects out, so a
gradient costs O(groups), not O(rows)) without storing the pointwise log-likelihood, and prints
the time of each stage, the smallest bulk ESS of the population-level parameters, how well they
recover the truth, and the peak resident memory of the process.

Usage::

    uv run python benchmarks/scale.py                      # 1,000,000 rows, 10,000 groups
    uv run python benchmarks/scale.py --rows 100000 --groups 1000 --draws 500
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import warnings

import numpy as np
import pandas as pd

import hierbayes as hb

TRUTH = {"b0": 1.0, "b1": 0.5, "sd0": 1.0, "sd1": 0.3, "rho": 0.3, "sigma": 2.0}


def simulate(rows: int, groups: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, rows)
    g[:groups] = np.arange(groups)  # every group has data
    x = rng.normal(0.0, 1.0, rows)
    sd0, sd1, rho = TRUTH["sd0"], TRUTH["sd1"], TRUTH["rho"]
    cov = np.array([[sd0**2, rho * sd0 * sd1], [rho * sd0 * sd1, sd1**2]])
    u = rng.multivariate_normal(np.zeros(2), cov, groups)
    y = TRUTH["b0"] + u[g, 0] + (TRUTH["b1"] + u[g, 1]) * x + rng.normal(0, TRUTH["sigma"], rows)
    return pd.DataFrame({"y": y, "x": x, "g": g})


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024**3 if platform.system() == "Darwin" else 1024**2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=1000, help="draws and tuning steps per chain")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--parameterization", default="auto")
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = simulate(args.rows, args.groups)
    t1 = time.perf_counter()
    model = hb.Model("y ~ x + (1 + x | g)", data, parameterization=args.parameterization)
    t2 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.ConvergenceWarning)
        fit = model.fit(
            draws=args.draws,
            tune=args.draws,
            chains=args.chains,
            random_seed=1,
            log_likelihood=False,
        )
    t3 = time.perf_counter()
    post = fit.idata["posterior"]
    sample_s = float(post.attrs.get("sampling_time", np.nan))
    vc = fit.varcorr().set_index(["factor", "term", "stat"])["mean"]
    fixef = fit.fixef()["mean"]
    recovered = {
        "b0": fixef["Intercept"],
        "b1": fixef["x"],
        "sd0": vc[("g", "Intercept", "sd")],
        "sd1": vc[("g", "x", "sd")],
        "rho": vc[("g", "Intercept:x", "cor")],
        "sigma": vc[("Residual", "", "sd")],
    }
    print(
        f"# {args.rows:,} rows, {args.groups:,} groups, {args.chains} chains x {args.draws} draws; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; parameterization {model.parameterization['g'][0]}"
    )
    table = pd.DataFrame(
        [
            ("simulate s", t1 - t0),
            ("model (design, priors) s", t2 - t1),
            ("fit wall s", t3 - t2),
            ("  of which sampling s", sample_s),
            ("min bulk ESS", fit.diagnostics.min_ess_bulk),
            ("ESS per s of fit", fit.diagnostics.min_ess_bulk / (t3 - t2)),
            ("max R-hat", fit.diagnostics.max_rhat),
            ("divergences", fit.diagnostics.divergences),
            ("peak RSS GB", peak_rss_gb()),
        ],
        columns=["measure", "value"],
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print("truth vs posterior mean:")
    print(
        pd.DataFrame({"truth": TRUTH, "posterior mean": recovered}).to_string(
            float_format=lambda v: f"{v:.3f}"
        )
    )


if __name__ == "__main__":
    main()
