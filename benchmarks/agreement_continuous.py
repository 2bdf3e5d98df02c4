"""Agreement of the Student-t, gamma and lognormal families with glmmTMB on sleepstudy.

Fits ``Reaction ~ Days + (1 + Days | Subject)`` with each family (4 chains x 2000 draws, seed 1)
and prints, per parameter, the posterior mean (median for SDs and own parameters), glmmTMB's
maximum-likelihood estimate (the numbers stored in ``tests/test_<family>_reference.py``, from
``tests/reference_<family>.R``), and their difference in posterior SDs; for fixed effects also
the ratio of the posterior SD to glmmTMB's standard error, for SDs the relative difference.

Usage::

    uv run python benchmarks/agreement_continuous.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

import hierbayes as hb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    import test_gamma_reference as gam
    import test_lognormal_reference as lgn
    import test_student_t_reference as stu

    sleep = hb.datasets.load("sleepstudy")
    references = {
        "student_t": (stu.TMB_FIXEF, stu.TMB_SE, stu.TMB_SD_SUBJECT, stu.TMB_OWN),
        "gamma": (gam.TMB_FIXEF, gam.TMB_SE, gam.TMB_SD_SUBJECT, {"shape": gam.TMB_SHAPE}),
        "lognormal": (lgn.TMB_FIXEF, lgn.TMB_SE, lgn.TMB_SD_SUBJECT, {"sigma": lgn.TMB_SIGMA}),
    }
    print(
        f"{'family':10s} {'parameter':22s} {'posterior':>11s} {'glmmTMB':>11s} "
        f"{'diff/SD':>8s} {'ratio':>7s}"
    )
    for family, (fixef, se, sds, own) in references.items():
        model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", sleep, family=family)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = model.fit(draws=2000, tune=2000, chains=4, random_seed=1, progressbar=False)
        post = fit.idata["posterior"]
        rows = []
        for term, value in fixef.items():
            d = post["b"].sel(term=term).values.ravel()
            rows.append((f"b[{term}]", d.mean(), value, d.std(), d.std() / se[term]))
        sd = post["sd|Subject"]
        for term, value in sds.items():
            d = sd.sel({sd.dims[-1]: term}).values.ravel()
            rows.append((f"sd|Subject[{term}]", np.median(d), value, d.std(), np.median(d) / value))
        for name, value in own.items():
            d = post[name].values.ravel()
            rows.append((name, np.median(d), value, d.std(), np.median(d) / value))
        for name, est, ref, sd_, ratio in rows:
            print(
                f"{family:10s} {name:22s} {est:11.5g} {ref:11.5g} {(est - ref) / sd_:8.2f} "
                f"{ratio:7.3f}"
            )


if __name__ == "__main__":
    main()
