"""The schema of a saved fit: every stored field is checked before anything is built from it.

A saved fit is data, not code. :func:`hierbayes.load` reads ``model.json`` and ``data.json`` as
JSON and checks them here against an explicit schema (allowed keys, types, and values: family
names from :data:`hierbayes.families.FAMILIES`, prior distributions from PyMC's registry, the
parameterisations and samplers hierbayes knows, group labels and term names as strings), and
every stored formula against the formula whitelist (:func:`hierbayes.spec.safety.check_formula`),
before the model is rebuilt. The zarr store of the draws is checked too: only the codecs and data
types hierbayes writes are read, so no stored metadata can ask zarr to unpickle anything.

Every failure is a :class:`~hierbayes.errors.FileFormatError` that names the file and the field
("model.json is corrupt: missing or bad 'family' ...").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from hierbayes.errors import FileFormatError, FormulaSyntaxError, HierbayesError
from hierbayes.families import FAMILIES, links_of
from hierbayes.parameterizations import PARAMETERIZATIONS
from hierbayes.spec.safety import check_formula, check_offset
from hierbayes.validate import SAMPLERS

__all__ = ["check_data_json", "check_model_json", "check_zarr_store"]

_HASH = re.compile(r"[0-9a-f]{64}")
_MAX_NAME = 1000

MODEL_KEYS = {
    "format_version": int,
    "hierbayes_version": str,
    "formula": str,
    "family": str,
    "trials": (str, type(None)),
    "level2": dict,
    "level2_columns": dict,
    "priors": dict,
    "user_priors": list,
    "parameterization": dict,
    "sampler": str,
    "design": dict,
    "none_as_empty": list,
    "order": dict,
}
# fields written only when the model has them (offsets, weights, rows dropped for missing values)
OPTIONAL_MODEL_KEYS = {
    "offset": (str, type(None)),
    "weights": (str, type(None)),
    "missing": dict,
    "link": (str, type(None)),  # absent or null: the family's default link
    "sigma": (str, type(None)),
    "shape": (str, type(None)),  # shape= of negativebinomial, gamma
    "phi": (str, type(None)),  # phi= of beta
}
MISSING_KEYS = {"how", "dropped", "n_dropped"}
MISSING_CHOICES = ("raise", "drop")
DESIGN_KEYS = {"fixed_columns", "blocks", "y", "X", "trials"}
OPTIONAL_DESIGN_KEYS = {"offset", "weights", "response_levels", "sigma"}
BLOCK_KEYS = {"name", "factor", "columns", "levels", "Z", "codes"}

# what hierbayes writes with zarr 3 (see hierbayes.io.save); nothing else is read
ZARR_CODECS = frozenset(
    {"bytes", "zstd", "gzip", "blosc", "crc32c", "transpose", "vlen-utf8", "vlen-bytes"}
)
ZARR_DATA_TYPES = frozenset(
    {"bool", "string", "bytes"}
    | {f"{k}{b}" for k in ("int", "uint") for b in (8, 16, 32, 64)}
    | {"float16", "float32", "float64", "complex64", "complex128"}
)
# numpy's fixed-width text ('<U8', 'S8'), which zarr 3 writes as a name with its width
ZARR_FIXED_WIDTH_TYPES = frozenset({"fixed_length_utf32", "null_terminated_bytes"})
ZARR_ARRAY_KEYS = frozenset(
    {
        "attributes",
        "chunk_grid",
        "chunk_key_encoding",
        "codecs",
        "data_type",
        "dimension_names",
        "fill_value",
        "node_type",
        "shape",
        "storage_transformers",
        "zarr_format",
    }
)


class _Check:
    """Raises ``FileFormatError`` naming ``where`` and the field."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, reason: str) -> None:
        raise FileFormatError(f"{self.where} is corrupt: missing or bad '{key}' ({reason}).")

    def that(self, ok: bool, key: str, reason: str) -> None:
        if not ok:
            self.fail(key, reason)

    def keys(self, value: Any, allowed: Any, key: str, *, required: bool = True) -> None:
        self.that(isinstance(value, dict), key, "expected an object")
        unknown = sorted(str(k) for k in set(value) - set(allowed))
        self.that(not unknown, _join(key, unknown[0] if unknown else ""), "unknown field")
        if required:
            missing = sorted(set(allowed) - set(value))
            self.that(not missing, _join(key, missing[0] if missing else ""), "missing")

    def name(self, value: Any, key: str) -> str:
        self.that(
            isinstance(value, str) and 0 < len(value) <= _MAX_NAME,
            key,
            f"expected a name (text), got {_show(value)}",
        )
        return value

    def names(self, value: Any, key: str) -> list[str]:
        self.that(isinstance(value, list), key, f"expected a list of names, got {_show(value)}")
        for i, item in enumerate(value):
            self.name(item, f"{key}[{i}]")
        return value

    def name_map(self, value: Any, key: str) -> None:
        self.that(isinstance(value, dict), key, "expected an object")
        for k, v in value.items():
            self.name(k, key)
            self.names(v, f"{key}.{k}")

    def digest(self, value: Any, key: str, *, optional: bool = False) -> None:
        if optional and value is None:
            return
        self.that(
            isinstance(value, str) and _HASH.fullmatch(value) is not None,
            key,
            "expected a SHA-256 hex digest",
        )


