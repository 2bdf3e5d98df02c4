"""Adaptive Gauss-Hermite quadrature (``parameterization={"mom": "agq"}``) against the sampled
effects and the Laplace approximation on guImmun (bernoulli, 2,159 children of 1,595 mothers in
161 communities): the smallest bulk ESS of the population-level parameters (``b`` and the SDs),
sampling CPU seconds (user + sys of the process, the effects' draws included) and wall seconds,
ESS per CPU second, leapfrog steps per draw, the mothers' SD (posterior mean; brms: 2.67) and the
fit's check (the quadrature's own for AGQ, the importance check for Laplace), for each number of
nodes.

    uv run python benchmarks/agq.py [--draws 1000] [--chains 4] [--seeds 1,2] [--nodes 3,5,9,11]
        [--no-reference] [--sampled] [--keep]
    uv run python benchmarks/agq.py --gradient [--nodes 11]

``--gradient`` times one gradient of the quadrature's log density (µs of CPU, the least of five
rounds) at 100 draws of a short fit, for each number of nodes, instead of fitting.

A fit whose check fails runs again with the effects sampled (its row then
shows that run's sampler, CPU seconds counting both); ``--keep`` keeps the quadrature's fit
whatever its check says, and ``draws_cpu_s`` gives the CPU seconds of the effects' draws.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pandas as pd

import hierbayes as hb
import hierbayes.density.sampler as sampler
import hierbayes.laplace_fit as laplace_fit
from hierbayes.density import agq, agq_check

SPENT = {"draws": 0.0}
_complete = sampler.complete_laplace
RAW: dict[str, np.ndarray] = {}


def _timed_complete(*args: object, **kwargs: object) -> object:
    cpu = time.process_time()
    RAW["last"] = np.asarray(args[1])
    out = _complete(*args, **kwargs)
    SPENT["draws"] += time.process_time() - cpu
    return out


sampler.complete_laplace = _timed_complete

DATA = Path(__file__).parents[1] / "tests" / "data" / "guimmun.csv"
FORMULA = (
    "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
    " + (1 | mom) + (1 | comm)"
)


def run(parameterization: object, nodes: int, draws: int, chains: int, seed: int) -> dict:
    data = pd.read_csv(DATA, dtype={"ord": str, "mom": str, "comm": str})
    agq.AGQ_NODES = nodes
    model = hb.Model(FORMULA, data, family="bernoulli", parameterization=parameterization)
    model.fit(draws=20, tune=20, chains=1, random_seed=0, progressbar=False)  # compile, warm
    SPENT["draws"] = 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    fit = model.fit(draws=draws, tune=draws, chains=chains, random_seed=seed, progressbar=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    post = fit.idata["posterior"].to_dataset()
    names = ["b"] + [v for v in post.data_vars if str(v).startswith("sd|")]
    ess = azs.ess(post[names], method="bulk")
    low = min(float(ess[v].min()) for v in names)
    stats = fit.idata["sample_stats"].to_dataset()
    steps = float(stats["n_steps"].mean()) if "n_steps" in stats else np.nan
    return {
        "parameterization": " ".join(f"{k}:{v[0]}" for k, v in model.parameterization.items()),
        "nodes": nodes if "agq" in str(model.parameterization) else "",
        "seed": seed,
        "min_bulk_ess": round(low),
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "ess_per_cpu_s": round(low / cpu, 1),
        "steps_per_draw": round(steps, 1),
        "sd_mom": round(float(post["sd|mom"].mean()), 3),
        "pareto_k": round(float(post.attrs.get("laplace_pareto_k", np.nan)), 2),
        "agq_check_sd": round(float(post.attrs.get("agq_check_sd", np.nan)), 4),
        "agq_check_max_dev": round(float(post.attrs.get("agq_check_max_dev", np.nan)), 4),
        "draws_cpu_s": round(SPENT["draws"], 1),
    }


def gradient(nodes: int) -> dict:
    """CPU µs of one gradient of the log density with ``nodes`` nodes, at a short fit's draws."""
    from hierbayes.density.layout import make_layout

    data = pd.read_csv(DATA, dtype={"ord": str, "mom": str, "comm": str})
    agq.AGQ_NODES = nodes
    model = hb.Model(FORMULA, data, family="bernoulli", parameterization={"mom": "agq"})
    model.fit(draws=100, tune=200, chains=1, random_seed=1, progressbar=False)
    X = RAW["last"].reshape(-1, RAW["last"].shape[-1])
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    best = np.inf
    for _ in range(5):
        cpu = time.process_time()
        for x in X:
            layout.logp_grad(x)
        best = min(best, (time.process_time() - cpu) / len(X))
    return {"nodes": nodes, "gradient_us": round(best * 1e6, 1), "draws": len(X)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--nodes", default="3,5,9,11")
    parser.add_argument("--no-reference", action="store_true", help="AGQ only")
    parser.add_argument("--sampled", action="store_true", help="and sampled (with --no-reference)")
    parser.add_argument("--keep", action="store_true", help="keep a fit that fails its check")
    parser.add_argument("--gradient", action="store_true", help="time one gradient, no fits")
    args = parser.parse_args()
    if args.gradient:
        for k in args.nodes.split(","):
            print(gradient(int(k)), flush=True)
        return
    if args.keep:
        laplace_fit.PARETO_K_MAX = float("inf")
        agq_check.AGQ_SD_MAX = agq_check.AGQ_DEV_MAX = float("inf")
    seeds = [int(s) for s in args.seeds.split(",")]
    runs: list[tuple[object, int]] = []
    if not args.no_reference:
        runs += [("auto", 1), ({"mom": "auto", "comm": "auto"}, 1), ({"mom": "laplace"}, 1)]
    elif args.sampled:
        runs += [({"mom": "auto", "comm": "auto"}, 1)]
    runs += [({"mom": "agq"}, int(k)) for k in args.nodes.split(",")]
    rows = []
    for p, k in runs:
        for s in seeds:
            rows.append(run(p, k, args.draws, args.chains, s))
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
