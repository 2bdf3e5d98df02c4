"""``--output DIR`` never writes through a symbolic link or over a file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.cli_output import OUTPUT_FILES, check_output, write_output
from hierbayes.errors import PathExistsError


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    rng = np.random.default_rng(9)
    data = pd.DataFrame(
        {"y": rng.normal(size=24), "x": rng.normal(size=24), "g": np.repeat(list("abcd"), 6)}
    )
    return fake_fit(hb.Model("y ~ x + (1 | g)", data), draws=10)


def test_a_dangling_link_counts_as_taken(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.txt").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(PathExistsError, match=r"already holds summary\.txt"):
        check_output(out)
    assert not (tmp_path / "elsewhere.txt").exists()


@pytest.mark.parametrize("name", [n for n in OUTPUT_FILES if n != "fit"])
def test_a_link_made_after_the_check_is_not_followed(fit, tmp_path, monkeypatch, name):
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere"
    monkeypatch.setattr("hierbayes.cli_output.check_output", lambda d: d)  # link after the check
    (out / name).symlink_to(target)
    with pytest.raises(PathExistsError, match=rf"already holds {name} \(a file or a symbolic"):
        write_output(fit, out)
    assert not target.exists()


def test_every_table_is_written(fit, tmp_path):
    out = write_output(fit, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    fixef = pd.read_csv(out / "fixef.csv", index_col=0)
    pd.testing.assert_frame_equal(fixef, fit.fixef(), check_names=False, check_dtype=False)
    assert (out / "summary.txt").read_text(encoding="utf-8") == str(fit.summary()) + "\n"
