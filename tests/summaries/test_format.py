"""Consistent rounding of summary tables: estimates to the precision of their SD, R-hat with two
decimals, ESS as integers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from fakes import fake_fit

import hierbayes as hb
from hierbayes.summaries.format import decimals_for, format_estimates


def test_decimals_follow_the_posterior_sd() -> None:
    assert [decimals_for(s) for s in (0.0123, 0.16, 1.7, 25.0, 3000.0)] == [3, 2, 1, 0, 0]


def test_rows_share_their_decimals_and_rhat_and_ess_are_uniform() -> None:
    table = pd.DataFrame(
        {
            "mean": [0.3126, 251.4],
            "sd": [0.16, 6.93],
            "hdi_3%": [0.001035, 238.12],
            "hdi_97%": [0.6362, 264.9],
            "r_hat": [1.0, 0.9995],
            "ess_bulk": [812.6, 1500.2],
        },
        index=["x", "Intercept"],
    )
    out = format_estimates(table)
    assert out.loc["x"].tolist() == ["0.31", "0.16", "0.00", "0.64", "1.00", "813"]
    assert out.loc["Intercept"].tolist() == ["251.4", "6.9", "238.1", "264.9", "1.00", "1500"]


def test_summary_prints_rhat_with_two_decimals_and_integer_ess() -> None:
    rng = np.random.default_rng(1)
    data = pd.DataFrame(
        {"y": rng.normal(size=40), "x": rng.normal(size=40), "g": np.repeat(list("abcd"), 10)}
    )
    text = str(fake_fit(hb.Model("y ~ x + (1 | g)", data=data)).summary())
    fixed = text.split("Fixed effects:")[1].split("Diagnostics:")[0]
    rows = [line.split() for line in fixed.strip().splitlines()[2:]]
    assert [r[0] for r in rows] == ["Intercept", "x"]
    for row in rows:
        assert re.fullmatch(r"\d\.\d\d", row[5])  # r_hat
        assert row[6].isdigit() and row[7].isdigit()  # ESS
        decimals = {len(cell.split(".")[1]) if "." in cell else 0 for cell in row[1:5]}
        assert len(decimals) == 1  # mean, sd and HDI of a row share their decimals
