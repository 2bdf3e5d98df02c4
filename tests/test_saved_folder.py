"""A saved fit's folder: overwrite=True replaces nothing but a saved fit, load reads nothing
outside the folder, and odd files give typed errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import FileFormatError, PathExistsError
from hierbayes.io import DATA_FILE, IDATA_DIR, MODEL_FILE


@pytest.fixture(scope="module")
def fit() -> hb.Fit:
    rng = np.random.default_rng(8)
    data = pd.DataFrame(
        {"y": rng.normal(size=24), "x": rng.normal(size=24), "g": np.repeat(list("abcd"), 6)}
    )
    return fake_fit(hb.Model("y ~ x + (1 | g)", data), draws=10)


@pytest.fixture(scope="module")
def saved(fit: hb.Fit, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit.save(tmp_path_factory.mktemp("saved") / "fit.hb")


def _copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "copy.hb"))


def test_overwrite_keeps_a_folder_with_other_files(fit, tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    (folder / MODEL_FILE).write_text("{}")
    (folder / "thesis.tex").write_text("mine")
    with pytest.raises(PathExistsError, match=r"v' does not hold a saved fit: it holds 'thesis"):
        fit.save(folder, overwrite=True)
    assert (folder / "thesis.tex").read_text() == "mine"


def test_overwrite_keeps_a_folder_whose_model_json_is_not_a_saved_fits(fit, tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    (folder / MODEL_FILE).write_text('{"name": "my notes"}')
    with pytest.raises(PathExistsError, match=r"model\.json that is not a saved fit's"):
        fit.save(folder, overwrite=True)
    assert (folder / MODEL_FILE).read_text() == '{"name": "my notes"}'


def test_overwrite_keeps_a_saved_fit_with_a_file_added(fit, saved, tmp_path):
    copy = _copy(saved, tmp_path)
    (copy / "notes.txt").write_text("mine")
    with pytest.raises(PathExistsError, match=r"it holds 'notes\.txt'"):
        fit.save(copy, overwrite=True)
    assert (copy / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_a_saved_fit(fit, saved, tmp_path):
    copy = _copy(saved, tmp_path)
    fit.save(copy, overwrite=True)
    assert sorted(p.name for p in copy.iterdir()) == sorted([MODEL_FILE, DATA_FILE, IDATA_DIR])
    hb.load(copy)


@pytest.mark.parametrize("name", [MODEL_FILE, DATA_FILE, IDATA_DIR])
def test_load_refuses_a_symbolic_link_in_the_folder(saved, tmp_path, name):
    copy = _copy(saved, tmp_path)
    elsewhere = tmp_path / f"elsewhere-{name}"
    (copy / name).rename(elsewhere)
    (copy / name).symlink_to(elsewhere)
    with pytest.raises(FileFormatError, match=rf"{name}' is a symbolic link"):
        hb.load(copy)


def test_load_refuses_a_symbolic_link_inside_the_draws(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    target = next(p for p in (copy / IDATA_DIR).rglob("zarr.json") if p.parent != copy / IDATA_DIR)
    moved = tmp_path / "moved.json"
    target.rename(moved)
    target.symlink_to(moved)
    with pytest.raises(FileFormatError, match=r"zarr\.json' is a symbolic link"):
        hb.load(copy)


def test_deeply_nested_model_json_is_a_typed_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    (copy / MODEL_FILE).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FileFormatError, match=r"model\.json \(the model description\) is corrupt"):
        hb.load(copy)


def test_zarr_data_type_that_is_not_text_is_a_typed_error(saved, tmp_path):
    copy = _copy(saved, tmp_path)
    for meta_path in (copy / IDATA_DIR).rglob("zarr.json"):
        meta = json.loads(meta_path.read_text())
        if meta.get("node_type") == "array":
            meta["data_type"] = {"name": "float64"}
            meta_path.write_text(json.dumps(meta))
            break
    with pytest.raises(FileFormatError, match=r"data_type.*not a plain type"):
        hb.load(copy)
