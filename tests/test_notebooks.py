"""Every tutorial notebook runs top to bottom (with the small draws it sets for itself)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        extra_arguments=[],
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert "simplefilter" not in cell.source  # notebooks do not hide warnings
            stderr = "".join(
                o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr"
            )
            # at most one warning per call that fits (a study's replicates are one call)
            calls = sum(cell.source.count(c) for c in (".fit(", "hb.power(", "hb.sbc("))
            assert stderr.count("ConvergenceWarning") <= calls