def _join(key: str, sub: str) -> str:
    return f"{key}.{sub}" if key and sub else key or sub


def _show(value: Any) -> str:
    text = repr(value)
    return (text[:60] + "...") if len(text) > 60 else text


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _formula(check: _Check, formula: Any) -> None:
    check.name(formula, "formula")
    try:
        check_formula(formula)
    except FormulaSyntaxError as err:
        raise FileFormatError(
            f"{check.where} is corrupt: missing or bad 'formula': the stored formula is not "
            f"allowed, so the model is not rebuilt from it. {err}"
        ) from err


def _sigma(check: _Check, formula: str, name: str = "sigma") -> None:
    from hierbayes.spec.dpar import parse_dpar_formula

    try:
        parse_dpar_formula(formula, name)  # the whitelist, as for the formula
    except HierbayesError as err:
        raise FileFormatError(
            f"{check.where} is corrupt: bad '{name}': the stored {name} formula is not allowed, "
            f"so the model is not rebuilt from it. {err}"
        ) from err


def _offset(check: _Check, offset: str) -> None:
    try:
        check_offset(offset)
    except FormulaSyntaxError as err:
        raise FileFormatError(
            f"{check.where} is corrupt: bad 'offset': the stored offset is not allowed, so the "
            f"model is not rebuilt from it. {err}"
        ) from err


def _priors(check: _Check, priors: dict[str, Any], is_distribution: Callable[[str], bool]) -> None:
    for name, prior in priors.items():
        key = f"priors.{name}"
        check.name(name, "priors")
        check.keys(prior, {"dist", "params"}, key)
        dist = check.name(prior["dist"], f"{key}.dist")
        check.that(is_distribution(dist), f"{key}.dist", f"unknown distribution {dist!r}")
        check.that(isinstance(prior["params"], dict), f"{key}.params", "expected an object")
        for param, value in prior["params"].items():
            check.name(param, f"{key}.params")
            values = value if isinstance(value, list) else [value]
            check.that(
                bool(values) and all(_is_number(v) for v in values),
                f"{key}.params.{param}",
                f"expected a number or a list of numbers, got {_show(value)}",
            )


def _missing(check: _Check, record: Any) -> None:
    check.keys(record, MISSING_KEYS, "missing")
    how = record["how"]
    check.that(
        how in MISSING_CHOICES,
        "missing.how",
        f"expected one of {', '.join(MISSING_CHOICES)}, got {_show(how)}",
    )
    n = record["n_dropped"]
    check.that(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0,
        "missing.n_dropped",
        f"expected a count, got {_show(n)}",
    )
    check.that(isinstance(record["dropped"], dict), "missing.dropped", "expected an object")
    for column, count in record["dropped"].items():
        check.name(column, "missing.dropped")
        check.that(
            isinstance(count, int) and not isinstance(count, bool) and count >= 0,
            f"missing.dropped.{column}",
            f"expected a count, got {_show(count)}",
        )


def _design(check: _Check, design: Any) -> None:
    check.keys(design, DESIGN_KEYS | OPTIONAL_DESIGN_KEYS, "design", required=False)
    check.keys({k: v for k, v in design.items() if k in DESIGN_KEYS}, DESIGN_KEYS, "design")
    for key in {"offset", "weights"} & set(design):
        check.digest(design[key], f"design.{key}")
    if "response_levels" in design:  # an ordinal response's categories
        check.names(design["response_levels"], "design.response_levels")
    check.names(design["fixed_columns"], "design.fixed_columns")
    check.digest(design["y"], "design.y")
    check.digest(design["X"], "design.X")
    check.digest(design["trials"], "design.trials", optional=True)
    blocks = design["blocks"]
    check.that(isinstance(blocks, list), "design.blocks", "expected a list")
    for i, block in enumerate(blocks):
        key = f"design.blocks[{i}]"
        check.keys(block, BLOCK_KEYS, key)
        check.name(block["name"], f"{key}.name")
        check.name(block["factor"], f"{key}.factor")
        check.names(block["columns"], f"{key}.columns")
        check.names(block["levels"], f"{key}.levels")
        check.digest(block["Z"], f"{key}.Z")
        check.digest(block["codes"], f"{key}.codes")


