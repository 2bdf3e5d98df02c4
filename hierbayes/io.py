"""Save a fit to a folder and load it back, without pickle.

A saved fit is a folder with three pieces:

``idata.zarr``
    The posterior ``DataTree`` (all groups: posterior, sample stats, observed data,
    log-likelihood, and a posterior predictive group if the tree has one), written with zarr.
``model.json``
    Format version, the model's recipe (formula, family, trials column, level-2 columns, every
    prior with its parameters, parameterisation), the sampler, and a fingerprint of the design
    (fixed-effect columns, group terms and labels, and SHA-256 hashes of ``y``, ``X``, each
    ``Z`` and the group codes).
``data.json``
    The training data the model uses (after merging level-2 tables) with each column's dtype,
    categorical levels included, and the observation labels.

:func:`load` rebuilds :class:`hierbayes.Model` from the recipe and the data and checks that the
rebuilt design matches the fingerprint, so new data is encoded exactly as before and a loaded fit
summarises and predicts exactly as the original.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from hierbayes.design import Design
from hierbayes.diagnostics import check_convergence
from hierbayes.errors import (
    DataError,
    FileFormatError,
    HierbayesError,
    PathExistsError,
    SavedFitNotFoundError,
)
from hierbayes.priors import Prior
from hierbayes.rebuild import Recipe
from hierbayes.saved_folder import check_no_links, check_replaceable, read_json
from hierbayes.schema import check_data_json, check_model_json, check_zarr_store
from hierbayes.spec.dpar import DPARS
from hierbayes.validate import check_path

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["FORMAT_VERSION", "load", "save"]

FORMAT_VERSION = 1
MODEL_FILE = "model.json"
DATA_FILE = "data.json"
IDATA_DIR = "idata.zarr"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _encode_values(series: pd.Series, name: str) -> dict[str, Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = pd.Series(dtype.categories)
        return {
            "kind": "categorical",
            "categories": _encode_values(categories, name),
            "ordered": bool(dtype.ordered),
            "codes": series.cat.codes.astype(int).tolist(),
        }
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return {"kind": "plain", "dtype": str(dtype), "values": _plain(series.tolist())}
    values = series.tolist()
    if all(isinstance(v, str) for v in values):
        return {"kind": "plain", "dtype": str(dtype), "values": values}
    what = "The data's index" if name == "the index" else f"Column '{name}'"
    hint = (
        " Call data.reset_index() before fitting (or give it a plain index)."
        if name == "the index"
        else ""
    )
    raise DataError(
        f"{what} has dtype {dtype}, which a saved fit cannot hold; use numbers, strings, "
        f"booleans or a pandas Categorical.{hint}"
    )


def _decode_values(spec: dict[str, Any]) -> pd.Series:
    if spec["kind"] == "categorical":
        categories = pd.Index(_decode_values(spec["categories"]))
        values = pd.Categorical.from_codes(
            spec["codes"], categories=categories, ordered=spec["ordered"]
        )
        return pd.Series(values)
    if spec["kind"] == "plain":
        return pd.Series(spec["values"], dtype=spec["dtype"])
    raise FileFormatError(f"Unknown column kind {spec['kind']!r}.")


def _encode_index(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": index.start, "stop": index.stop, "step": index.step}
    return {"kind": "values", "values": _encode_values(pd.Series(index), "the index")}


def _decode_index(spec: dict[str, Any]) -> pd.Index:
    if spec["kind"] == "range":
        return pd.RangeIndex(spec["start"], spec["stop"], spec["step"])
    return pd.Index(_decode_values(spec["values"]))


def _hash(array: np.ndarray | None) -> str | None:
    if array is None:
        return None
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def fingerprint(design: Design) -> dict[str, Any]:
    """What must match between a saved design and the one rebuilt from the saved data."""
    return {
        "fixed_columns": list(design.fixed_columns),
        "blocks": [
            {
                "name": b.name,
                "factor": b.factor,
                "columns": list(b.columns),
                "levels": list(b.levels),
                "Z": _hash(b.Z),
                "codes": _hash(b.codes),
            }
            for b in design.blocks
        ],
        "y": _hash(design.y),
        "X": _hash(design.X),
        "trials": _hash(design.trials),
        **({"offset": _hash(design.offset)} if design.offset is not None else {}),
        **({"weights": _hash(design.weights)} if design.weights is not None else {}),
        # an ordinal response's categories, in order (the cut-points' labels)
        **(
            {"response_levels": list(design.response_levels)}
            if design.response_levels is not None
            else {}
        ),
        **({"sigma": _hash(design.dpar.X)} if design.dpar is not None else {}),
    }


def _prior_json(prior: Prior) -> dict[str, Any]:
    return {"dist": prior.dist, "params": {k: _plain(v) for k, v in prior.params}}


def _none_as_empty(tree: xr.DataTree) -> tuple[xr.DataTree, list[str]]:
    """Object arrays of strings and ``None`` (nutpie's divergence messages) as plain strings."""
    tree = tree.copy()
    changed = []
    for node in tree.subtree:
        for name, var in node.data_vars.items():
            if var.dtype != object:
                continue
            values = var.values
            flat = values.ravel()
            if not all(v is None or isinstance(v, str) for v in flat):
                raise DataError(
                    f"Variable '{name}' of group '{node.path}' holds objects other than strings; "
                    "it cannot be saved."
                )
            if any(v == "" for v in flat):
                raise DataError(f"Variable '{name}' of '{node.path}' holds empty strings.")
            node[name] = var.copy(
                data=np.array(["" if v is None else v for v in flat], dtype=object).reshape(
                    values.shape
                )
            )
            changed.append(f"{node.path}/{name}".replace("//", "/"))
    return tree, changed


def _check_target(path: Path, overwrite: bool) -> None:
    for parent in path.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise PathExistsError(
                f"'{parent}' is a file, so the folder '{path}' cannot be created inside it. "
                "Choose another path."
            )
    if not path.exists() and not path.is_symlink():
        return
    if not overwrite:
        raise PathExistsError(
            f"'{path}' already exists; pass overwrite=True to replace it, or choose another path."
        )
    if path.is_symlink() or not path.is_dir():
        raise PathExistsError(
            f"'{path}' is a file, not a saved fit; hierbayes only replaces a folder holding a "
            "saved fit, even with overwrite=True. Choose another path."
        )
    check_replaceable(path)  # only a saved fit's own entries (or nothing) are replaced


def save(fit: Fit, path: str | Path, *, overwrite: bool = False) -> Path:
    """Save ``fit`` to the folder ``path`` (see the module docstring for its contents).

    Parameters
    ----------
    fit : Fit
        A fitted model.
    path : str or Path
        Folder to create, e.g. ``"hsb_fit.hb"``.
    overwrite : bool
        Replace an existing saved fit at ``path``; without it an existing path is an error.

    Returns
    -------
    Path
        The folder written.

    Examples
    --------
    >>> import hierbayes as hb
    >>> sleep = hb.datasets.load("sleepstudy")
    >>> model = hb.Model("Reaction ~ Days + (1 + Days | Subject)", data=sleep)
    >>> fit = model.fit(draws=500, tune=500, chains=2, random_seed=1)  # doctest: +SKIP
    >>> fit.save("sleep_fit.hb")  # doctest: +SKIP
    >>> hb.load("sleep_fit.hb").fixef()  # doctest: +SKIP
    """
    path = check_path("path", path)
    _check_target(path, overwrite)
    model = fit.model
    design = model.design
    recipe = Recipe.of(model)
    assert design.data is not None
    data_json = {
        "columns": {str(c): _encode_values(design.data[c], str(c)) for c in design.data.columns},
        "index": _encode_index(pd.Index(model.obs_index)),
    }
    tree, emptied = _none_as_empty(fit.idata)
    meta = {
        "format_version": FORMAT_VERSION,
        "hierbayes_version": _version(),
        "formula": recipe.formula,
        "family": recipe.family,
        "link": recipe.link,
        "trials": recipe.trials,
        "offset": recipe.offset,
        "weights": recipe.weights,
        **{k: v for k in DPARS if (v := getattr(recipe, k)) is not None},  # sigma=, shape=
        "missing": {
            "how": recipe.missing,
            "dropped": dict(design.dropped),
            "n_dropped": design.n_dropped,
        },
        "level2": {f: list(c) for f, c in recipe.level2.items()},
        "level2_columns": {f: list(c) for f, c in recipe.level2_columns.items()},
        "priors": {name: _prior_json(p) for name, p in recipe.priors.items()},
        "user_priors": list(recipe.user_priors),
        "parameterization": {k: list(v) for k, v in recipe.parameterization.items()},
        "sampler": fit.sampler,
        "design": fingerprint(design),
        "none_as_empty": emptied,
        "order": {
            node.path: list(node.to_dataset(inherit=False).variables) for node in fit.idata.subtree
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    staging.mkdir()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr's notes on consolidated metadata
            tree.to_zarr(staging / IDATA_DIR, mode="w", consolidated=False)
        (staging / DATA_FILE).write_text(json.dumps(data_json))
        (staging / MODEL_FILE).write_text(json.dumps(meta, indent=1))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # the old save is only removed once the new one is complete
    old = None
    try:
        if path.exists():
            old = path.with_name(f".{path.name}.{uuid.uuid4().hex}.old")
            path.rename(old)
        staging.rename(path)
    except BaseException:
        if old is not None and not path.exists():
            old.rename(path)  # the old fit back in place
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        # the new fit is in place: a leftover copy of the old one is not a failure of the save
        shutil.rmtree(old, ignore_errors=True)
    return path


def _version() -> str:
    from hierbayes import __version__

    return __version__


def _read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise FileFormatError(
            f"'{path.parent}' has no {path.name} ({what}): it is not a saved hierbayes fit, or "
            "it is incomplete."
        )
    return read_json(path, what)


def _restore(tree: xr.DataTree, emptied: list[str], order: dict[str, list[str]]) -> xr.DataTree:
    """Undo what zarr changes: string dtypes, ``None`` entries, the order of groups and variables.

    Labels come back as Python objects, as PyMC writes them; groups, coordinates and variables in
    their saved order (tables list parameters and labels in that order).
    """
    groups: dict[str, xr.Dataset] = {}
    for path, names in order.items():
        try:
            node = tree if path == "/" else tree[path]
        except KeyError as err:
            raise FileFormatError(f"The saved posterior draws lack the group '{path}'.") from err
        dataset = node.to_dataset(inherit=False)
        missing = [v for v in names if v not in dataset.variables]
        if missing:
            raise FileFormatError(f"The saved group '{path}' lacks the variable(s) {missing}.")
        variables = {}
        for name in names:
            var = dataset.variables[name]
            if var.dtype.kind in "UTO":
                values = np.asarray(var.values, dtype=object)
                if f"{path}/{name}".replace("//", "/") in emptied:
                    flat = [None if v == "" else v for v in values.ravel()]
                    values = np.array(flat, dtype=object).reshape(values.shape)
                var = var.copy(data=values)
            variables[name] = var
        coords = {n: v for n, v in variables.items() if n in dataset.coords}
        data_vars = {n: v for n, v in variables.items() if n not in dataset.coords}
        restored = xr.Dataset(coords=coords, attrs=dataset.attrs)
        for name, var in data_vars.items():
            restored[name] = var
        groups[path] = restored
    return xr.DataTree.from_dict(groups)


def _read_idata(path: Path, emptied: list[str], order: dict[str, list[str]]) -> xr.DataTree:
    if not path.is_dir():
        raise FileFormatError(f"'{path.parent}' has no {path.name} (the posterior draws).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = xr.open_datatree(path, engine="zarr", consolidated=False)
            tree = tree.load()
        tree.close()
    except Exception as err:
        raise FileFormatError(f"The posterior draws in {path} cannot be read: {err}") from err
    for group in ("posterior", "observed_data"):
        if group not in tree.children:
            raise FileFormatError(f"The posterior draws in {path} lack the '{group}' group.")
    return _restore(tree, emptied, order)


def _compare(saved: dict[str, Any], rebuilt: dict[str, Any], where: str = "") -> str | None:
    for key, value in saved.items():
        other = rebuilt.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            if not isinstance(other, list) or len(other) != len(value):
                return f"{where}{key}"
            for i, (a, b) in enumerate(zip(value, other, strict=True)):
                found = _compare(a, b, f"{where}{key}[{i}].")
                if found:
                    return found
        elif value != other:
            return f"{where}{key}"
    return None


def load(path: str | Path) -> Fit:
    """Load a fit saved with :meth:`hierbayes.Fit.save`.

    Reading never runs code from the file: the folder holds zarr arrays and JSON, no pickle.

    Parameters
    ----------
    path : str or Path
        The folder :meth:`~hierbayes.Fit.save` wrote.

    Returns
    -------
    Fit
        The fit, with its model, design and encoding state, ready for every summary, plot and
        prediction.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    FileFormatError
        A missing or corrupt piece, a file written by a newer format version, or saved data that
        no longer reproduce the fitted design.

    Examples
    --------
    >>> import hierbayes as hb
    >>> fit = hb.load("sleep_fit.hb")  # doctest: +SKIP
    >>> fit.fixef()  # doctest: +SKIP
    """
    from hierbayes.fit import Fit

    path = check_path("path", path)
    if not path.exists():
        raise SavedFitNotFoundError(f"No saved fit at '{path}'.")
    check_no_links(path)
    meta = _read_json(path / MODEL_FILE, "the model description")
    if not isinstance(meta, dict) or not isinstance(meta.get("format_version"), int):
        raise FileFormatError(f"{path / MODEL_FILE} is corrupt: it has no format_version.")
    if meta["format_version"] > FORMAT_VERSION:
        raise FileFormatError(
            f"'{path}' was written in format version {meta['format_version']} (by hierbayes "
            f"{meta.get('hierbayes_version', '?')}); this hierbayes ({_version()}) reads format "
            f"versions up to {FORMAT_VERSION}. Upgrade hierbayes to load it."
        )
    check_model_json(meta, str(path / MODEL_FILE))
    try:
        recipe = Recipe(
            formula=meta["formula"],
            family=meta["family"],
            trials=meta["trials"],
            level2={f: tuple(c) for f, c in meta["level2"].items()},
            level2_columns={f: tuple(c) for f, c in meta["level2_columns"].items()},
            priors={n: Prior(p["dist"], **p["params"]) for n, p in meta["priors"].items()},
            user_priors=tuple(meta["user_priors"]),
            parameterization={k: tuple(v) for k, v in meta["parameterization"].items()},
            offset=_optional_str(meta.get("offset"), "offset"),
            weights=_optional_str(meta.get("weights"), "weights column"),
            **{k: _optional_str(meta.get(k), f"{k} formula") for k in DPARS},
            missing=str(meta.get("missing", {}).get("how", "raise")),
            link=_optional_str(meta.get("link"), "link"),
        )
        sampler, saved_design = meta["sampler"], meta["design"]
        emptied, order = list(meta["none_as_empty"]), dict(meta["order"])
    except (KeyError, TypeError, AttributeError, HierbayesError) as err:
        raise FileFormatError(f"{path / MODEL_FILE} is corrupt: missing or bad {err}.") from err
    data_json = _read_json(path / DATA_FILE, "the training data")
    check_data_json(data_json, str(path / DATA_FILE))
    if (path / IDATA_DIR).is_dir():
        check_zarr_store(path / IDATA_DIR)  # before anything is built or decoded
    try:
        data = pd.DataFrame(
            {name: _decode_values(spec) for name, spec in data_json["columns"].items()}
        )
        data.index = _decode_index(data_json["index"])
    except (KeyError, TypeError, ValueError) as err:
        raise FileFormatError(f"{path / DATA_FILE} is corrupt: {err}") from err
    try:
        model = recipe.build(data)
    except HierbayesError as err:
        raise FileFormatError(
            f"The saved data in '{path}' no longer build the saved model: {err}"
        ) from err
    try:
        record = meta.get("missing", {})
        n_dropped = int(record.get("n_dropped", 0))
        dropped = {str(k): int(v) for k, v in dict(record.get("dropped", {})).items()}
    except (TypeError, ValueError, AttributeError) as err:
        raise FileFormatError(f"{path / MODEL_FILE} is corrupt: bad missing record {err}.") from err
    if n_dropped:  # the saved data holds the kept rows; keep the record of the dropped ones
        model.design = replace(model.design, dropped=dropped, n_dropped=n_dropped)
    if recipe.level2_columns != model.design.level2_columns:
        # Level-2 columns the formula does not use are not saved; keep their names as fitted.
        model.design = replace(model.design, level2_columns=dict(recipe.level2_columns))
    mismatch = _compare(saved_design, fingerprint(model.design))
    if mismatch or model.prior_values != recipe.priors:
        raise FileFormatError(
            f"The model rebuilt from '{path}' differs from the saved one "
            f"({mismatch or 'priors'}): the files are corrupt or were changed."
        )
    idata = _read_idata(path / IDATA_DIR, emptied, order)
    diagnostics = check_convergence(idata, emit=False)
    return Fit(idata=idata, model=model, diagnostics=diagnostics, sampler=sampler)


def _optional_str(value: Any, what: str) -> str | None:
    """A saved text field that may be absent (files written before it existed)."""
    if value is None or isinstance(value, str):
        return value
    raise FileFormatError(f"The saved {what} must be a column name, got {type(value).__name__}.")
