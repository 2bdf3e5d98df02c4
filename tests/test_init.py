"""``import hierbayes`` is light: PyMC, matplotlib, ArviZ and numba load only when needed."""

from __future__ import annotations

import subprocess
import sys

import hierbayes as hb

HEAVY = ("pymc", "pytensor", "matplotlib", "arviz", "arviz_plots", "arviz_stats", "numba")


def test_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, hierbayes as hb; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})); "
        "print(hb.ConvergenceWarning.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    loaded, warning = result.stdout.strip().splitlines()
    assert loaded == "[]"
    assert warning == "ConvergenceWarning"


def test_public_names_load_on_first_use() -> None:
    assert set(hb.__all__) <= set(dir(hb))
    for name in hb.__all__:
        assert getattr(hb, name) is not None
    assert hb.Model.__module__ == "hierbayes.model"
    assert hb.plots.__name__ == "hierbayes.plots"  # subpackages too
    try:
        hb.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no attribute 'no_such_name'" in str(err)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
