"""Speed-up of simulation studies on a dask.distributed cluster over running them in-process.

Runs ``hb.sbc(model, n=40)`` on sleepstudy's ``Reaction ~ Days + (1 + Days | Subject)``
(2 chains x 500 draws per refit) and prints, in one run:

- ``serial_s``: in-process, one replicate after another, as a user runs it (``cores=None``:
  each refit runs its two chains in parallel on the machine's cores, as any fit does). This is
  the baseline of the speed-up;
- ``dask_s``: a ``LocalCluster`` of ``--workers`` worker processes of one thread each; each
  worker's refits run on its share of the cores (one each on two cores). Cluster start-up, the
  once-per-worker kernel load and one untimed replicate per worker (as the in-process runs get
  one) are timed separately (``startup_s``);
- ``serial_1core_s``: in-process on one core (``cores=1``), for the per-replicate overhead of
  the cluster: ``workers x dask_s / n - serial_1core_s / n``, what a replicate costs a worker
  beyond running it in-process on one core.

Each is repeated ``--repeat`` times, interleaved, so that the machine's other load hits all
alike; the script prints the median and range, the load at each repetition, and checks that
the ranks are bit-identical. Wall times on a shared machine depend on the other load, so it
also prints CPU seconds: per replicate by stage of a replicate (in-process, one core:
drawing the parameters and data, the replicate's model, packing the log-density, nutpie's
sampling and its trace conversion, labelling the draws, R-hat checks, ranks), per replicate
on the workers and in the client, and the speed-up the cluster would have if it were
CPU-bound (serial CPU / the busiest worker's CPU).

Usage::

    uv run python benchmarks/studies.py               # n=40, 2 workers, 3 repetitions
    uv run python benchmarks/studies.py --n 20 --workers 2 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd

import hierbayes as hb


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _spread(values: list[float]) -> str:
    """Median [min, max]."""
    return f"{statistics.median(values):6.2f} [{min(values):.2f}, {max(values):.2f}]"


def stage_seconds(model: hb.Model, n: int, settings: dict[str, Any]) -> dict[str, float]:
    """CPU seconds per replicate by stage, in-process on one core (``n`` replicates); each
    stage's own time (a stage timed inside another counts for itself only)."""
    import sys

    import nutpie

    from hierbayes import course
    from hierbayes.density import sampler
    from hierbayes.rebuild import Recipe
    from hierbayes.studies import refit, sbc_study

    spent: dict[str, float] = {}
    inner: list[float] = []  # time of the timed stages inside the one running
    patched: list[tuple[Any, str, Callable[..., Any]]] = []

    def timed(owner: Any, name: str, stage: str) -> None:
        if not hasattr(owner, name):  # another nutpie version
            return
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            inner.append(0.0)
            try:
                return original(*args, **kwargs)
            finally:
                took = time.process_time() - start
                spent[stage] = spent.get(stage, 0.0) + took - inner.pop()
                if inner:
                    inner[-1] += took

        patched.append((owner, name, original))
        setattr(owner, name, wrapper)

    timed(sbc_study, "simulate_replicate", "draw parameters and data")
    timed(Recipe, "build", "build a model from the recipe")
    timed(sbc_study, "same_design_model", "the replicate's model (response replaced)")
    timed(hb.Model, "compiled_density", "pack the log-density (layout, start points)")
    timed(nutpie, "sample", "nutpie: sampling")
    timed(sys.modules["nutpie.sample"], "_arrow_to_arviz", "nutpie: its trace to arviz")
    timed(sampler, "posterior_dataset", "label the draws")
    timed(course, "trouble", "R-hat check of the run (course.py)")
    timed(refit, "convergence", "R-hat and bulk ESS")
    timed(sbc_study, "rank_draws", "ranks")
    try:
        start = time.process_time()
        hb.sbc(model, n=n, random_seed=2, cores=1, **settings)
        total = time.process_time() - start
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)
    out = {stage: seconds / n for stage, seconds in spent.items()}
    out["other (tables, settings, sampler set-up)"] = (total - sum(spent.values())) / n
    out["total"] = total / n
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="SBC replicates")
    parser.add_argument("--workers", type=int, default=2, help="dask worker processes")
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions of each run")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=hb.datasets.load("sleepstudy"))
    settings = {"draws": args.draws, "tune": args.draws, "chains": 2, "progressbar": False}
    warnings.simplefilter("ignore")
    hb.sbc(model, n=1, random_seed=0, **settings)  # load the kernel here once, untimed
    stages = stage_seconds(model, min(args.n, 20), settings)

    names = ("serial", "serial_1core", "dask")
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {"serial": [], "serial_1core": [], "client": [], "busiest": []}
    worker_cpu: list[float] = []
    loads: list[float] = []
    ranks = {}
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        # as in-process above: one untimed replicate per worker loads what a first fit loads
        hb.sbc(model, n=args.workers, random_seed=0, client=client, **settings)
        startup = time.perf_counter() - start
        for _ in range(args.repeat):  # interleaved, so that the machine's load hits all alike
            loads.append(os.getloadavg()[0])
            for name, cores in (("serial", None), ("serial_1core", 1)):
                start, cpu_start = time.perf_counter(), _cpu_seconds()
                ranks[name] = hb.sbc(model, n=args.n, random_seed=1, cores=cores, **settings).ranks
                times[name].append(time.perf_counter() - start)
                cpu[name].append(_cpu_seconds() - cpu_start)
            before = client.run(_cpu_seconds)
            start, cpu_start = time.perf_counter(), _cpu_seconds()
            ranks["dask"] = hb.sbc(model, n=args.n, random_seed=1, client=client, **settings).ranks
            times["dask"].append(time.perf_counter() - start)
            cpu["client"].append(_cpu_seconds() - cpu_start)
            after = client.run(_cpu_seconds)
            cpu["busiest"].append(max(after[w] - before[w] for w in before))
            worker_cpu.append(sum(after[w] - before[w] for w in before))

    for name in ("serial_1core", "dask"):
        pd.testing.assert_frame_equal(ranks["serial"], ranks[name], check_exact=True)
    n, w = args.n, args.workers
    print(f"hb.sbc(n={n}) on sleepstudy, 2 chains x {args.draws} draws per refit, {w} workers")
    print(
        f"cpu count {os.cpu_count()}; 1-minute load average at each repetition: "
        + ", ".join(f"{x:.1f}" for x in loads)
    )
    print(f"wall s, median [min, max] of {args.repeat}:")
    for name in names:
        print(f"  {name + '_s':>16}: {_spread(times[name])}")
    print(f"  {'startup_s':>16}: {startup:6.2f}  (cluster start and warm-up, once)")
    ratios = [a / b for a, b in zip(times["serial"], times["dask"], strict=True)]
    print(f"  speed-up of {w} workers over serial (chains in parallel): {_spread(ratios)}")
    ratios = [a / b for a, b in zip(times["serial_1core"], times["dask"], strict=True)]
    print(f"  speed-up of {w} workers over serial on one core:         {_spread(ratios)}")
    pairs = zip(times["dask"], times["serial_1core"], strict=True)
    overhead_ms = [(w * d / n - s / n) * 1e3 for d, s in pairs]
    print(f"  per-replicate overhead on the cluster (wall ms): {_spread(overhead_ms)}")
    print("CPU s per replicate (whatever else the machine is doing):")
    for name in ("serial", "serial_1core"):
        print(f"  {name:>30}: {statistics.median(cpu[name]) / n:.4f}")
    print(f"  {'dask workers, all':>30}: {statistics.median(worker_cpu) / n:.4f}")
    print(f"  {'dask client and scheduler':>30}: {statistics.median(cpu['client']) / n:.4f}")
    ceiling = [a / b for a, b in zip(cpu["serial"], cpu["busiest"], strict=True)]
    print(f"  speed-up if CPU-bound (serial CPU / busiest worker's CPU): {_spread(ceiling)}")
    print(f"CPU s per replicate by stage (in-process, one core, {min(args.n, 20)} replicates):")
    for stage, seconds in stages.items():
        print(f"  {stage:>44}: {seconds:.4f}")
    print("ranks bit-identical serially and on the cluster: yes")


if __name__ == "__main__":
    main()
