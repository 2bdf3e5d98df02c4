"""Leapfrog steps of each chain's warm-up and draws for default fits of a benchmark model, with
or without the floored start of :mod:`hierbayes.density.first_scale`.

Run from the repository root (after ``uv sync``)::

    uv run python benchmarks/warmup_steps.py guimmun --seeds 1-4
    uv run python benchmarks/warmup_steps.py guimmun --seeds 1-4 --no-floor

Prints, per seed, the fit's wall time, smallest bulk ESS and ESS per second, then per chain the
steps of its first 25 warm-up draws, of its whole warm-up and of its draws (``n_steps`` of
nutpie's raw trace); at the end the means over all chains.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pyarrow as pa
from run import MODELS, warm_up

import hierbayes as hb
import hierbayes.density.first_scale as first_scale
import hierbayes.density.sampler as sampler

FIRST = 25  # the early warm-up draws whose cost the floored start cuts


class _Taken:
    """A raw trace already taken, for :func:`hierbayes.density.nutpie_trace.draws_and_stats`."""

    def __init__(self, trace: tuple) -> None:
        self.trace = trace

    def get_arrow_trace(self) -> tuple:
        return self.trace


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = text.split("-")
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--seeds", default="1-4", help="e.g. 1-4 or 1,3,5")
    parser.add_argument("--no-floor", action="store_true", help="the start before the floor")
    args = parser.parse_args()
    if args.no_floor:
        first_scale.floor_gradients = lambda layout, x, mask: np.array(x, dtype=float)
    steps: list[tuple[int, int, int]] = []
    read = sampler._raw_and_stats

    def recording(result):  # nutpie's raw trace holds the warm-up's statistics too
        trace = result.get_arrow_trace()  # can be taken once: handed on below
        for stats in trace[1]:
            tuning = pa.array(stats.column("tuning")).to_numpy(zero_copy_only=False)
            n = pa.array(stats.column("n_steps")).to_numpy(zero_copy_only=False)
            tune = int(tuning.sum())
            steps.append((int(n[:FIRST].sum()), int(n[:tune].sum()), int(n[tune:].sum())))
        return read(_Taken(trace))

    sampler._raw_and_stats = recording
    warm_up()
    spec = MODELS[args.model]
    data = spec["data"]()
    every: list[tuple[int, int, int]] = []
    for seed in _seeds(args.seeds):
        steps.clear()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = hb.Model(spec["formula"], data=data, family=spec["family"])
            fit = model.fit(random_seed=seed, progressbar=False)
        wall = time.perf_counter() - start
        d = fit.diagnostics
        print(
            f"seed {seed}: wall {wall:.2f} s, min bulk ESS {d.min_ess_bulk:.0f}, "
            f"ESS/s {d.min_ess_bulk / wall:.0f}, R-hat {d.max_rhat:.3f}, "
            f"divergences {d.divergences}"
        )
        for chain, (first, tune, draws) in enumerate(steps):
            print(f"  chain {chain}: first {FIRST} {first}, warm-up {tune}, draws {draws}")
        every.extend(steps)
    first, tune, draws = np.mean(every, axis=0)
    print(
        f"mean over {len(every)} chains: first {FIRST} {first:.0f}, warm-up {tune:.0f}, "
        f"draws {draws:.0f}"
    )


if __name__ == "__main__":
    main()
