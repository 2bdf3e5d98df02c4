"""Time one log-density gradient of the compiled kernel on real data, per family.

Prints microseconds per gradient (median and minimum of seven timings; on a shared machine the
minimum is the steadier number) for a few models on the bundled
data sets: HSB (gaussian, noncentred and integrated out), sleepstudy (gaussian, noncentred),
HSB with a bernoulli response (math above its median), cbpp (binomial), a poisson count and
VerbAgg (bernoulli, respondents x items crossed).

Usage::

    uv run python benchmarks/gradient.py
"""

from __future__ import annotations

import time

import numpy as np

import hierbayes as hb
from hierbayes.density.kernel import logp_grad
from hierbayes.density.layout import make_layout


def _models() -> dict[str, hb.Model]:
    hsb = hb.datasets.load("hsb")
    sleep = hb.datasets.load("sleepstudy")
    cbpp = hb.datasets.load("cbpp")
    hsb = hsb.assign(high=(hsb.mAch > hsb.mAch.median()).astype(int))
    hsb = hsb.assign(count=np.round(np.clip(hsb.mAch, 0, None)).astype(int))
    return {
        "hsb gaussian noncentered": hb.Model(
            "mAch ~ ses + (1 + ses | school)", hsb, parameterization="noncentered"
        ),
        "hsb gaussian marginal": hb.Model("mAch ~ ses + (1 + ses | school)", hsb),
        "sleepstudy gaussian noncentered": hb.Model(
            "Reaction ~ Days + (1 + Days | Subject)", sleep, parameterization="noncentered"
        ),
        "hsb bernoulli": hb.Model("high ~ ses + (1 + ses | school)", hsb, family="bernoulli"),
        "hsb poisson": hb.Model("count ~ ses + (1 | school)", hsb, family="poisson"),
        "cbpp binomial": hb.Model(
            "incidence | trials(size) ~ period + (1 | herd)", cbpp, family="binomial"
        ),
        "verbagg bernoulli crossed": hb.Model(
            "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
            hb.datasets.load("verbagg"),
            family="bernoulli",
        ),
    }


def main() -> None:
    for name, model in _models().items():
        layout = make_layout(model.design, model.prior_values, model.parameterization)
        rng = np.random.default_rng(0)
        x = layout.center + rng.normal(0, 0.1, layout.n_dim)
        grad = np.empty(layout.n_dim)
        logp_grad(x, layout.table, grad)
        reps = max(20, int(2e6 // max(model.design.n_obs, 1)))
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(reps):
                logp_grad(x, layout.table, grad)
            times.append((time.perf_counter() - t0) / reps)
        med, low = 1e6 * np.median(times), 1e6 * np.min(times)
        print(f"{name:35s} n={model.design.n_obs:6d}  {med:9.1f} us median {low:9.1f} us min")


if __name__ == "__main__":
    main()
