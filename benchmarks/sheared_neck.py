"""Where the chains of a default fit of MASS's OME model (binomial, ``(1 + Loud | ID)`` with
Loud not centred, so the term is sampled sheared at Loud's mean) spend their draws: the SD of
the intercept at Loud = 0 (``sd0``), the correlation at the centre (``rho_c``) and ``x̄ s / sd_c``
(the slope SD times Loud's mean over the SD at the centre). A chain with many draws near
``sd0 = 0``, ``rho_c`` near 1 and ``x̄ s / sd_c`` near 1 is in the neck of the tube that the
README's "Slopes far from 0" describes: the priors act on the covariance at 0, and in the
sampled coordinates (the covariance at the centre) their Jacobian, ``(sd_c / sd0)²``
(:func:`hierbayes.density.shear._covariance_at_centre`), grows without bound where ``sd0 -> 0``.

Needs the sweep's data (``Rscript benchmarks/sweep_glmms.R FOLDER``)::

    uv run python benchmarks/sheared_neck.py FOLDER --seeds 3,6,7 [--link logit]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
from sweep_glmms import _OME, _data

import hierbayes as hb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seeds", default="3")
    parser.add_argument("--link", default="probit")
    args = parser.parse_args()
    data = _data(args.folder, "ome")
    xbar = float(data["Loud"].mean())
    for seed in (int(s) for s in args.seeds.split(",")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = hb.Model(_OME, data, family="binomial", link=args.link)
            fit = model.fit(random_seed=seed, progressbar=False)
        post = fit.idata["posterior"]
        sd = post["sd|ID"].values
        cor = post["cor|ID"].values[..., 0, 1]
        sd0, s = sd[..., 0], sd[..., 1]
        sd_c = np.sqrt(sd0**2 + 2 * xbar * cor * sd0 * s + xbar**2 * s**2)  # at the centre
        rho_c = (cor * sd0 * s + xbar * s**2) / (sd_c * s)
        d = fit.diagnostics
        print(f"seed {seed}: R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}")
        for c in range(sd.shape[0]):
            print(
                f"  chain {c}: draws with sd0 < 0.01 {np.mean(sd0[c] < 0.01):.0%}, median sd0 "
                f"{np.median(sd0[c]):.4f}, rho_c {np.median(rho_c[c]):.2f}, x̄ s / sd_c "
                f"{np.median(xbar * s[c] / sd_c[c]):.2f}"
            )


if __name__ == "__main__":
    main()
