"""Symbols of each notation: coefficients, deviations, variances, correlations, residual."""

from __future__ import annotations

import pytest

import hierbayes as hb
from hierbayes.equations.notation import FlatNotation, GHNotation, RBNotation, get_notation

SLEEP = "Reaction ~ Days + (1 + Days | Subject)"


def _entries(nt):
    return [nt.entry("Subject", "Intercept"), nt.entry("Subject", "Days")]


def test_rb_symbols(sleep):
    nt = get_notation(hb.Model(SLEEP, sleep).design, "rb")
    assert isinstance(nt, RBNotation)
    a, b = _entries(nt)
    assert [nt.deviation(e).text for e in (a, b)] == ["u_0j", "u_1j"]
    assert (nt.variance(a).text, nt.covariance(a, b).text, nt.sd(b).text) == (
        "τ_00",
        "τ_01",
        "√τ_11",
    )
    assert nt.correlation(a, b).text == "τ_01/√(τ_00·τ_11)"
    assert nt.correlation(a, b).latex == r"\frac{\tau_{01}}{\sqrt{\tau_{00}\tau_{11}}}"
    assert (nt.residual_sd.text, nt.residual_variance.text) == ("σ", "σ²")
    labels = [(f.column, f.symbol.text, f.label) for f in nt.fixed_labels()]
    assert labels == [
        ("Intercept", "γ_00", "γ_00: intercept"),
        ("Days", "γ_10", "γ_10: Days slope"),
    ]


def test_gh_symbols(sleep):
    nt = get_notation(hb.Model(SLEEP, sleep).design, "gh")
    assert isinstance(nt, GHNotation)
    a, b = _entries(nt)
    assert [nt.deviation(e, combined=True).text for e in (a, b)] == ["η_j[i]^α", "η_j[i]^β"]
    assert (nt.sd(a).text, nt.variance(b).text, nt.correlation(a, b).text) == (
        "σ_α",
        "σ_β²",
        "ρ_αβ",
    )
    assert nt.covariance(a, b).text == "ρ_αβ·σ_α·σ_β"
    assert (nt.residual_sd.text, nt.residual_variance.text) == ("σ_y", "σ_y²")
    assert [f.symbol.text for f in nt.fixed_labels()] == ["μ_α", "μ_β"]


def test_gh_several_slopes_are_numbered(hsb_students):
    m = hb.Model("mAch ~ cses + minrty + cses:meanses + (1 + cses | school)", hsb_students)
    nt = get_notation(m.design, "gh")
    labels = {f.column: f.label for f in nt.fixed_labels()}
    assert labels == {
        "Intercept": "μ_α: intercept",
        "cses": "γ_0^β1: cses slope",
        "cses:meanses": "γ_1^β1: cses slope ~ meanses",
        "minrty[T.Yes]": "β_2: minrty[T.Yes] slope",
    }
    assert nt.sd(nt.entry("school", "cses")).text == "σ_β1"


def test_rb_cross_level_label(hsb_students):
    m = hb.Model("mAch ~ cses * (meanses + sector) + (1 + cses | school)", hsb_students)
    labels = [f.label for f in get_notation(m.design, "rb").fixed_labels()]
    assert labels == [
        "γ_00: intercept",
        "γ_01: intercept ~ meanses",
        "γ_02: intercept ~ sector[T.Public]",
        "γ_10: cses slope",
        "γ_11: cses slope ~ meanses",
        "γ_12: cses slope ~ sector[T.Public]",
    ]


def test_flat_symbols(sleep):
    m = hb.Model("Reaction ~ Days + (1 | Subject) + (0 + Days | Days)", sleep)
    for name, dev, var, sd in [
        ("rb", "u_1,k^(Days)", "τ_11^(Days)", "√τ_11^(Days)"),
        ("gh", "η_1,k^(Days)", "(σ_1^(Days))²", "σ_1^(Days)"),
    ]:
        nt = get_notation(m.design, name)
        assert isinstance(nt, FlatNotation)
        entry = nt.entry("Days", "Days")
        assert (nt.deviation(entry).text, nt.variance(entry).text, nt.sd(entry).text) == (
            dev,
            var,
            sd,
        )


def test_unknown_notation(sleep):
    with pytest.raises(ValueError, match=r"Unknown notation 'x': use 'rb'"):
        get_notation(hb.Model(SLEEP, sleep).design, "x")


def test_unknown_varying_coefficient(sleep):
    nt = get_notation(hb.Model(SLEEP, sleep).design, "rb")
    with pytest.raises(KeyError, match="No varying coefficient 'x' in group term 'Subject'"):
        nt.entry("Subject", "x")
