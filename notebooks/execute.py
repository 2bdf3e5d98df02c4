"""Run the tutorial notebooks top to bottom and save them with their outputs.

    uv run python notebooks/execute.py [NOTEBOOK ...]

The notebooks set their own seeds; this script runs each in a fresh kernel with ``CI=1`` (no
progress bars in the saved outputs), figures as PNG at 72 dpi, and without per-cell timing
metadata, so that the committed files stay small and change only when their results do.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

#: run before the notebook's first cell, in the same kernel: PNG figures of modest size
SETUP = (
    "%config InlineBackend.figure_formats = ['png']\n"
    "%config InlineBackend.rc = {'figure.dpi': 72, 'savefig.dpi': 72}\n"
)


def execute(path: Path) -> float:
    """Execute ``path`` in place; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    setup = nbformat.v4.new_code_cell(SETUP)
    notebook.cells.insert(0, setup)
    os.environ["CI"] = "1"
    client = NotebookClient(
        notebook,
        timeout=1800,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    notebook.cells.pop(0)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = None
    nbformat.write(notebook, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        seconds = execute(path)
        size = path.stat().st_size / 1024
        print(f"{path.name}: {seconds:.0f} s, {size:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
