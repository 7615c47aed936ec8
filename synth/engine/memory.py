"""Allocator settings for processes that render: keep freed memory for the next sample.

glibc returns freed memory above its trim threshold to the OS, and serves large blocks with fresh mmaps,
so every big image buffer of a sample is paged in again by the next one: on a 768x1024 receipt that was
~8,000 page faults and ~15 ms per sample. Raising both thresholds keeps those pages in the process
(bounded by the trim threshold) and reuses them.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_done = False


def keep_freed_memory(mmap_threshold: int = 64 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Apply once per process; True when the C library is glibc and took the settings."""
    global _done
    if _done:
        return True
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl): their allocators behave differently
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    return _done
