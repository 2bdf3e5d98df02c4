"""``hierbayes fit ... --output DIR``: the fit saved for :func:`hierbayes.load` and its tables."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hierbayes.errors import PathExistsError

if TYPE_CHECKING:
    from hierbayes.fit import Fit

__all__ = ["OUTPUT_FILES", "check_output", "write_output"]

OUTPUT_FILES = (
    "fit",
    "summary.txt",
    "fixef.csv",
    "varcorr.csv",
    "ranef.csv",
    "coef.csv",
    "diagnostics.csv",
)
"""What ``--output DIR`` writes into DIR (``ranef.csv`` and ``coef.csv`` only with group terms)."""


def check_output(directory: str | Path) -> Path:
    """``directory`` as a Path; :class:`~hierbayes.errors.PathExistsError` when it holds any of
    :data:`OUTPUT_FILES` (checked before fitting, so that no fit is thrown away)."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise PathExistsError(f"--output '{folder}' is a file; give a folder.")
    # lexists: a symbolic link counts as taken even when it points nowhere (it is never followed)
    taken = [name for name in OUTPUT_FILES if os.path.lexists(folder / name)]
    if taken:
        raise PathExistsError(
            f"--output folder '{folder}' already holds {', '.join(taken)}; choose a new folder "
            "or remove them."
        )
    return folder


def write_output(fit: Fit, directory: str | Path) -> Path:
    """Save ``fit`` to ``directory/fit`` and write its summary and tables into ``directory``.

    ``directory`` is created; it may exist, but none of :data:`OUTPUT_FILES` may be in it (a
    :class:`~hierbayes.errors.PathExistsError` otherwise: nothing is overwritten).
    """
    folder = check_output(directory)
    folder.mkdir(parents=True, exist_ok=True)
    fit.save(folder / "fit")
    _write(folder, "summary.txt", lambda f: f.write(str(fit.summary()) + "\n"))
    _write(folder, "fixef.csv", lambda f: fit.fixef().to_csv(f))
    _write(folder, "varcorr.csv", lambda f: fit.varcorr().to_csv(f, index=False))
    if fit.design.blocks:
        _write(folder, "ranef.csv", lambda f: fit.ranef().to_csv(f, index=False))
        _write(folder, "coef.csv", lambda f: fit.coef().to_csv(f, index=False))
    _write(folder, "diagnostics.csv", lambda f: fit.diagnostics.table.to_csv(f))
    return folder


def _write(folder: Path, name: str, write: Callable[[IO[str]], object]) -> None:
    """Create ``folder/name`` (never through a symbolic link, never over a file) and fill it."""
    try:
        with open(folder / name, "x", encoding="utf-8", newline="") as file:
            write(file)
    except FileExistsError:
        raise PathExistsError(
            f"--output folder '{folder}' already holds {name} (a file or a symbolic link); "
            "choose a new folder or remove it."
        ) from None
