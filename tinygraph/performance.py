"""The performance switches: pausing the cyclic garbage collector, and keeping freed memory.

Neither changes a single number the engine computes; both are about what the Python process
and the C allocator do around a large graph.

``pause_gc``: pause Python's cyclic garbage collector while a large graph is recorded or walked.

The engine creates no reference cycles (a node refers to its output only weakly), so every
graph is freed by reference counting alone. While thousands of nodes are recorded, though, the
collector's full passes rescan the whole growing graph and every other object in the process
(with PyTorch or a notebook loaded, hundreds of thousands): measured here, that doubled the
time of a 2,000-step unroll. Long loops (the backward pass, an RNN's time loop) pause it and
restore the previous setting afterwards; any cycles made meanwhile are collected later.

After a pause the collector still meets every object made during it once, in its next young
collection, and again in older ones while the graph lives: 6 ms of a 95 ms training step at the
benchmark's S4. A whole training step (forward, backward, update, then dropping the loss) in
``with tg.pause_gc():`` frees the graph by reference counting before the collector ever sees it;
``rnn.train`` does that.

``keep_freed_memory``: ask glibc's malloc to keep freed memory instead of returning it.

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
import gc


class pause_gc:  # noqa: N801 (used like a function: ``with pause_gc():``)
    """Disable automatic collection inside the block; re-enable it if it was on before.

    Nests: an inner block leaves the collector off when it ends inside an outer one.
    """

    __slots__ = ("saved",)

    def __init__(self) -> None:
        self.saved: list[bool] = []  # one entry per open block (the same object may nest)

    def __enter__(self) -> None:
        self.saved.append(gc.isenabled())
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.saved.pop():
            gc.enable()

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
