"""The command line: demo, fit, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.cli import main
from hierbayes.cli_output import OUTPUT_FILES


@pytest.mark.slow
def test_demo_exits_zero_and_prints_summary(capsys, tmp_path):
    out_dir = tmp_path / "out"
    args = ["demo", "--draws", "100", "--tune", "100", "--chains", "2", "--output", str(out_dir)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Formula: Reaction ~ Days + (1 + Days | Subject)" in out
    assert "Wall time:" in out
    assert f"Saved the fit and its tables to {out_dir}" in out
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(OUTPUT_FILES)
    saved = hb.load(out_dir / "fit")
    fixef = pd.read_csv(out_dir / "fixef.csv", index_col="term")
    np.testing.assert_allclose(fixef["mean"], saved.fixef()["mean"], rtol=1e-12)
    assert (out_dir / "summary.txt").read_text().startswith("  Model: Bayesian linear mixed")
    assert len(pd.read_csv(out_dir / "coef.csv")) == 18 * 2
    # an existing output is refused before fitting, in one line
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already holds fit, summary.txt" in err and err.strip().count("\n") == 0


def test_version(capsys):
    with pytest.raises(SystemExit, match="0"):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"hierbayes {hb.__version__}"


@pytest.mark.parametrize("cached", [True, False])
def test_demo_mentions_compiling_only_when_the_kernel_is_not_cached(cached, capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise hb.HierbayesError("stopped before sampling")

    monkeypatch.setattr("hierbayes.density.cache.kernel_cached", lambda: cached)
    monkeypatch.setattr("hierbayes.model.Model.fit", stop)
    assert main(["demo"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("Fitting Reaction ~ Days")
    assert ("compiles hierbayes's numba code once" in out) is not cached


@pytest.mark.slow
def test_fit_a_csv_with_a_level2_table(tmp_path, capsys):
    radon = hb.datasets.load("radon").drop(columns=["uranium", "county_name"])
    counties = hb.datasets.load("radon_counties")
    radon.to_csv(tmp_path / "radon.csv", index=False)
    counties.to_csv(tmp_path / "counties.csv", index=False)
    code = main(
        [
            "fit",
            str(tmp_path / "radon.csv"),
            "log_radon ~ basement + uranium + (1 | county)",
            "--level2",
            f"county={tmp_path / 'counties.csv'}",
            "--draws",
            "100",
            "--tune",
            "100",
            "--chains",
            "2",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "uranium" in out and "county, 85" in out


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hierbayes", *args], capture_output=True, text=True, timeout=300
    )


def test_missing_file_exits_2_with_one_line(tmp_path):
    result = _run("fit", str(tmp_path / "nope.csv"), "y ~ x + (1 | g)")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nope.csv' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_formula_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("y,x,g\n1,2,a\n2,3,b\n")
    assert main(["fit", str(path), "y ~ x + (1 | g"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hierbayes: error: Unclosed '('")
    assert "(at character 9)" in err and err.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("content", "formula", "message"),
    [
        ("y,x,g\n1,2,a\n2,3,b\n", "y ~ z + (1 | g)", "Column 'z' used in the formula"),
        ("y,x,g\n1,,a\n2,3,b\n", "y ~ x + (1 | g)", "Column 'x' has 1 missing value"),
        ("", "y ~ x", "is not a readable CSV"),
    ],
)
def test_bad_data_exits_2(tmp_path, capsys, content, formula, message):
    path = tmp_path / "d.csv"
    path.write_text(content)
    assert main(["fit", str(path), formula]) == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0


def test_bad_level2_argument_exits_2(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("y,x,g\n1,2,a\n2,3,b\n")
    assert main(["fit", str(path), "y ~ x + (1 | g)", "--level2", "g"]) == 2
    assert "--level2 expects GROUP=TABLE.csv" in capsys.readouterr().err


def test_every_registered_family_and_an_offset_column_are_accepted():
    from hierbayes.cli import _parser
    from hierbayes.families import FAMILIES

    for name in FAMILIES:
        args = _parser().parse_args(["fit", "d.csv", "y ~ x", "--family", name, "--offset", "lo"])
        assert (args.family, args.offset) == (name, "lo")


def test_link_is_passed_to_the_model_and_a_wrong_one_is_one_line(tmp_path, capsys):
    from hierbayes.cli import _parser

    args = _parser().parse_args(
        ["fit", "d.csv", "y ~ x", "--family", "bernoulli", "--link", "probit"]
    )
    assert (args.family, args.link) == ("bernoulli", "probit")
    path = tmp_path / "d.csv"
    path.write_text("y,x,g\n1,2,a\n0,3,b\n1,1,a\n0,0,b\n")
    argv = ["fit", str(path), "y ~ x + (1 | g)", "--family", "bernoulli", "--link", "log"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "The bernoulli family has no link 'log'; choose one of logit, cloglog, probit" in err


def test_fit_an_ordinal_response_from_a_csv(capsys):
    from pathlib import Path

    wine = Path(__file__).parent / "data" / "wine.csv"
    args = ["fit", str(wine), "rating ~ temp + contact + (1 | judge)", "--family", "cumulative"]
    assert main([*args, "--draws", "100", "--tune", "100", "--chains", "2"]) == 0
    out = capsys.readouterr().out
    assert "family: cumulative, link: logit" in out
    fixed = out.split("Fixed effects:")[1].split("Diagnostics:")[0]
    assert "cutpoint[1|2]" in fixed and "cutpoint[4|5]" in fixed and "Intercept" not in fixed


def test_sigma_formula_reaches_the_model(tmp_path, capsys, monkeypatch):
    seen = {}

    def stop(model, *args, **kwargs):
        seen["labels"] = model.design.dpar.labels
        raise hb.HierbayesError("stopped before sampling")

    monkeypatch.setattr("hierbayes.model.Model.fit", stop)
    path = tmp_path / "sleep.csv"
    hb.datasets.load("sleepstudy").to_csv(path, index=False)
    args = ["fit", str(path), "Reaction ~ Days + (1 | Subject)", "--sigma"]
    assert main([*args, "~ Days + (1 | Subject)"]) == 2
    assert seen["labels"] == ("sigma_Intercept", "sigma_Days")
    capsys.readouterr()
    assert main([*args, "sigma ~ Days"]) == 2
    assert "The sigma formula has no response" in capsys.readouterr().err


def test_an_ordinal_response_takes_the_probit_link(capsys):
    from pathlib import Path

    wine = Path(__file__).parent / "data" / "wine.csv"
    args = ["fit", str(wine), "rating ~ temp + contact + (1 | judge)", "--family", "cumulative"]
    assert main([*args, "--link", "cloglog"]) == 2
    err = capsys.readouterr().err
    assert "The cumulative family has no link 'cloglog'; choose one of logit, probit" in err
    short = ["--draws", "100", "--tune", "100", "--chains", "2"]
    assert main([*args, "--link", "probit", *short]) == 0
    assert "family: cumulative, link: probit" in capsys.readouterr().out


def test_shape_and_phi_formulas_reach_the_model(tmp_path, capsys, monkeypatch):
    seen = {}

    def stop(model, *args, **kwargs):
        seen["labels"] = model.design.dpar.labels
        raise hb.HierbayesError("stopped before sampling")

    monkeypatch.setattr("hierbayes.model.Model.fit", stop)
    path = Path(__file__).parent / "data" / "salamanders.csv"
    args = ["fit", str(path), "count ~ mined + (1 | site)", "--family", "negativebinomial"]
    assert main([*args, "--shape", "~ mined"]) == 2
    assert seen["labels"] == ("shape_Intercept", "shape_mined[T.yes]")
    capsys.readouterr()
    assert main([*args, "--phi", "~ mined"]) == 2
    assert "its dispersion parameter is shape" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--draws", "0"], "draws must be a positive integer, got 0"),
        (["--chains", "-1"], "chains must be a positive integer, got -1"),
        (["--seed", "-1"], "random_seed must be a non-negative integer"),
        (["--level2", "g=a.csv", "--level2", "g=b.csv"], "table for 'g' twice"),
    ],
)
def test_bad_flags_exit_2_with_one_line_before_any_fit(tmp_path, capsys, flags, message):
    path = tmp_path / "d.csv"
    path.write_text("y,x,g\n1,2,a\n2,3,b\n")
    assert main(["fit", str(path), "y ~ x + (1 | g)", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--family", "binomial", "--trials", "nn"],
            "Column 'nn' given to --trials is not in the data. Did you mean 'n'? "
            "Available columns: y, n, x, g",
        ),
        (
            ["--family", "poisson", "--offset", "expected"],
            "Column 'expected' given to --offset is not in the data. Available columns: y, n, x, g",
        ),
        (
            ["--family", "poisson", "--offset", "xx"],
            "Column 'xx' given to --offset is not in the data. Did you mean 'x'?",
        ),
    ],
)
def test_trials_and_offset_name_a_missing_column(tmp_path, capsys, flags, message):
    path = tmp_path / "d.csv"
    path.write_text("y,n,x,g\n1,3,2,a\n2,3,3,b\n")
    assert main(["fit", str(path), "y ~ x + (1 | g)", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hierbayes: error: {message}") and err.strip().count("\n") == 0


def test_an_offset_column_of_a_level2_table_or_an_expression_passes_the_check():
    import argparse

    from hierbayes.cli import _check_option_columns
    from hierbayes.errors import MissingColumnError

    data = pd.DataFrame({"y": [1, 2], "n": [3, 3], "g": ["a", "b"]})
    level2 = {"g": pd.DataFrame({"g": ["a", "b"], "area": [1.0, 2.0]})}
    for offset in ("area", "np.log(n)"):
        _check_option_columns(data, level2, argparse.Namespace(trials="n", offset=offset))
    with pytest.raises(MissingColumnError, match=r"Column 'area' given to --offset .* y, n, g$"):
        _check_option_columns(data, {}, argparse.Namespace(trials=None, offset="area"))
