"""Speed-up of simulation studies on a dask.distributed cluster over running them in-process.

Runs ``hb.sbc(model, n=40)`` on sleepstudy's ``Reaction ~ Days + (1 + Days | Subject)``
(2 chains x 500 draws per refit) three ways and prints the wall times:

- ``serial``: in-process, one replicate after another, each refit on one core (``cores=1``);
- ``serial_chains``: in-process, the two chains of each refit in parallel (``cores=2``);
- ``dask``: a ``LocalCluster`` with ``--workers`` worker processes of one thread each (cluster
  start-up and the once-per-worker kernel load timed separately, as ``startup_s``).

It checks that the ranks are bit-identical across the three, and reports the speed-up of
``dask`` over ``serial`` and over ``serial_chains``, and the per-replicate overhead of the
cluster: ``workers x dask_s / n - serial_s / n`` (what a replicate costs a worker beyond
running it in-process).

Usage::

    uv run python benchmarks/studies.py               # n=40, 2 workers
    uv run python benchmarks/studies.py --n 20 --workers 2
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import pandas as pd

import hierbayes as hb


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

    times, ranks = {}, {}
    for name, cores in (("serial", 1), ("serial_chains", 2)):
        start = time.perf_counter()
        ranks[name] = hb.sbc(model, n=args.n, random_seed=1, cores=cores, **settings).ranks
        times[name] = time.perf_counter() - start

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        from hierbayes.studies.executor import warm_worker

        client.run(warm_worker)
        times["startup"] = time.perf_counter() - start
        start = time.perf_counter()
        ranks["dask"] = hb.sbc(model, n=args.n, random_seed=1, client=client, **settings).ranks
        times["dask"] = time.perf_counter() - start

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
    print(f"  per-replicate overhead on the cluster:  {overhead * 1000:.0f} ms")
    print("  ranks bit-identical serially and on the cluster: yes")


if __name__ == "__main__":
    main()
