"""The grouse ticks with auto's joint Laplace (BROOD and LOCATION) or all three factors jointly:
per seed the smallest bulk ESS of ``b`` and the SDs, user+sys CPU seconds and wall seconds of the
fit, leapfrog steps per draw, the step size and the Pareto k of the Laplace check; then the CPU
microseconds of one log-density gradient at posterior draws (the fastest of seven timings).

    uv run python benchmarks/joint_laplace.py [--three] [--seeds 1,2] [--draws 1000]
"""

from __future__ import annotations

import argparse
import resource
import time

import arviz_stats as azs
import numpy as np

import hierbayes as hb
import hierbayes.density.sampler as sampler
from hierbayes.density.kernel import logp_grad
from hierbayes.density.layout import make_layout

FORMULA = "TICKS ~ YEAR + HEIGHT + (1 | BROOD) + (1 | INDEX) + (1 | LOCATION)"
THREE = {"BROOD": "laplace", "INDEX": "laplace", "LOCATION": "laplace"}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--three", action="store_true", help="INDEX integrated out too")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    model = hb.Model(
        FORMULA,
        hb.datasets.load("grouseticks"),
        family="poisson",
        parameterization=THREE if args.three else "auto",
    )
    print(model.parameterization)
    raw: list[np.ndarray] = []
    keep = sampler._raw_and_stats

    def capture(result):  # the unconstrained draws, for timing gradients where the chains were
        out = keep(result)
        raw.append(out[0])
        return out

    sampler._raw_and_stats = capture
    model.fit(draws=30, tune=30, chains=1, random_seed=0, progressbar=False)  # numba's cache
    for seed in (int(s) for s in args.seeds.split(",")):
        cpu, wall = _cpu(), time.time()
        fit = model.fit(draws=args.draws, tune=args.draws, random_seed=seed, progressbar=False)
        cpu, wall = _cpu() - cpu, time.time() - wall
        post = fit.idata["posterior"].to_dataset()
        names = ["b"] + [v for v in post.data_vars if str(v).startswith("sd|")]
        ess = min(float(azs.ess(post[names], method="bulk")[v].min()) for v in names)
        stats = fit.idata["sample_stats"]
        print(
            f"seed {seed}: min bulk ESS {ess:.0f}, CPU {cpu:.1f} s, wall {wall:.1f} s, "
            f"ESS/CPU s {ess / cpu:.1f}, leapfrog/draw {float(stats['n_steps'].mean()):.1f}, "
            f"step size {float(stats['step_size'].mean()):.3f}, "
            f"Pareto k {post.attrs.get('laplace_pareto_k', np.nan):.2f}",
            flush=True,
        )
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    draws = raw[-1].reshape(-1, raw[-1].shape[-1])
    rng = np.random.default_rng(0)
    xs = [np.ascontiguousarray(draws[i]) for i in rng.choice(len(draws), 5, replace=False)]
    grad = np.empty(layout.n_dim)
    times = []
    for _ in range(7):
        start = time.process_time()
        for _ in range(200):
            for x in xs:
                logp_grad(x, layout.table, grad)
        times.append((time.process_time() - start) / 1000 * 1e6)
    print(f"CPU µs per gradient: {min(times):.1f}")


if __name__ == "__main__":
    main()
