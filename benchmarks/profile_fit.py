"""Where the time of ``hb.Model(...).fit()`` goes: wall and CPU seconds per stage.

Wraps the functions ``Model.fit`` calls (in the modules that call them) with a timer, runs one
fit end to end, and prints a table of stages: the model (formula, design), the layout and
the cached kernel's callbacks, the start search (:mod:`hierbayes.density.start`), nutpie
(warm-up and draws: the sampler does not report them apart, so the table shows the leapfrog
steps per draw of both from ``sample_stats``), labelling the draws, the draws of integrated-out
effects, the observed data, the pointwise log-likelihood, and the convergence checks. CPU
seconds are the whole process's (every thread: nutpie's chains run in threads), so they are
comparable on a loaded machine where wall seconds are not.

A first run on a machine (or after a kernel module changed) compiles the numba kernel; the
script warms it with tiny fits first (of sleepstudy and of the profiled model: the numba code
only some models run, such as the draws of Laplace-integrated effects, compiles on first use)
unless ``--cold`` is given.

Usage::

    uv run python benchmarks/profile_fit.py                      # VerbAgg crossed bernoulli
    uv run python benchmarks/profile_fit.py --model sleepstudy
    uv run python benchmarks/profile_fit.py --model salamanders   # negative binomial (tests/data)
    uv run python benchmarks/profile_fit.py --draws 1000 --tune 1000 --chains 4 --repeat 3
    uv run python benchmarks/profile_fit.py --cprofile 25         # top 25 functions too
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np

import hierbayes as hb

MODELS: dict[str, tuple[str, str, str]] = {
    "verbagg": (
        "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        "verbagg",
        "bernoulli",
    ),
    "sleepstudy": ("Reaction ~ Days + (1 + Days | Subject)", "sleepstudy", "gaussian"),
    "grouseticks": (
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        "grouseticks",
        "poisson",
    ),
    "salamanders": ("count ~ mined + spp + (1 | site)", "salamanders.csv", "negativebinomial"),
    "guimmun": (
        "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
        " + (1 | mom) + (1 | comm)",
        "guimmun.csv",
        "bernoulli",
    ),
    "contraception": (
        "use ~ urban + age + livch + (1 + urban | district)",
        "contraception.csv",
        "bernoulli",
    ),
    "wine": ("rating ~ temp + contact + (1 | judge)", "wine.csv", "cumulative"),
}
_TEST_DATA = Path(__file__).parents[1] / "tests" / "data"

# (module, attribute, stage): the calls timed, in the module whose name they are called by
STAGES: list[tuple[str, str, str]] = [
    ("hierbayes.model", "make_layout", "layout"),
    ("hierbayes.density.sampler", "callbacks", "kernel callbacks (numba cache load)"),
    ("hierbayes.density.sampler", "starting_points", "start search"),
    ("nutpie", "sample", "nutpie (warm-up + draws)"),
    ("hierbayes.density.sampler", "_raw_and_stats", "read nutpie's trace"),
    ("hierbayes.density.sampler", "rescue", "rescue check"),
    ("hierbayes.density.sampler", "posterior_dataset", "label draws"),
    ("hierbayes.model", "complete_marginal", "integrated-out effects"),
    ("hierbayes.model", "observed_data", "observed data"),
    ("hierbayes.model", "pointwise_log_likelihood", "log-likelihood"),
    ("hierbayes.model", "check_convergence", "convergence checks"),
    ("hierbayes.model", "Fit", "Fit object"),
]


class Timer:
    """Wall and CPU seconds per stage, summed over calls (nested stages are not subtracted)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - wall
            self.cpu[name] += time.process_time() - cpu

    def wrap(self, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return fn(*args, **kwargs)

        return timed


@contextlib.contextmanager
def patched(timer: Timer) -> Iterator[None]:
    import importlib

    saved = []
    for module_name, attr, stage in STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, attr)
        saved.append((module, attr, original))
        setattr(module, attr, timer.wrap(original, stage))
    try:
        yield
    finally:
        for module, attr, original in saved:
            setattr(module, attr, original)


