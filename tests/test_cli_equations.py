"""``hierbayes fit ... --equations`` prints the model's equations before its summary."""

from __future__ import annotations

import pytest

import hierbayes as hb
from hierbayes.cli import main


@pytest.mark.slow
def test_fit_prints_equations_before_the_summary(tmp_path, capsys):
    hb.datasets.load("sleepstudy").to_csv(tmp_path / "sleep.csv", index=False)
    args = ["fit", str(tmp_path / "sleep.csv"), "Reaction ~ Days + (1 | Subject)"]
    sampling = ["--draws", "50", "--tune", "50", "--chains", "1"]
    assert main([*args, "--equations", *sampling]) == 0
    out = capsys.readouterr().out
    expected = str(hb.Model(args[2], hb.datasets.load("sleepstudy")).equations("rb"))
    assert out.startswith(expected + "\n\n")
    assert out.index("Level 1 (observation i):") < out.index("Random effects")
    assert main([*args, "--equations", "gh", *sampling]) == 0
    assert capsys.readouterr().out.startswith("Level 1 (observation i):\n  Reaction_i = α_j[i]")


def test_equations_notation_is_checked(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["fit", "x.csv", "y ~ x", "--equations", "hlm"])
    assert "invalid choice: 'hlm'" in capsys.readouterr().err
