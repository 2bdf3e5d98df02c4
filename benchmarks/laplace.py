"""The Laplace parameterisation against the default on real models: CPU seconds of the fit
(sampling and the effects' draws), the smallest bulk ESS and largest R-hat of the
population-level parameters (``b`` and the group SDs), ESS per CPU second, and the Pareto k of
the Laplace check; one factor integrated out by Laplace, and all factors' intercepts jointly.

    uv run python benchmarks/laplace.py [--draws 500] [--chains 2] [--models verbagg,...]
        [--seeds 1,2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pandas as pd

import hierbayes as hb
import hierbayes.laplace_fit

DATA = Path(__file__).parents[1] / "tests" / "data"
MODELS = {
    "verbagg": (
        "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        "bernoulli",
        lambda: hb.datasets.load("verbagg"),
    ),
    "contraception": (
        "use ~ urban + age + livch + (1 | district)",
        "bernoulli",
        lambda: pd.read_csv(DATA / "contraception.csv"),
    ),
    "grouseticks": (
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        "poisson",
        lambda: hb.datasets.load("grouseticks"),
    ),
    "salamanders": (
        "count ~ mined + spp + (1 | site)",
        "negativebinomial",
        lambda: pd.read_csv(DATA / "salamanders.csv"),
    ),
}

# the factor with many groups, integrated out instead of the one with the fewest; every
# factor's intercepts jointly (hierbayes.density.laplace_joint)
EXTRA: dict[str, tuple[object, ...]] = {
    "verbagg": ({"id": "laplace"}, {"id": "laplace", "item": "laplace"}),
    "grouseticks": (
        {"BROOD": "laplace", "LOCATION": "laplace"},
        {"BROOD": "laplace", "INDEX": "laplace", "LOCATION": "laplace"},
    ),
}


def run(
    name: str, parameterization: object, draws: int, chains: int, seed: int = 1
) -> dict[str, object]:
    formula, family, load = MODELS[name]
    model = hb.Model(formula, load(), family=family, parameterization=parameterization)
    cpu = time.process_time()
    fit = model.fit(draws=draws, tune=draws, chains=chains, random_seed=seed, progressbar=False)
    cpu = time.process_time() - cpu
    post = fit.idata["posterior"].to_dataset()
    names = ["b"] + [v for v in post.data_vars if str(v).startswith("sd|")]
    ess = azs.ess(post[names], method="bulk")
    low = min(float(ess[v].min()) for v in names)
    rhat = azs.rhat(post[names])
    return {
        "model": name,
        "seed": seed,
        "parameterization": " ".join(f"{k}:{v[0][:4]}" for k, v in model.parameterization.items()),
        "cpu_s": round(cpu, 1),
        "min_bulk_ess": round(low),
        "ess_per_cpu_s": round(low / cpu, 1),
        "max_rhat": round(max(float(rhat[v].max()) for v in names), 3),
        "pareto_k": post.attrs.get("laplace_pareto_k", np.nan),
        # a failed check ran the model again with the effects sampled (cpu_s counts both runs)
        "refit": "run again" in str(post.attrs.get("sampling_notes", "")),
        "divergent": int(fit.idata["sample_stats"]["diverging"].sum()),
        "sds": " ".join(f"{v[3:]}={float(post[v].mean()):.3f}" for v in names[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", default="1")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep a Laplace fit whose check fails (its own numbers, not the refit's)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="'joint': only every factor jointly; 'extra': the EXTRA ones; 'others': the rest",
    )
    args = parser.parse_args()
    if args.keep:
        hierbayes.laplace_fit.PARETO_K_MAX = float("inf")
    rows = []
    for name in args.models.split(","):
        pars = ("auto", "laplace", *EXTRA.get(name, ()))
        if args.only == "joint":
            pars = pars[-1:]
        elif args.only == "others":
            pars = pars[: -len(EXTRA.get(name, ()))] if name in EXTRA else pars
        elif args.only == "extra":
            pars = EXTRA.get(name, ())
        for seed in (int(s) for s in args.seeds.split(",")):
            for par in pars:
                run(name, par, 50, 1, seed)  # warm-up: numba's cache and nutpie's setup
                rows.append(run(name, par, args.draws, args.chains, seed))
                print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
