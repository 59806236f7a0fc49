"""``keep_freed_memory()``: ask glibc's malloc to keep freed memory instead of returning it.

A graph is freed all at once when its loss is dropped: tens of megabytes of arrays. glibc then
trims its heap (and unmaps blocks of 128 KB and more), and the next forward pass faults every
page back in: measured at S3 of the benchmark (B=64, H=256, T=50), that was 20% of a training
step. Raising the trim and mmap thresholds keeps that memory for the next step, as PyTorch's
caching allocator does. It is process-wide, so it is opt-in; the benchmark turns it on for
every implementation it times. The cost: the process's resident size stays at its peak.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(trim_mb: int = 512, mmap_mb: int = 32) -> bool:
    """Set glibc's M_TRIM_THRESHOLD and M_MMAP_THRESHOLD (in MB); False where there is no glibc.

    mmap_mb is capped at 32 (glibc's limit on 64-bit systems).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    trimmed = mallopt(_M_TRIM_THRESHOLD, trim_mb * 1024 * 1024)
    mapped = mallopt(_M_MMAP_THRESHOLD, min(mmap_mb, 32) * 1024 * 1024)
    return bool(trimmed and mapped)