def _load(dataset: str) -> Any:
    """A bundled data set, or a CSV of the tests' data (wine's rating an ordered factor)."""
    if not dataset.endswith(".csv"):
        return hb.datasets.load(dataset)
    import pandas as pd

    text = {"judge": str, "ord": str, "mom": str, "comm": str, "district": str}
    data = pd.read_csv(_TEST_DATA / dataset, dtype=text)
    if "rating" in data:
        data["rating"] = pd.Categorical(data["rating"], ordered=True)
    return data


def profile_once(name: str, draws: int, tune: int, chains: int, seed: int) -> tuple[Timer, Any]:
    formula, dataset, family = MODELS[name]
    data = _load(dataset)
    timer = Timer()
    with patched(timer), warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.ConvergenceWarning)
        with timer.stage("TOTAL end to end"):
            with timer.stage("model (formula, design)"):
                model = hb.Model(formula, data=data, family=family)
            fit = model.fit(draws=draws, tune=tune, chains=chains, random_seed=seed)
    return timer, fit


def leapfrogs(fit: Any) -> tuple[float, float]:
    stats = fit.idata["sample_stats"]
    steps = stats["n_steps"].values if "n_steps" in stats else np.full(1, np.nan)
    size = stats["step_size"].values if "step_size" in stats else np.full(1, np.nan)
    return float(np.mean(steps)), float(np.mean(size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="verbagg")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cold", action="store_true", help="do not warm the numba cache first")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    parser.add_argument(
        "--save", default="", help="write the population parameters' means and SDs (JSON) here"
    )
    args = parser.parse_args()

    if not args.cold:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sleep = hb.datasets.load("sleepstudy")
            hb.Model("Reaction ~ Days + (Days | Subject)", data=sleep).fit(
                draws=20, tune=20, chains=2
            )
            # what only this model runs (e.g. Laplace-integrated effects' draws), compiled
            # on first use
            formula, dataset, family = MODELS[args.model]
            hb.Model(formula, data=_load(dataset), family=family).fit(draws=20, tune=20, chains=2)
    load = os.getloadavg()[0]
    print(f"{args.model}: {args.chains} x {args.draws} draws, tune {args.tune}; load {load:.1f}")
    for r in range(args.repeat):
        profiler = cProfile.Profile() if args.cprofile else None
        if profiler:
            profiler.enable()
        timer, fit = profile_once(args.model, args.draws, args.tune, args.chains, args.seed + r)
        if profiler:
            profiler.disable()
        print(f"\nrun {r + 1}          stage                      wall_s    cpu_s")
        for stage in ["model (formula, design)"] + [s for _, _, s in STAGES] + ["TOTAL end to end"]:
            if stage in timer.wall:
                print(f"  {stage:<40} {timer.wall[stage]:7.2f} {timer.cpu[stage]:8.2f}")
        steps, size = leapfrogs(fit)
        d = fit.diagnostics
        print(
            f"  leapfrog steps per draw {steps:.1f}, step size {size:.3f}; min bulk ESS "
            f"{d.min_ess_bulk:.0f}, max R-hat {d.max_rhat:.3f}, divergences {d.divergences}; "
            f"{fit.idata['posterior'].sizes['chain']} chains run"  # more when extended
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
        if args.save:
            table = fit.diagnostics.table
            rows = [r for r in table.index if r.startswith(("b[", "sd|", "sigma"))]
            post = az.extract(fit.idata, group="posterior")
            moments = {}
            for row in rows:
                name, _, label = row.partition("[")
                draws = post[name]
                if label and name == "b":
                    draws = draws.sel(term=label[:-1])
                values = np.asarray(draws).ravel()
                moments[row] = (
                    float(values.mean()),
                    float(values.std()),
                    float(table.loc[row, "ess_bulk"]),
                )
            Path(f"{args.save}.{r + 1}.json").write_text(json.dumps(moments, indent=1))


if __name__ == "__main__":
    main()
