"""The saved-fit schema: a real save passes; every field missing or of the wrong type is named."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fakes import fake_fit

import hierbayes as hb
from hierbayes.errors import FileFormatError
from hierbayes.io import DATA_FILE, IDATA_DIR, MODEL_FILE
from hierbayes.schema import MODEL_KEYS, check_data_json, check_model_json, check_zarr_store


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sleep = hb.datasets.load("sleepstudy")
    model = hb.Model(
        "Reaction ~ Days + (1 + Days | Subject)",
        sleep,
        priors={"sigma": hb.Prior("HalfStudentT", nu=4, sigma=40)},
    )
    return fake_fit(model, draws=10).save(tmp_path_factory.mktemp("schema") / "fit.hb")


@pytest.fixture
def meta(saved: Path) -> dict:
    return json.loads((saved / MODEL_FILE).read_text())


def test_a_real_save_passes(saved: Path, meta: dict) -> None:
    check_model_json(meta, "model.json")
    check_data_json(json.loads((saved / DATA_FILE).read_text()), "data.json")
    check_zarr_store(saved / IDATA_DIR)


@pytest.mark.parametrize("key", sorted(MODEL_KEYS))
def test_every_missing_field_is_named(meta: dict, key: str) -> None:
    del meta[key]
    with pytest.raises(FileFormatError, match=rf"missing or bad '{key}' \(missing\)"):
        check_model_json(meta, "model.json")


@pytest.mark.parametrize("key", sorted(MODEL_KEYS))
def test_every_field_of_the_wrong_type_is_named(meta: dict, key: str) -> None:
    meta[key] = {"nested": [1]} if not isinstance(meta[key], dict) else [1]
    with pytest.raises(FileFormatError, match=rf"missing or bad '{key}'"):
        check_model_json(meta, "model.json")


@pytest.mark.parametrize(
    ("formula", "culprit"),
    [
        ("Reaction ~ Days + __import__('os').system('x') + (1 | Subject)", "__import__"),
        ("Reaction ~ Days + np.f2py.os.system('x') + (1 | Subject)", "np.f2py.os.system"),
        ("Reaction ~ Days + open('/etc/passwd') + (1 | Subject)", "open"),
    ],
)
def test_a_stored_formula_outside_the_whitelist_is_refused(
    meta: dict, formula: str, culprit: str
) -> None:
    meta["formula"] = formula
    with pytest.raises(FileFormatError, match=rf"'formula'.*{culprit}"):
        check_model_json(meta, "model.json")


def test_families_come_from_the_registry(meta: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from hierbayes import families

    meta["family"] = "newfamily"
    with pytest.raises(FileFormatError, match="unknown family 'newfamily'"):
        check_model_json(copy.deepcopy(meta), "model.json")
    monkeypatch.setitem(families.FAMILIES, "newfamily", families.FAMILIES["gaussian"])
    check_model_json(meta, "model.json")


def test_priors_come_from_pymcs_registry(meta: dict) -> None:
    meta["priors"]["sigma"]["dist"] = "Weibull"
    meta["priors"]["sigma"]["params"] = {"alpha": 2.0, "beta": 30.0}
    check_model_json(meta, "model.json")
    meta["priors"]["sigma"]["dist"] = "Weibul"
    with pytest.raises(FileFormatError, match=r"'priors\.sigma\.dist'.*unknown distribution"):
        check_model_json(meta, "model.json")


@pytest.mark.parametrize(
    ("key", "value", "culprit"),
    [
        ("offset", 3, "offset"),
        ("weights", ["w"], "weights"),
        ("missing", {"how": "guess", "dropped": {}, "n_dropped": 0}, "missing.how"),
        ("missing", {"how": "drop", "dropped": {"x": -1}, "n_dropped": 1}, "missing.dropped.x"),
        ("missing", {"how": "drop", "dropped": {}, "n_dropped": True}, "missing.n_dropped"),
        ("missing", {"how": "drop", "dropped": {}}, "missing.n_dropped"),
    ],
)
def test_optional_fields_are_checked_when_present(
    meta: dict, key: str, value: object, culprit: str
) -> None:
    meta[key] = value
    with pytest.raises(FileFormatError, match=rf"missing or bad '{culprit}'"):
        check_model_json(meta, "model.json")


def test_optional_fields_pass_when_well_formed(meta: dict) -> None:
    meta.update(
        offset="log_expected",
        weights="w",
        missing={"how": "drop", "dropped": {"x": 2}, "n_dropped": 2},
    )
    meta["design"]["offset"] = meta["design"]["y"]
    check_model_json(meta, "model.json")
    meta["design"]["weights"] = 1.5
    with pytest.raises(FileFormatError, match=r"missing or bad 'design\.weights'"):
        check_model_json(meta, "model.json")


def test_the_link_is_saved_and_checked_against_the_registry(tmp_path: Path) -> None:
    cbpp = hb.datasets.load("cbpp")
    model = hb.Model(
        "incidence | trials(size) ~ C(period) + (1 | herd)", cbpp, family="binomial", link="probit"
    )
    path = fake_fit(model, draws=10).save(tmp_path / "probit.hb")
    meta = json.loads((path / MODEL_FILE).read_text())
    assert (meta["family"], meta["link"]) == ("binomial", "probit")
    again = hb.load(path)
    assert (again.design.family.name, again.design.family.link) == ("binomial", "probit")
    for link, match in (
        ("log", r"'link'.*the binomial family has no link 'log'; known: logit, cloglog, probit"),
        (3, r"'link'"),
    ):
        bad = copy.deepcopy(meta)
        bad["link"] = link
        with pytest.raises(FileFormatError, match=match):
            check_model_json(bad, "model.json")
    del meta["link"]  # files written before links: the family's default
    check_model_json(meta, "model.json")


def test_an_ordinal_models_category_labels_are_checked(meta: dict) -> None:
    meta["design"]["response_levels"] = ["low", "mid", "high"]
    check_model_json(meta, "model.json")
    for bad in ("low", ["low", 3], ["low", ""]):
        meta["design"]["response_levels"] = bad
        with pytest.raises(FileFormatError, match=r"missing or bad 'design\.response_levels"):
            check_model_json(meta, "model.json")
