"""Renew numba's on-disk cache of the kernel when a family module changes.

numba checks a cached function against the stamp (time, size) of its own source file only; the
kernel's modules (:mod:`hierbayes.density.kernel` and the modules it calls) and
:mod:`hierbayes.families.dispatch` compile the families' row functions and each other's functions
into their own machine code, so after an edit of one of them the others' cache would be stale. This
widens the stamp of those files to include every module of :mod:`hierbayes.families` and of the
kernel; other files (and other packages) keep numba's own stamp.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numba.core import caching

_FAMILIES = Path(__file__).resolve().parent
_DENSITY = _FAMILIES.parent / "density"
# the kernel's modules: each compiles the functions it calls from the others into its own code
_KERNEL = (
    "codes.py",
    "table.py",
    "prior_density.py",
    "expanded.py",
    "pairs.py",
    "effects_q1.py",
    "effects_partial.py",
    "fixed_cells.py",
    "effects.py",
    "shear.py",
    "marginal.py",
    "ordered.py",
    "kernel.py",
    "nested_tree.py",
    "nested_q1.py",
    "nested_marginal.py",
    "nested_draws.py",
    "dpar_density.py",
    "crossed_marginal.py",
    "laplace_rows.py",
    "laplace.py",
    "agq.py",
    "agq_rows.py",
    "agq_check.py",
    "laplace_draws.py",
    "laplace_sparse.py",
    "laplace_joint.py",
    "laplace_joint_draws.py",
)
# every family module too: each compiles the helpers of _math.py into its own code
_DEPENDENT = {str(p) for p in _FAMILIES.glob("*.py")} | {str(_DENSITY / name) for name in _KERNEL}
_mixin: Any = getattr(caching, "_SourceFileBackedLocatorMixin", None)


def _families_stamp() -> tuple[tuple[str, float, int], ...]:
    stamps = []
    for path in [*sorted(_FAMILIES.glob("*.py")), *(_DENSITY / name for name in _KERNEL)]:
        st = os.stat(path)
        stamps.append((path.name, st.st_mtime, st.st_size))
    return tuple(stamps)


def install() -> None:
    """Widen the source stamp of the kernel's files (idempotent; a no-op on a numba without
    the mixin, where the cache then follows numba's own rule)."""
    if _mixin is None or getattr(_mixin.get_source_stamp, "_hierbayes", False):
        return
    original = _mixin.get_source_stamp

    def get_source_stamp(self: Any) -> Any:
        stamp = original(self)
        if str(Path(getattr(self, "_py_file", "")).resolve()) in _DEPENDENT:
            return (stamp, _families_stamp())
        return stamp

    get_source_stamp._hierbayes = True  # type: ignore[attr-defined]
    _mixin.get_source_stamp = get_source_stamp
