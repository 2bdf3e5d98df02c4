"""A gaussian model fitted from parquet through Dask: wall time, peak memory, and the in-memory fit.

Writes ``--rows`` simulated rows (``y = 1 + 0.5 x + u_g + e``, ``sd(u) = 1``, ``σ = 2``,
``--groups`` groups drawn uniformly) to parquet in files of ``--chunk`` rows, each written from
its own generator (so writing never holds the data), then, in a fresh process, fits
``y ~ x + (1 | g)`` from the parquet folder with Dask (threads on this machine, or the cluster
of a ``dask.distributed`` client) and prints the wall time of the statistics and of sampling, the
process's peak resident memory, and the posterior. With ``--compare`` (small sizes only) it also
reads the same files into pandas, fits in memory with the same seed, and prints the largest
difference of the statistics and of the posterior means in Monte Carlo standard errors.

Usage::

    uv run python benchmarks/dask_data.py --rows 1000000
    uv run python benchmarks/dask_data.py --rows 100000000 --groups 100000 --dir /tmp/hb100m
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

FORMULA = "y ~ x + (1 | g)"
SETTINGS = {"draws": 200, "tune": 200, "chains": 2, "random_seed": 1, "progressbar": False}


def write(rows: int, groups: int, chunk: int, folder: Path) -> None:
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    u = np.random.default_rng(0).normal(0.0, 1.0, size=groups)
    for k, start in enumerate(range(0, rows, chunk)):
        n = min(chunk, rows - start)
        rng = np.random.default_rng([1, k])
        g = rng.integers(0, groups, size=n).astype(np.int32)
        x = rng.normal(size=n)
        y = 1.0 + 0.5 * x + u[g] + rng.normal(0.0, 2.0, size=n)
        pd.DataFrame({"y": y, "x": x, "g": g}).to_parquet(folder / f"part-{k:05d}.parquet")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def fit(folder: Path, compare: bool) -> dict:
    import hierbayes as hb
    from hierbayes.density import codes as K
    from hierbayes.density.layout import make_layout

    warnings.simplefilter("ignore")
    out: dict = {}
    t0 = time.perf_counter()
    model = hb.Model(FORMULA, data=str(folder))
    t1 = time.perf_counter()
    result = model.fit(**SETTINGS)
    t2 = time.perf_counter()
    post = result.idata["posterior"]
    out.update(
        statistics_s=t1 - t0,
        sampling_s=t2 - t1,
        n=model.design.n_obs,
        groups=len(model.design.blocks[0].levels),
        peak_mb_dask=peak_mb(),
        posterior={
            name: np.asarray(post[name].mean(("chain", "draw"))).round(4).tolist()
            for name in ("b", "sigma", "sd|g")
        },
    )
    if compare:
        import arviz as az
        import pandas as pd

        data = pd.read_parquet(folder)
        memory = hb.Model(FORMULA, data=data)
        t3 = time.perf_counter()
        mfit = memory.fit(**SETTINGS)
        out["sampling_s_memory"] = time.perf_counter() - t3
        a = make_layout(memory.design, memory.prior_values, memory.parameterization)
        stats = (K.A_SS_WTW, K.A_SS_WTY, K.A_SS_YTY, K.A_SS_ZTZ, K.A_SS_ZTW, K.A_SS_ZTY)
        out["stat_rel_diff"] = max(
            float(np.max(np.abs(model._layout.arrays[k] - a.arrays[k])) / np.abs(a.arrays[k]).max())
            for k in stats
        )
        diffs = {}
        for name in ("b", "sigma", "sd|g"):
            x, y = post[name], mfit.idata["posterior"][name]
            se = np.hypot(
                az.mcse(x.to_dataset())[name].values, az.mcse(y.to_dataset())[name].values
            )
            d = np.abs(x.mean(("chain", "draw")).values - y.mean(("chain", "draw")).values)
            diffs[name] = float(np.max(d / se))
        out["posterior_mean_diff_in_mcse"] = diffs
        out["priors_equal"] = bool(memory.priors.equals(model.priors))
        out["peak_mb_after_memory_fit"] = peak_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=None, help="default: rows / 1000")
    parser.add_argument("--chunk", type=int, default=2_000_000, help="rows per parquet file")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hierbayes_dask_bench"))
    parser.add_argument("--compare", action="store_true", help="also fit in memory")
    parser.add_argument("--fit-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit_only:
        print(json.dumps(fit(args.dir, args.compare)))
        return
    groups = args.groups or max(args.rows // 1000, 2)
    folder = args.dir / f"rows{args.rows}_groups{groups}"
    if not folder.exists():
        t = time.perf_counter()
        write(args.rows, groups, args.chunk, folder)
        print(
            f"wrote {args.rows:,} rows, {groups:,} groups to {folder} in "
            f"{time.perf_counter() - t:.0f} s"
        )
    cmd = [sys.executable, __file__, "--fit-only", "--dir", str(folder)]
    cmd += ["--compare"] if args.compare else []
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - t
    result["cpu_s_children"] = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
