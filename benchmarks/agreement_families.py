"""Agreement of the beta and zero-inflated families with glmmTMB on real data, in posterior SDs.

Fits the models of ``tests/test_beta_reference.py`` and ``tests/test_zero_inflated_reference.py``
(same data, draws and seeds) and prints, per parameter, glmmTMB's ML estimate, the posterior mean
and SD, ``(posterior mean - ML) / posterior SD`` and the ratio of the posterior SD to glmmTMB's
standard error.

Usage::

    uv run python benchmarks/agreement_families.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import hierbayes as hb

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

import test_beta_reference as beta_ref  # noqa: E402
import test_zero_inflated_reference as zi_ref  # noqa: E402


def _rows(label: str, post, fixef: dict, se: dict, terms: dict, own: dict) -> list[dict]:
    rows = []
    for ref_name, term in terms.items():
        d = post["b"].sel(term=term).values.ravel()
        rows.append(
            {
                "model": label,
                "parameter": term,
                "glmmTMB": fixef[ref_name],
                "mean": d.mean(),
                "sd": d.std(),
                "z": (d.mean() - fixef[ref_name]) / d.std(),
                "sd/se": d.std() / se[ref_name],
            }
        )
    for name, value in own.items():
        d = post[name].values.ravel()
        rows.append(
            {
                "model": label,
                "parameter": name,
                "glmmTMB": value,
                "mean": d.mean(),
                "sd": d.std(),
                "z": (d.mean() - value) / d.std(),
                "sd/se": np.nan,
            }
        )
    return rows


def main() -> None:
    warnings.simplefilter("ignore")
    rows = []
    kwargs = {"draws": 300, "tune": 300, "chains": 2, "random_seed": 5}
    data = pd.read_csv(beta_ref.DATA)
    fit = hb.Model("written ~ gender + (1 | school)", data, family="beta").fit(**kwargs)
    terms = {t: t for t in beta_ref.TMB_FIXEF}
    own = {"sd|school": beta_ref.TMB_SD_SCHOOL, "phi": beta_ref.TMB_PHI}
    rows += _rows("beta", fit.idata["posterior"], beta_ref.TMB_FIXEF, beta_ref.TMB_SE, terms, own)
    for family, ref in (
        ("zero_inflated_poisson", zi_ref.ZIP),
        ("zero_inflated_negativebinomial", zi_ref.ZINB),
    ):
        fit = zi_ref._model(family).fit(**kwargs)
        own = {k: ref[k] for k in ("sd|site", "shape", "zi") if k in ref}
        rows += _rows(family, fit.idata["posterior"], ref["fixef"], ref["se"], zi_ref.TERMS, own)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 140, "display.max_rows", 100):
        print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
