"""Default fits with and without the course change (:mod:`hierbayes.course`), same process.

``before`` samples as hierbayes did without it (one run, run again at target_accept 0.95 only
after divergences); ``after`` is ``Model.fit`` as it is. Prints CPU seconds (user + system of this
process, which runs nutpie's threads), divergences, the largest R-hat and the smallest bulk ESS
over the population parameters, whether the fit changed course and the parameterisation it kept.

Models: ``grouseticks`` (Poisson, observation-level effect), ``contraception`` (bernoulli,
``tests/data/contraception.csv``), ``verbagg`` (bernoulli, crossed), ``funnel`` (40 gaussian groups
of two rows whose SD is near zero, forced centred: the course change's own case).

Usage::

    uv run python benchmarks/course.py --models grouseticks contraception verbagg funnel --seeds 1 2
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb
import hierbayes.model as hm
from hierbayes.errors import ConvergenceWarning
from hierbayes.inference import sample_compiled

ROOT = Path(__file__).parents[1]


def _funnel() -> hb.Model:
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(40), 2)
    y = 1 + rng.normal(0, 0.05, 40)[g] + rng.normal(0, 1, g.size)
    data = pd.DataFrame({"y": y, "g": [f"g{j:02d}" for j in g]})
    resolve = hm.resolve_parameterization
    hm.resolve_parameterization = lambda design, how: {"g": ("centered",)}
    try:
        return hb.Model("y ~ 1 + (1 | g)", data=data)
    finally:
        hm.resolve_parameterization = resolve


MODELS = {
    "grouseticks": lambda: hb.Model(
        "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)",
        hb.datasets.load("grouseticks"),
        family="poisson",
    ),
    "contraception": lambda: hb.Model(
        "use ~ urban + age + livch + (1 | district)",
        pd.read_csv(ROOT / "tests/data/contraception.csv"),
        family="bernoulli",
    ),
    "verbagg": lambda: hb.Model(
        "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        hb.datasets.load("verbagg"),
        family="bernoulli",
    ),
    "funnel": _funnel,
}


def _before(model, density, raise_target, settings):
    return sample_compiled(density, raise_target=raise_target, **settings), model


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    after = hm.sample_on_course
    for name in args.models:
        model = MODELS[name]()
        model.fit(draws=10, tune=10, chains=1, random_seed=0)  # load the kernel's cache
        for seed in args.seeds:
            for label, hook in (("before", _before), ("after", after)):
                hm.sample_on_course = hook
                cpu, wall = _cpu(), time.time()
                fit = model.fit(random_seed=seed)
                d = fit.diagnostics
                rows = [r for r in d.table.index if r.startswith(("b[", "sd|", "sigma"))]
                changed = any("first run failed" in n for n in d.notes)
                print(
                    f"{name} seed {seed} {label}: cpu {_cpu() - cpu:.1f} s, wall "
                    f"{time.time() - wall:.1f} s, divergences {d.divergences}, max R-hat "
                    f"{d.table.loc[rows, 'r_hat'].max():.3f}, min bulk ESS "
                    f"{d.table.loc[rows, 'ess_bulk'].min():.0f}, changed course "
                    f"{'yes' if changed else 'no'}, {fit.model.parameterization}",
                    flush=True,
                )
            hm.sample_on_course = after


if __name__ == "__main__":
    main()
