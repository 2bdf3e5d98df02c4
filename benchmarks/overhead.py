"""Time of a default fit outside the sampler: ``hb.Model(...)`` + ``.fit()`` less ``nutpie.sample``.

For each model of ``benchmarks/run.py`` (same formulas and data, default settings, seed 1) the
script loads hierbayes's numba code first (``run.warm_up``, as ``run.py`` does before timing),
then fits each model ``--repeats`` times in this process and prints, per fit, the CPU seconds
(all threads) and wall seconds of the whole, of ``nutpie.sample`` and of the rest (building the
model, labelled draws, draws of integrated-out effects, the pointwise log-likelihood, convergence
checks), and of ``hb.Model(...)`` alone. ``--no-blas-limit`` runs the model and the fit on BLAS's
own thread count instead of one thread (:mod:`hierbayes.blas`), to show what the limit saves;
``--profile`` writes a cProfile of the last fit of each model to ``<model>.prof``.

Usage::

    uv run --group bench python benchmarks/overhead.py --models guimmun
    uv run --group bench python benchmarks/overhead.py --models guimmun verbagg contraception \\
        grouseticks sleepstudy --repeats 2
    uv run --group bench python benchmarks/overhead.py --models guimmun --no-blas-limit
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import nutpie
import run  # benchmarks/run.py: the models

import hierbayes as hb

_SAMPLER = {"cpu": 0.0, "wall": 0.0}


def _timed_sample(*args, **kwargs):
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        return _ORIGINAL(*args, **kwargs)
    finally:
        _SAMPLER["cpu"] += time.process_time() - cpu
        _SAMPLER["wall"] += time.perf_counter() - wall


_ORIGINAL = nutpie.sample


def fit_once(name: str, profile: Path | None = None) -> dict[str, float]:
    """One default fit of model ``name``: seconds in all, in ``nutpie.sample`` and outside."""
    spec = run.MODELS[name]
    _SAMPLER.update(cpu=0.0, wall=0.0)
    profiler = cProfile.Profile() if profile is not None else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    model = hb.Model(
        spec["formula"],
        data=spec["data"](),
        level2=spec["level2"](),
        family=spec.get("family", "gaussian"),
        sigma=spec.get("sigma"),
    )
    model_cpu = time.process_time() - cpu
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.ConvergenceWarning)
        model.fit(random_seed=1)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "cpu": cpu,
        "wall": wall,
        "sampler_cpu": _SAMPLER["cpu"],
        "sampler_wall": _SAMPLER["wall"],
        "outside_cpu": cpu - _SAMPLER["cpu"],
        "outside_wall": wall - _SAMPLER["wall"],
        "model_cpu": model_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["guimmun"], choices=list(run.MODELS))
    parser.add_argument("--repeats", type=int, default=2, help="fits per model")
    parser.add_argument("--no-blas-limit", action="store_true", help="BLAS's own threads")
    parser.add_argument("--profile", action="store_true", help="cProfile the last fit")
    args = parser.parse_args()
    if args.no_blas_limit:
        hb.Model.__init__ = hb.Model.__init__.__wrapped__
        hb.Model.fit = hb.Model.fit.__wrapped__
    nutpie.sample = _timed_sample
    run.warm_up()
    for name in args.models:
        for k in range(args.repeats):
            last = args.profile and k == args.repeats - 1
            t = fit_once(name, Path(f"{name}.prof") if last else None)
            print(
                f"{name:14s} fit {k + 1}: CPU s {t['cpu']:.2f} (nutpie {t['sampler_cpu']:.2f}, "
                f"outside {t['outside_cpu']:.2f}; hb.Model {t['model_cpu']:.2f}), wall s "
                f"{t['wall']:.2f} (nutpie {t['sampler_wall']:.2f}, outside "
                f"{t['outside_wall']:.2f}), load {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
