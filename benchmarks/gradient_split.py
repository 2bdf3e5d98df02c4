"""Where one log-density gradient's CPU time goes, part by part, on real data.

Times (``time.process_time``, so the numbers hold on a loaded machine) the compiled kernel's
:func:`~hierbayes.density.kernel.logp_grad` and, on the same inputs, its parts: the priors and
covariance factors, the group effects forward and backward, the linear predictor, the family's
log-likelihood and the backward pass of the linear predictor. Prints microseconds per call (the
minimum over seven repeats of ``--calls`` calls).

Usage::

    uv run python benchmarks/gradient_split.py                  # every model
    uv run python benchmarks/gradient_split.py --model guimmun
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb
from hierbayes.density import kernel
from hierbayes.density.codes import A_META, M_COV_SIZE, M_EFF_SIZE, M_NFPAR, M_NOBS, M_SD_SIZE
from hierbayes.density.effects import covariances, effects_backward, effects_forward
from hierbayes.density.layout import make_layout
from hierbayes.density.table import iarr

_DATA = Path(__file__).parents[1] / "tests" / "data"


def models() -> dict[str, hb.Model]:
    """The binary models of issue #11 and two others (gaussian must not get slower)."""
    gui = pd.read_csv(_DATA / "guimmun.csv", dtype={"ord": str, "mom": str, "comm": str})
    out = {
        "guimmun": hb.Model(
            "immun ~ kid2p + mom25p + ord + ethn + momEd + husEd + momWork + rural + pcInd81"
            " + (1 | mom) + (1 | comm)",
            gui,
            family="bernoulli",
        ),
        "verbagg": hb.Model(
            "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
            hb.datasets.load("verbagg"),
            family="bernoulli",
        ),
        "salamanders": hb.Model(
            "count ~ mined + spp + (1 | site)",
            pd.read_csv(_DATA / "salamanders.csv"),
            family="negativebinomial",
        ),
        "sleepstudy": hb.Model(
            "Reaction ~ Days + (1 + Days | Subject)",
            hb.datasets.load("sleepstudy"),
            parameterization="noncentered",
        ),
    }
    out["contraception"] = hb.Model(
        "use ~ urban + age + livch + (1 + urban | district)",
        pd.read_csv(_DATA / "contraception.csv"),
        family="bernoulli",
    )
    return out


def per_call(f: Callable[[], object], calls: int) -> float:
    """Microseconds of CPU per call of ``f``: the minimum over seven repeats."""
    f()
    best = np.inf
    for _ in range(7):
        t0 = time.process_time()
        for _ in range(calls):
            f()
        best = min(best, (time.process_time() - t0) / calls)
    return 1e6 * best


def split(model: hb.Model, calls: int) -> dict[str, float]:
    """Microseconds per call of the gradient and of its parts at one point near the centre."""
    layout = make_layout(model.design, model.prior_values, model.parameterization)
    table = layout.table
    meta = iarr(table, A_META)
    x = layout.center + np.random.default_rng(0).normal(0, 0.1, layout.n_dim)
    grad = np.empty(layout.n_dim)
    ncov, neff, nf = meta[M_COV_SIZE], meta[M_EFF_SIZE], meta[M_NFPAR]
    sd, C, L = np.empty(meta[M_SD_SIZE]), np.empty(ncov), np.empty(ncov)
    U, Zeta, Ubar, Lbar = np.empty(neff), np.empty(neff), np.zeros(neff), np.zeros(ncov)
    covariances(x, table, meta, grad, sd, C, L)
    effects_forward(x, table, meta, L, U, Zeta)
    eta = np.empty(meta[M_NOBS])
    kernel._linear_predictor(x, table, meta, U, eta)
    eta0 = eta.copy()
    theta, tbar = np.ones(nf), np.zeros(nf)

    def family() -> None:
        eta[:] = eta0
        kernel._family_loglik(table, meta, eta, theta, tbar)

    def copy() -> None:
        eta[:] = eta0

    return {
        "logp_grad": per_call(lambda: kernel.logp_grad(x, table, grad), calls),
        "covariances": per_call(lambda: covariances(x, table, meta, grad, sd, C, L), calls),
        "effects_forward": per_call(lambda: effects_forward(x, table, meta, L, U, Zeta), calls),
        "_linear_predictor": per_call(
            lambda: kernel._linear_predictor(x, table, meta, U, eta), calls
        ),
        "_family_loglik": per_call(family, calls) - per_call(copy, calls),
        "_linear_backward": per_call(
            lambda: kernel._linear_backward(table, meta, eta0, grad, Ubar), calls
        ),
        "effects_backward": per_call(
            lambda: effects_backward(table, meta, grad, L, U, Zeta, Ubar, Lbar), calls
        ),
        "empty numba call": per_call(lambda: iarr(table, A_META), calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    for name, model in models().items():
        if args.model and name != args.model:
            continue
        parts = split(model, args.calls)
        print(f"{name} (n={model.design.n_obs})")
        for part, us in parts.items():
            print(f"  {part:20s} {us:8.2f} us")


if __name__ == "__main__":
    main()
