"""What a saved-fit folder may hold: the checks before one is replaced or read.

:meth:`hierbayes.Fit.save` with ``overwrite=True`` replaces a folder only when it is a saved fit
(the entries hierbayes writes and nothing else, with a readable ``model.json``), so that a
mistyped path never deletes someone's files. :func:`hierbayes.load` reads only the folder's own
files: a symbolic link inside it (to a ``model.json``, ``data.json`` or draws elsewhere) is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hierbayes.errors import FileFormatError, PathExistsError

__all__ = ["SAVED_ENTRIES", "check_no_links", "check_replaceable", "read_json"]

SAVED_ENTRIES = ("model.json", "data.json", "idata.zarr")
"""The entries of a saved-fit folder: two JSON files and the zarr store of the draws."""


def read_json(path: Path, what: str) -> object:
    """Parse a JSON file of a saved fit; anything unreadable is a :class:`FileFormatError`.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "model.json"
    >>> _ = p.write_text("[" * 100000 + "]" * 100000)
    >>> read_json(p, "the model description")
    Traceback (most recent call last):
    ...
    hierbayes.errors.FileFormatError: ... (the model description) is corrupt: nested too deeply.
    """
    try:
        return json.loads(path.read_text())
    except RecursionError:
        raise FileFormatError(f"{path} ({what}) is corrupt: nested too deeply.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise FileFormatError(f"{path} ({what}) is corrupt: {err}") from err


def check_replaceable(path: Path) -> None:
    """Refuse to replace a folder that is not an (empty folder or a) saved fit.

    Raises
    ------
    PathExistsError
        Naming the folder and what in it is not part of a saved fit.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "model.json").write_text("{}")
    >>> _ = (folder / "thesis.tex").write_text("...")
    >>> check_replaceable(folder)
    Traceback (most recent call last):
    ...
    hierbayes.errors.PathExistsError: '...' does not hold a saved fit: it holds 'thesis.tex', ...
    """
    names = sorted(entry.name for entry in path.iterdir())
    if not names:
        return
    extra = [name for name in names if name not in SAVED_ENTRIES]
    if extra:
        _refuse(path, f"holds {extra[0]!r}, which is not part of a saved fit")
    for name in names:
        entry = path / name
        if entry.is_symlink() or entry.is_dir() != (name == "idata.zarr"):
            _refuse(path, f"holds {name!r}, which is not as hierbayes writes it")
    if "model.json" not in names:
        _refuse(path, "has no model.json")
    try:
        meta = read_json(path / "model.json", "the model description")
    except FileFormatError:
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("format_version"), int):
        _refuse(path, "has a model.json that is not a saved fit's (no format_version)")


def _refuse(path: Path, why: str) -> None:
    raise PathExistsError(
        f"'{path}' does not hold a saved fit: it {why}; hierbayes replaces only a saved fit's "
        "folder, even with overwrite=True. Choose another path, or remove the folder yourself."
    )


def check_no_links(path: Path) -> None:
    """Refuse a saved-fit folder with a symbolic link among its files (reads stay inside it).

    Raises
    ------
    FileFormatError
        Naming the link.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "model.json").symlink_to("/etc/hostname")
    >>> check_no_links(folder)
    Traceback (most recent call last):
    ...
    hierbayes.errors.FileFormatError: '.../model.json' is a symbolic link; ...
    """
    for name in SAVED_ENTRIES:
        entry = path / name
        if entry.is_symlink():
            _link(entry)
    store = path / "idata.zarr"
    if store.is_dir():
        for root, dirs, files in os.walk(store):
            for name in (*dirs, *files):
                if os.path.islink(os.path.join(root, name)):
                    _link(Path(root) / name)


def _link(entry: Path) -> None:
    raise FileFormatError(
        f"'{entry}' is a symbolic link; a saved fit is read only from its own files, so it "
        "cannot be loaded. Copy the real file into the folder instead."
    )
