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

    uv run python benchmarks/studies.py               # n=40, 2 workers
    uv run python benchmarks/studies.py --n 20 --workers 2
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import pandas as pd

import hierbayes as hb


def _cpu_seconds() -> float:
    """CPU time of this process, all threads (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="SBC replicates")
    parser.add_argument("--workers", type=int, default=2, help="dask worker processes")
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=hb.datasets.load("sleepstudy"))
    settings = {"draws": args.draws, "tune": args.draws, "chains": 2, "progressbar": False}
    warnings.simplefilter("ignore")
    hb.sbc(model, n=1, random_seed=0, **settings)  # load the kernel here once, untimed

    times, ranks, cpu = {}, {}, {}
    for name, cores in (("serial", 1), ("serial_chains", 2)):
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        ranks[name] = hb.sbc(model, n=args.n, random_seed=1, cores=cores, **settings).ranks
        times[name] = time.perf_counter() - start
        cpu[name] = _cpu_seconds() - cpu_start

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
        times["startup"] = time.perf_counter() - start
        before = client.run(_cpu_seconds)
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        ranks["dask"] = hb.sbc(model, n=args.n, random_seed=1, client=client, **settings).ranks
        times["dask"] = time.perf_counter() - start
        cpu["dask_client"] = _cpu_seconds() - cpu_start
        after = client.run(_cpu_seconds)
        workers = [after[w] - before[w] for w in before]

    for name in ("serial_chains", "dask"):
        pd.testing.assert_frame_equal(ranks["serial"], ranks[name], check_exact=True)
    n, w = args.n, args.workers
    load = os.getloadavg()
    print(f"hb.sbc(n={n}) on sleepstudy, 2 chains x {args.draws} draws per refit, {w} workers")
    print(f"cpu count {os.cpu_count()}, load average before/after {load[2]:.1f}/{load[0]:.1f}")
    for name in ("serial", "serial_chains", "startup", "dask"):
        print(f"  {name + '_s':>16}: {times[name]:7.2f}")
    for name, what in (("serial", "cores=1"), ("serial_chains", "cores=2")):
        print(f"  speed-up over {name} ({what}): {times[name] / times['dask']:.2f}x")
    overhead = w * times["dask"] / n - times["serial"] / n
    print(f"  per-replicate overhead on the cluster (wall): {overhead * 1000:.0f} ms")
    # CPU accounting: what the run costs, whatever else the machine is doing
    print(f"  CPU s per replicate, serial (process):         {cpu['serial'] / n:.3f}")
    print(f"  CPU s per replicate, dask workers (sum/n):     {sum(workers) / n:.3f}")
    print(f"  CPU s per replicate, dask client side:         {cpu['dask_client'] / n:.3f}")
    print(f"  CPU s per worker: {', '.join(f'{x:.2f}' for x in workers)}")
    print(
        "  speed-up if CPU-bound (serial CPU / busiest worker's CPU): "
        f"{cpu['serial'] / max(workers):.2f}x"
    )
    print("  ranks bit-identical serially and on the cluster: yes")


if __name__ == "__main__":
    main()
