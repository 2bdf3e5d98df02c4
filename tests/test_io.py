"""Saving and loading fits: bit-identical round trips, no pickle, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import FileFormatError, PathExistsError
from hierbayes.io import DATA_FILE, IDATA_DIR, MODEL_FILE


def _tables(fit: hb.Fit) -> list[pd.DataFrame]:
    return [fit.fixef(), fit.ranef(), fit.coef(), fit.varcorr()]


def _assert_same_tree(a: xr.DataTree, b: xr.DataTree) -> None:
    assert a.identical(b)
    assert [n.path for n in a.subtree] == [n.path for n in b.subtree]
    for x, y in zip(a.subtree, b.subtree, strict=True):
        dx, dy = x.to_dataset(inherit=False), y.to_dataset(inherit=False)
        assert list(dx.variables) == list(dy.variables)
        assert list(dx.dims) == list(dy.dims)
        for name, var in dx.variables.items():
            assert var.dtype == dy[name].dtype, (x.path, name)


@pytest.fixture(scope="module")
def level2_fit() -> hb.Fit:
    rng = np.random.default_rng(4)
    n = 40
    students = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "cses": rng.normal(size=n),
            "girl": rng.random(n) < 0.5,
            "track": pd.Categorical(
                rng.choice(["low", "mid", "high"], size=n), categories=["mid", "low", "high"]
            ),
            "school": np.repeat([104, 221, 305, 411, 502], 8),
        },
        index=[f"s{i:03d}" for i in range(n)],
    )
    schools = pd.DataFrame(
        {
            "school": [104, 221, 305, 411, 502],
            "meanses": [-0.3, 0.2, 0.5, -1.0, 0.1],
            "sector": ["Public", "Catholic", "Public", "Catholic", "Public"],
            "name": ["A", "B", "C", "D", "E"],  # a level-2 column the formula does not use
        }
    )
    model = hb.Model(
        "y ~ cses * meanses + sector + girl + track + (1 + cses | school)",
        data=students,
        level2={"school": schools},
        priors={"sd|school": hb.Prior("HalfNormal", sigma=[2.0, 0.5])},
        parameterization={"school": {"Intercept": "centered", "cses": "noncentered"}},
    )
    return fake_fit(model, draws=200)


def test_round_trip_of_a_sampled_fit_is_bit_identical(sleep_fit: hb.Fit, tmp_path: Path) -> None:
    path = sleep_fit.save(tmp_path / "sleep.hb")
    loaded = hb.load(path)
    _assert_same_tree(loaded.idata, sleep_fit.idata)
    for ours, theirs in zip(_tables(sleep_fit), _tables(loaded), strict=True):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert str(loaded.summary()) == str(sleep_fit.summary())
    assert loaded.diagnostics.warnings == sleep_fit.diagnostics.warnings
    pd.testing.assert_frame_equal(loaded.model.priors, sleep_fit.model.priors)
    new = pd.DataFrame({"Days": [1, 4], "Subject": [308, "someone new"]})
    for groups in ("new", "population"):
        xr.testing.assert_identical(
            loaded.predict(new, groups=groups, kind="pps", random_seed=3),
            sleep_fit.predict(new, groups=groups, kind="pps", random_seed=3),
        )
    assert loaded.sampler == sleep_fit.sampler


def test_round_trip_keeps_the_encoding(level2_fit: hb.Fit, tmp_path: Path) -> None:
    loaded = hb.load(level2_fit.save(tmp_path / "fit"))
    _assert_same_tree(loaded.idata, level2_fit.idata)
    original, again = level2_fit.design, loaded.design
    assert again.fixed_columns == original.fixed_columns
    np.testing.assert_array_equal(again.X, original.X)
    assert again.level2_columns == original.level2_columns
    pd.testing.assert_frame_equal(again.data, original.data, check_exact=True)
    assert list(loaded.model.obs_index) == list(level2_fit.model.obs_index)
    assert loaded.model.parameterization == level2_fit.model.parameterization
    assert loaded.model.prior_values == level2_fit.model.prior_values
    pd.testing.assert_frame_equal(loaded.model.priors, level2_fit.model.priors)
    new = pd.DataFrame(
        {"cses": [0.5, -1.0], "girl": [True, False], "track": ["high", "low"], "school": [221, 999]}
    )
    level2 = {"school": pd.DataFrame({"school": [999], "meanses": [0.0], "sector": ["Public"]})}
    for fit in (level2_fit, loaded):
        assert fit.predict(new, groups="new", level2=level2, random_seed=1).identical(
            level2_fit.predict(new, groups="new", level2=level2, random_seed=1)
        )
    for ours, theirs in zip(_tables(level2_fit), _tables(loaded), strict=True):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)


def test_posterior_predictive_group_survives(sleep_fit: hb.Fit, tmp_path: Path) -> None:
    tree = sleep_fit.posterior_predictive(random_seed=1)
    fit = hb.Fit(
        idata=tree,
        model=sleep_fit.model,
        diagnostics=sleep_fit.diagnostics,
        sampler=sleep_fit.sampler,
    )
    loaded = hb.load(fit.save(tmp_path / "pp"))
    _assert_same_tree(loaded.idata, tree)


def test_saved_folder_holds_no_pickle(sleep_fit: hb.Fit, tmp_path: Path) -> None:
    path = sleep_fit.save(tmp_path / "scan")
    files = [p for p in path.rglob("*") if p.is_file()]
    assert files and {MODEL_FILE, DATA_FILE} <= {p.name for p in files}
    for file in files:
        assert file.suffix not in (".pkl", ".pickle", ".joblib")
        head = file.read_bytes()[:2]
        assert head not in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"), file
    assert b"pickle" not in (path / MODEL_FILE).read_bytes()


def test_existing_path_is_not_overwritten(level2_fit: hb.Fit, tmp_path: Path) -> None:
    path = level2_fit.save(tmp_path / "fit")
    with pytest.raises(PathExistsError, match="already exists; pass overwrite=True"):
        level2_fit.save(path)
    level2_fit.save(path, overwrite=True)
    hb.load(path)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(PathExistsError, match="does not hold a saved fit"):
        level2_fit.save(other, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def saved(level2_fit: hb.Fit, tmp_path: Path) -> Path:
    return level2_fit.save(tmp_path / "fit")


def _edit_json(path: Path, change) -> None:
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


def test_newer_format_version_is_rejected(saved: Path) -> None:
    _edit_json(saved / MODEL_FILE, lambda m: m.update(format_version=99))
    with pytest.raises(FileFormatError, match=r"format version 99.*Upgrade hierbayes"):
        hb.load(saved)


def test_corrupt_model_file_is_rejected(saved: Path) -> None:
    (saved / MODEL_FILE).write_text('{"format_version": 1, "formula": ')
    with pytest.raises(FileFormatError, match=r"model\.json.*is corrupt"):
        hb.load(saved)


def test_model_file_missing_a_field_is_rejected(saved: Path) -> None:
    _edit_json(saved / MODEL_FILE, lambda m: m.pop("priors"))
    with pytest.raises(FileFormatError, match="corrupt: missing or bad 'priors'"):
        hb.load(saved)


def test_changed_data_are_rejected(saved: Path) -> None:
    def change(content: dict) -> None:
        content["columns"]["cses"]["values"][3] += 1e-9

    _edit_json(saved / DATA_FILE, change)
    with pytest.raises(FileFormatError, match=r"differs from the saved one \(blocks\[0\].Z\)"):
        hb.load(saved)


def test_missing_pieces_are_rejected(saved: Path, tmp_path: Path) -> None:
    shutil.rmtree(saved / IDATA_DIR)
    with pytest.raises(FileFormatError, match=r"has no idata\.zarr"):
        hb.load(saved)
    (saved / DATA_FILE).unlink()
    with pytest.raises(FileFormatError, match=r"has no data\.json"):
        hb.load(saved)
    (saved / MODEL_FILE).unlink()
    with pytest.raises(FileFormatError, match=r"has no model\.json"):
        hb.load(saved)
    with pytest.raises(FileNotFoundError, match="No saved fit"):
        hb.load(tmp_path / "nothing")


def test_corrupt_draws_are_rejected(saved: Path) -> None:
    for meta in (saved / IDATA_DIR).rglob("zarr.json"):
        meta.write_text("not json")
    with pytest.raises(FileFormatError, match="cannot be read"):
        hb.load(saved)


def test_an_index_that_cannot_be_saved_is_named_with_the_fix(tmp_path: Path):
    sleep = hb.datasets.load("sleepstudy")
    sleep.index = pd.date_range("2024-01-01", periods=len(sleep), freq="h")
    fit = fake_fit(hb.Model("Reaction ~ Days + (1 | Subject)", sleep), draws=20)
    with pytest.raises(hb.DataError, match=r"The data's index has dtype .*reset_index\(\)"):
        fit.save(tmp_path / "fit")


def test_overwrite_never_replaces_a_regular_file(level2_fit: hb.Fit, tmp_path: Path) -> None:
    table = tmp_path / "results.csv"
    table.write_text("a,b\n1,2\n")
    with pytest.raises(PathExistsError, match=r"results\.csv' is a file, not a saved fit"):
        level2_fit.save(table, overwrite=True)
    assert table.read_text() == "a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_failed_overwrite_rolls_back(
    level2_fit: hb.Fit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = level2_fit.save(tmp_path / "fit")
    before = (path / MODEL_FILE).read_text()
    rename = Path.rename

    def failing(self: Path, target: Path) -> Path:
        if self.name.endswith(".partial"):  # the final step: the new fit into place
            raise OSError("disk unplugged")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="disk unplugged"):
        level2_fit.save(path, overwrite=True)
    monkeypatch.undo()
    assert (path / MODEL_FILE).read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit"]  # no hidden pieces left
    hb.load(path)


def test_successful_overwrite_survives_a_leftover_old_copy(
    level2_fit: hb.Fit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = level2_fit.save(tmp_path / "fit")
    remove = shutil.rmtree

    def stubborn(target, ignore_errors: bool = False, **kwargs) -> None:
        if str(target).endswith(".old"):
            if not ignore_errors:
                raise PermissionError("in use")
            return
        remove(target, ignore_errors=ignore_errors, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", stubborn)
    assert level2_fit.save(path, overwrite=True) == path
    monkeypatch.undo()
    hb.load(path)