def check_model_json(meta: Any, where: str) -> None:
    """Check a loaded ``model.json`` (``where`` names it in messages).

    Examples
    --------
    >>> check_model_json({"format_version": 1}, "model.json")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FileFormatError: model.json is corrupt: missing or bad 'design' (missing).
    """
    from hierbayes.build.priors import is_distribution

    check = _Check(where)
    check.keys(meta, MODEL_KEYS | OPTIONAL_MODEL_KEYS, "", required=False)
    check.keys({k: v for k, v in meta.items() if k in MODEL_KEYS}, MODEL_KEYS, "")
    for key, kind in (MODEL_KEYS | OPTIONAL_MODEL_KEYS).items():
        if key not in meta:
            continue
        value = meta[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        check.that(ok, key, f"expected {getattr(kind, '__name__', 'text or null')}")
    for key in ("offset", "weights"):
        if meta.get(key) is not None:
            check.name(meta[key], key)
    if meta.get("offset") is not None:
        _offset(check, meta["offset"])
    if "missing" in meta:
        _missing(check, meta["missing"])
    _formula(check, meta["formula"])
    for name in ("sigma", "shape", "phi"):  # a distributional parameter's formula
        if meta.get(name) is not None:
            _sigma(check, meta[name], name)
    check.that(
        meta["family"] in FAMILIES,
        "family",
        f"unknown family {meta['family']!r}; known: {', '.join(sorted(FAMILIES))}",
    )
    if meta["family"] in FAMILIES and isinstance(meta.get("link"), str):
        links = links_of(meta["family"])
        check.that(
            meta["link"] in links,
            "link",
            f"the {meta['family']} family has no link {meta['link']!r}; known: {', '.join(links)}",
        )
    if meta["trials"] is not None:
        check.name(meta["trials"], "trials")
    check.name_map(meta["level2"], "level2")
    check.name_map(meta["level2_columns"], "level2_columns")
    _priors(check, meta["priors"], is_distribution)
    for i, name in enumerate(check.names(meta["user_priors"], "user_priors")):
        check.that(name in meta["priors"], f"user_priors[{i}]", f"{name!r} is not a prior")
    for term, values in meta["parameterization"].items():
        check.name(term, "parameterization")
        for i, value in enumerate(check.names(values, f"parameterization.{term}")):
            check.that(
                value in PARAMETERIZATIONS,
                f"parameterization.{term}[{i}]",
                f"expected one of {', '.join(PARAMETERIZATIONS)}, got {value!r}",
            )
    check.that(meta["sampler"] in SAMPLERS, "sampler", f"unknown sampler {meta['sampler']!r}")
    _design(check, meta["design"])
    check.names(meta["none_as_empty"], "none_as_empty")
    check.name_map(meta["order"], "order")


_PLAIN_DTYPES = re.compile(
    r"(bool|boolean|object|string|str|u?int(8|16|32|64)|U?Int(8|16|32|64)|float(16|32|64)|"
    r"Float(32|64))"
)


def _column(check: _Check, spec: Any, key: str, *, categorical: bool = True) -> int:
    """Check one column's encoding; return its length."""
    kinds = {"plain", "categorical"} if categorical else {"plain"}
    check.that(isinstance(spec, dict) and spec.get("kind") in kinds, f"{key}.kind", "bad kind")
    if spec["kind"] == "categorical":
        check.keys(spec, {"kind", "categories", "ordered", "codes"}, key)
        n_categories = _column(check, spec["categories"], f"{key}.categories", categorical=False)
        check.that(isinstance(spec["ordered"], bool), f"{key}.ordered", "expected true/false")
        codes = spec["codes"]
        check.that(
            isinstance(codes, list)
            and all(_is_integer(c) and -1 <= c < n_categories for c in codes),
            f"{key}.codes",
            "expected a list of category numbers",
        )
        return len(codes)
    check.keys(spec, {"kind", "dtype", "values"}, key)
    dtype = spec["dtype"]
    check.that(
        isinstance(dtype, str) and _PLAIN_DTYPES.fullmatch(dtype) is not None,
        f"{key}.dtype",
        f"expected a number, boolean or text dtype, got {_show(dtype)}",
    )
    values = spec["values"]
    check.that(
        isinstance(values, list)
        and all(v is None or isinstance(v, bool | int | float | str) for v in values),
        f"{key}.values",
        "expected a list of numbers, booleans or strings",
    )
    try:
        pd.Series(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as err:
        check.fail(f"{key}.values", f"do not fit dtype {dtype}: {err}")
    return len(values)


def check_data_json(data: Any, where: str) -> None:
    """Check a loaded ``data.json``: columns of equal length, labels of the same length.

    Examples
    --------
    >>> check_data_json({"columns": [], "index": {}}, "data.json")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FileFormatError: data.json is corrupt: missing or bad 'columns' ...
    """
    check = _Check(where)
    check.keys(data, {"columns", "index"}, "")
    columns, index = data["columns"], data["index"]
    check.that(isinstance(columns, dict), "columns", "expected an object of columns")
    lengths = {name: _column(check, spec, f"columns.{name}") for name, spec in columns.items()}
    check.that(isinstance(index, dict), "index", "expected an object")
    if index.get("kind") == "range":
        check.keys(index, {"kind", "start", "stop", "step"}, "index")
        ok = all(_is_integer(index[k]) for k in ("start", "stop", "step"))
        check.that(ok and index["step"] != 0, "index", "expected integer start, stop and step")
        n = len(range(index["start"], index["stop"], index["step"]))
    else:
        check.keys(index, {"kind", "values"}, "index")
        check.that(index["kind"] == "values", "index.kind", "bad kind")
        n = _column(check, index["values"], "index.values")
    for name, length in lengths.items():
        check.that(length == n, f"columns.{name}", f"{length} values for {n} rows")


def _plain_data_type(data_type: Any) -> bool:
    """A zarr 3 data type hierbayes writes: a plain name, or fixed-width text with its width.

    Examples
    --------
    >>> _plain_data_type("float64"), _plain_data_type({"name": "object"})
    (True, False)
    >>> _plain_data_type({"name": "fixed_length_utf32", "configuration": {"length_bytes": 8}})
    True
    """
    if isinstance(data_type, str):
        return data_type in ZARR_DATA_TYPES
    if not isinstance(data_type, dict) or set(data_type) != {"name", "configuration"}:
        return False
    config = data_type["configuration"]
    return (
        data_type["name"] in ZARR_FIXED_WIDTH_TYPES
        and isinstance(config, dict)
        and set(config) == {"length_bytes"}
        and type(config["length_bytes"]) is int
        and 0 < config["length_bytes"] <= 1 << 20
    )


def check_zarr_store(path: Path) -> None:
    """Only zarr 3 metadata with the codecs and data types hierbayes writes.

    zarr can be told by a store's metadata to decode chunks with any registered codec,
    pickle-based object codecs included; a saved fit's store may only use the plain ones in
    :data:`ZARR_CODECS`.
    """
    where = _Check(str(path))
    for file in sorted(path.rglob("*")):
        if file.is_symlink():
            where.fail(str(file.relative_to(path)), "a link; a saved fit holds only files")
        if file.name in (".zarray", ".zgroup", ".zattrs", ".zmetadata"):
            where.fail(str(file.relative_to(path)), "zarr 2 metadata; hierbayes writes zarr 3")
        if file.name != "zarr.json" or not file.is_file():
            continue
        rel = str(file.relative_to(path))
        try:
            meta = json.loads(file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise FileFormatError(f"The posterior draws in {path} cannot be read: {err}") from err
        check = _Check(f"{path} ({rel})")
        check.that(isinstance(meta, dict), rel, "expected an object")
        if meta.get("node_type") != "array":
            continue
        check.keys(meta, ZARR_ARRAY_KEYS, "array", required=False)
        check.that(_plain_data_type(meta.get("data_type")), "data_type", "not a plain type")
        check.that(not meta.get("storage_transformers"), "storage_transformers", "not allowed")
        codecs = meta.get("codecs")
        check.that(isinstance(codecs, list), "codecs", "expected a list")
        for codec in codecs:
            name = codec.get("name") if isinstance(codec, dict) else None
            check.that(name in ZARR_CODECS, "codecs", f"codec {_show(name)} is not allowed")
