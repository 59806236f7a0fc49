"""Checkpointed unrolls: a time loop cut into segments of k steps, each one ``tg.checkpoint``.

With ``checkpoint_every=k`` a segment keeps only the states entering it and its outputs (the
states leaving it and, for ``rnn.RNN``, the top layer's h_t), and is recomputed in the
backward pass. Over T steps that is T/k states plus, during the backward pass, one segment's
graph: k = ⌈√T⌉ (``"sqrt"``) makes both about √T, for about one extra forward pass. The
gradients are those of the plain unroll, bit for bit (see ``tinygraph.checkpoint``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError
from rnn.sequences import State, state_tensors

Every = int | str | None
SQRT = "sqrt"
_DEFAULT: list[Every] = [None]  # rnn.train's setting for the networks a loss_fn runs


def check_every(every: object, where: str) -> Every:
    """``checkpoint_every``: None (no checkpoints), an int k >= 1, or "sqrt" (k = ⌈√T⌉)."""
    if every is None or every == SQRT:
        return every
    if isinstance(every, (bool, np.bool_)) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ConfigError(
            f"{where}: checkpoint_every must be None, a positive int (steps per segment) or "
            f"'sqrt' (⌈√T⌉ steps), got {every!r}"
        )
    return int(every)


def segment_length(every: Every, steps: int) -> int | None:
    """k for a loop of ``steps`` steps: None without checkpoints, ⌈√steps⌉ for "sqrt"."""
    if every == SQRT:
        return math.isqrt(steps - 1) + 1 if steps > 1 else 1
    return every


def segments(start: int, stop: int, every: int | None, cuts: Iterable[int] = ()) -> list[
        tuple[int, int]]:
    """[start, stop) as pieces (lo, hi) of at most ``every`` steps (one piece for None) that
    also end at every cut inside the range."""
    ends = sorted({c for c in cuts if start < c < stop} | {stop})
    pieces, lo = [], start
    for end in ends:
        step = every or end - lo
        for piece in range(lo, end, step):
            pieces.append((piece, min(piece + step, end)))
        lo = end
    return pieces


@contextmanager
def checkpointing(every: Every) -> Iterator[None]:
    """Inside the block, every ``rnn.RNN`` without a ``checkpoint_every`` of its own uses
    ``every`` (``rnn.train(..., checkpoint_every=k)`` wraps each loss_fn call in it)."""
    before = _DEFAULT[0]
    _DEFAULT[0] = every
    try:
        yield
    finally:
        _DEFAULT[0] = before


def default_every() -> Every:
    """The setting of the innermost ``checkpointing`` block (None outside any)."""
    return _DEFAULT[0]


Layout = list[tuple[type | None, int]]  # per layer: the state's container (None: a Tensor), size


def flatten(states: Sequence[State]) -> tuple[list[tg.Tensor], Layout]:
    """Every layer's state as one flat list of Tensors, and how to put them back."""
    flat: list[tg.Tensor] = []
    layout: Layout = []
    for state in states:
        tensors = state_tensors(state)
        layout.append((type(state) if isinstance(state, (tuple, list)) else None, len(tensors)))
        flat.extend(tensors)
    return flat, layout


def unflatten(flat: Sequence[tg.Tensor], layout: Layout) -> list[State]:
    """The inverse of ``flatten``."""
    states: list[State] = []
    index = 0
    for kind, size in layout:
        part = list(flat[index:index + size])
        states.append(part[0] if kind is None else kind(part))
        index += size
    return states


def named(fn: Any, first: int, last: int) -> Any:
    """fn, named after the steps it runs (``checkpoint[t=0..9]`` in tables and pictures)."""
    fn.__name__ = f"t={first}..{last}"
    return fn
