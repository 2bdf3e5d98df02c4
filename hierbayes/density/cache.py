"""Whether numba's on-disk cache already holds the compiled log-density kernel."""

from __future__ import annotations

__all__ = ["kernel_cached"]


def kernel_cached() -> bool:
    """True when the kernel's machine code is in numba's cache for this source and machine, so
    the first fit of the session loads it instead of compiling it (about 5 minutes on 2 cores).

    Reads numba's cache index of the kernel's entry point (the index is stamped with the source
    file, so an edited or upgraded kernel counts as not cached). Any doubt answers False.

    Examples
    --------
    >>> kernel_cached() in (True, False)
    True
    """
    try:
        from hierbayes.density import kernel

        index = kernel.logp_grad._cache._cache_file._load_index()
    except Exception:  # numba's cache internals moved, or no cache directory: assume cold
        return False
    return bool(index)
