"""Agreement with statsmodels MixedLM (REML) on real data, fitted in the same test.

Posterior means of the fixed effects must lie within 0.3 posterior SD of the REML estimates and
the residual SD within 5%.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
import statsmodels.formula.api as smf

import hierbayes as hb

pytestmark = pytest.mark.slow


def _reml(formula: str, data: pd.DataFrame, group: str, re_formula: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = smf.mixedlm(formula, data, groups=data[group], re_formula=re_formula).fit(
            reml=True
        )
    assert result.converged, "the REML reference fit did not converge"
    return result


def _check(fit: hb.Fit, reml, names: dict[str, str]) -> None:
    fixef = fit.fixef()
    for ours, theirs in names.items():
        row = fixef.loc[ours]
        gap = abs(row["mean"] - reml.fe_params[theirs]) / row["sd"]
        assert gap < 0.3, (
            f"{ours}: posterior mean {row['mean']:.4g} vs REML "
            f"{reml.fe_params[theirs]:.4g} ({gap:.2f} posterior SDs)"
        )
    sigma = fit.varcorr().query("factor == 'Residual'")["mean"].iloc[0]
    assert abs(sigma / reml.scale**0.5 - 1) < 0.05


def test_sleepstudy_agrees_with_reml(sleep_fit: hb.Fit, sleep: pd.DataFrame):
    reml = _reml("Reaction ~ Days", sleep, "Subject", "~Days")
    _check(sleep_fit, reml, {"Intercept": "Intercept", "Days": "Days"})


def test_hsb_agrees_with_reml(hsb_fit: hb.Fit, hsb_students: pd.DataFrame):
    reml = _reml("mAch ~ cses * (meanses + sector)", hsb_students, "school", "~cses")
    names = {
        "Intercept": "Intercept",
        "cses": "cses",
        "meanses": "meanses",
        "sector[T.Public]": "sector[T.Public]",
        "cses:meanses": "cses:meanses",
        "cses:sector[T.Public]": "cses:sector[T.Public]",
    }
    _check(hsb_fit, reml, names)


def test_hsb_converges(hsb_fit: hb.Fit):
    assert hsb_fit.diagnostics.divergences == 0
    assert hsb_fit.diagnostics.max_rhat <= 1.01
