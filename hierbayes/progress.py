"""Whether to show the sampler's progress bar when the caller did not say."""

from __future__ import annotations

import os
import sys

__all__ = ["interactive", "resolve_progressbar"]


def _in_jupyter_kernel() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def interactive() -> bool:
    """True in a Jupyter kernel or when standard output is a terminal, False when the ``CI``
    environment variable is set (to anything but ``""``, ``"0"`` or ``"false"``).

    Examples
    --------
    >>> interactive() in (True, False)
    True
    """
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        return False
    if _in_jupyter_kernel():
        return True
    stdout = sys.stdout
    try:
        return stdout is not None and stdout.isatty()
    except (AttributeError, ValueError):  # replaced or closed stdout
        return False


def resolve_progressbar(progressbar: bool | None) -> bool:
    """``progressbar`` when given, else :func:`interactive`.

    Examples
    --------
    >>> resolve_progressbar(True), resolve_progressbar(False)
    (True, False)
    """
    return interactive() if progressbar is None else bool(progressbar)
