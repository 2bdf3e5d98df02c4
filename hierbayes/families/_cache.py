"""Renew numba's on-disk cache of the kernel when a family module changes.

numba checks a cached function against the stamp (time, size) of its own source file only; the
kernel (:mod:`hierbayes.density.kernel`) and :mod:`hierbayes.families.dispatch` compile the
families' row functions into their own machine code, so after an edit of a family module their
cache would be stale. This widens the stamp of those two files to include every module of
:mod:`hierbayes.families`; other files (and other packages) keep numba's own stamp.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numba.core import caching

_FAMILIES = Path(__file__).resolve().parent
_DEPENDENT = {
    str(_FAMILIES / "dispatch.py"),
    str(_FAMILIES.parent / "density" / "kernel.py"),
}
_mixin: Any = getattr(caching, "_SourceFileBackedLocatorMixin", None)


def _families_stamp() -> tuple[tuple[str, float, int], ...]:
    stamps = []
    for path in sorted(_FAMILIES.glob("*.py")):
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
