"""Saving and loading a fit with a sigma formula: the formula is kept and checked."""

import json
from pathlib import Path

import numpy as np
import pytest

import hierbayes as hb
from hierbayes.errors import FileFormatError
from hierbayes.io import MODEL_FILE


def test_round_trip_keeps_the_sigma_formula(sigma_fit: hb.Fit, tmp_path: Path) -> None:
    sigma_fit.save(tmp_path / "fit")
    loaded = hb.load(tmp_path / "fit")
    assert loaded.model.sigma_spec.formula == "~ Days + (1 | Subject)"
    np.testing.assert_array_equal(loaded.design.dpar.X, sigma_fit.design.dpar.X)
    assert loaded.fixef().equals(sigma_fit.fixef())
    np.testing.assert_array_equal(
        loaded.predict(dpar="sigma").values, sigma_fit.predict(dpar="sigma").values
    )


def test_a_sigma_formula_with_code_is_refused_on_load(sigma_fit: hb.Fit, tmp_path: Path):
    sigma_fit.save(tmp_path / "fit")
    meta = json.loads((tmp_path / "fit" / MODEL_FILE).read_text())
    meta["sigma"] = "~ __import__('os').system('true')"
    (tmp_path / "fit" / MODEL_FILE).write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match=r"bad 'sigma'.*not an allowed function"):
        hb.load(tmp_path / "fit")
    meta["sigma"] = "~ 1"  # another model than the one saved
    (tmp_path / "fit" / MODEL_FILE).write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match="differs from the saved one"):
        hb.load(tmp_path / "fit")
