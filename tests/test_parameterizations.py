"""One list of parameterisation names for the model builder and the reader of saved fits."""

from __future__ import annotations

import subprocess
import sys

from hierbayes import schema
from hierbayes.build import groups
from hierbayes.parameterizations import PARAMETERIZATIONS


def test_the_builder_and_the_saved_fit_reader_share_one_list() -> None:
    assert groups.PARAMETERIZATIONS is PARAMETERIZATIONS
    assert schema.PARAMETERIZATIONS is PARAMETERIZATIONS
    assert len(set(PARAMETERIZATIONS)) == len(PARAMETERIZATIONS)


def test_the_list_loads_without_pymc() -> None:
    code = (
        "import sys; import hierbayes.parameterizations; "
        "assert 'pymc' not in sys.modules and 'pytensor' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
