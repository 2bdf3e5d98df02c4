"""Speed-up of simulation studies on a dask.distributed cluster over running them in-process.

Runs ``hb.sbc(model, n=40)`` on sleepstudy's ``Reaction ~ Days + (1 + Days | Subject)``
(2 chains x 500 draws per refit) three ways and prints the wall times:

- ``serial``: in-process, one replicate after another, each refit on one core (``cores=1``);
- ``serial_chains``: in-process, the two chains of each refit in parallel (``cores=2``);
- ``dask``: a ``LocalCluster`` with ``--workers`` worker processes of one thread each (cluster
  start-up, the once-per-worker kernel load and one untimed replicate per worker, as the
  in-process runs get one, timed separately as ``startup_s``).

It checks that the ranks are bit-identical across the three, and reports the speed-up of
``dask`` over ``serial`` and over ``serial_chains``, and the per-replicate overhead of the
cluster: ``workers x dask_s / n - serial_s / n`` (what a replicate costs a worker beyond
running it in-process). On a shared machine wall times depend on the other load, so it also
reports CPU seconds: per replicate in-process and on the workers, and the speed-up the run
would have if it were CPU-bound (serial CPU / the busiest worker's CPU).

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

import pandas as pd

import hierbayes as hb


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cluster_cpu(client) -> float:
    """CPU seconds of the worker processes so far (a LocalCluster's scheduler runs in this
    process, whose CPU the serial runs use)."""
    return sum(client.run(_cpu_seconds).values())


def _spread(values: list[float]) -> str:
    """Median [min, max]."""
    return f"{statistics.median(values):6.2f} [{min(values):.2f}, {max(values):.2f}]"


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

    times: dict[str, list[float]] = {"serial": [], "serial_chains": [], "dask": []}
    cpu: dict[str, list[float]] = {"serial": [], "dask_client": [], "workers": []}
    loads: list[float] = []
    idle: list[float] = []  # CPU share the idle workers take while the serial runs run
    ranks = {}
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        from hierbayes.studies.executor import warm_worker

        client.run(warm_worker)
        # as in-process above: one untimed replicate per worker loads what a first fit loads
        hb.sbc(model, n=args.workers, random_seed=0, client=client, **settings)
        startup = time.perf_counter() - start
        for _ in range(args.repeat):  # interleaved, so that the machine's load hits all alike
            loads.append(os.getloadavg()[0])
            idle_before = _cluster_cpu(client)
            for name, cores in (("serial", 1), ("serial_chains", 2)):
                start, cpu_start = time.perf_counter(), _cpu_seconds()
                ranks[name] = hb.sbc(model, n=args.n, random_seed=1, cores=cores, **settings).ranks
                times[name].append(time.perf_counter() - start)
                if name == "serial":
                    cpu["serial"].append(_cpu_seconds() - cpu_start)
            idle.append(
                (_cluster_cpu(client) - idle_before)
                / sum(times["serial"][-1:] + times["serial_chains"][-1:])
            )
            before = client.run(_cpu_seconds)
            start, cpu_start = time.perf_counter(), _cpu_seconds()
            ranks["dask"] = hb.sbc(model, n=args.n, random_seed=1, client=client, **settings).ranks
            times["dask"].append(time.perf_counter() - start)
            cpu["dask_client"].append(_cpu_seconds() - cpu_start)
            after = client.run(_cpu_seconds)
            cpu["workers"].append(max(after[w] - before[w] for w in before))
            worker_total = sum(after[w] - before[w] for w in before)

    for name in ("serial_chains", "dask"):
        pd.testing.assert_frame_equal(ranks["serial"], ranks[name], check_exact=True)
    n, w = args.n, args.workers
    print(f"hb.sbc(n={n}) on sleepstudy, 2 chains x {args.draws} draws per refit, {w} workers")
    print(
        f"cpu count {os.cpu_count()}; 1-minute load average at each repetition: "
        + ", ".join(f"{x:.1f}" for x in loads)
    )
    print(f"wall s, median [min, max] of {args.repeat}:")
    for name in ("serial", "serial_chains", "dask"):
        print(f"  {name + '_s':>16}: {_spread(times[name])}")
    print(f"  {'startup_s':>16}: {startup:6.2f}  (cluster start and warm-up, once)")
    for name, what in (("serial", "cores=1"), ("serial_chains", "cores=2")):
        ratios = [a / b for a, b in zip(times[name], times["dask"], strict=True)]
        print(f"  speed-up over {name} ({what}): {_spread(ratios)}")
    overhead = [w * d / n - s / n for d, s in zip(times["dask"], times["serial"], strict=True)]
    overhead_ms = _spread([o * 1000 for o in overhead])
    print(f"  per-replicate overhead on the cluster (wall ms): {overhead_ms}")
    # CPU accounting: what the run costs, whatever else the machine is doing
    print(
        f"  CPU s per replicate, serial (process):     {statistics.median(cpu['serial']) / n:.3f}"
    )
    print(f"  CPU s per replicate, dask workers (last):  {worker_total / n:.3f}")
    print(
        "  CPU s per replicate, client and scheduler: "
        f"{statistics.median(cpu['dask_client']) / n:.3f}"
    )
    ceiling = [a / b for a, b in zip(cpu["serial"], cpu["workers"], strict=True)]
    print(f"  speed-up if CPU-bound (serial CPU / busiest worker's CPU): {_spread(ceiling)}")
    print(f"  CPU share of the idle workers during the serial runs: {_spread(idle)}")
    print("  ranks bit-identical serially and on the cluster: yes")


if __name__ == "__main__":
    main()
