"""``hierbayes fit ... --output DIR``: the fit saved for :func:`hierbayes.load` and its tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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
    taken = [name for name in OUTPUT_FILES if (folder / name).exists()]
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
    (folder / "summary.txt").write_text(str(fit.summary()) + "\n", encoding="utf-8")
    fit.fixef().to_csv(folder / "fixef.csv")
    fit.varcorr().to_csv(folder / "varcorr.csv", index=False)
    if fit.design.blocks:
        fit.ranef().to_csv(folder / "ranef.csv", index=False)
        fit.coef().to_csv(folder / "coef.csv", index=False)
    fit.diagnostics.table.to_csv(folder / "diagnostics.csv")
    return folder
