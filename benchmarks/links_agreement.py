"""Agreement of the probit and cloglog links with lme4's glmer, in posterior SDs.

Fits the four reference models of ``tests/test_links_reference.py`` (cbpp binomial and
Contraception bernoulli, probit and cloglog) with long chains and prints, per parameter, the
posterior mean's distance from lme4's estimate in posterior SDs, the posterior SD relative to
lme4's SE, and the group SD's posterior median relative to lme4's.

Usage::

    uv run python benchmarks/links_agreement.py              # 4 chains x 1000 draws
    uv run python benchmarks/links_agreement.py --draws 400 --chains 2
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from test_links_reference import LME4, _model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    args = parser.parse_args()
    rows = []
    for key, (fixef, se, sd_ml) in LME4.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", hb.ConvergenceWarning)
            fit = _model(*key).fit(
                draws=args.draws, tune=args.draws, chains=args.chains, random_seed=1
            )
        post = fit.idata["posterior"]
        for term, value in fixef.items():
            draws = post["b"].sel(term=term).values.ravel()
            rows.append(
                {
                    "data": key[0],
                    "link": key[1],
                    "parameter": term,
                    "lme4": value,
                    "posterior mean": draws.mean(),
                    "gap (post. SDs)": (draws.mean() - value) / draws.std(),
                    "post. SD / SE": draws.std() / se[term],
                }
            )
        factor = "herd" if key[0] == "cbpp" else "district"
        draws = post[f"sd|{factor}"].values.ravel()
        rows.append(
            {
                "data": key[0],
                "link": key[1],
                "parameter": f"sd|{factor}",
                "lme4": sd_ml,
                "posterior mean": draws.mean(),
                "post. median / lme4": np.median(draws) / sd_ml,
            }
        )
    print(f"# {args.chains} chains x {args.draws} draws")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
