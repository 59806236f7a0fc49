"""Pause Python's cyclic garbage collector while a large graph is recorded or walked.

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
"""

from __future__ import annotations

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
