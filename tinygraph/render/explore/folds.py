"""Which steps the explorer draws side by side, and how a long sequence folds.

The steps are cut into *windows* of at most ``WINDOW`` steps, each drawn as its own picture;
a *fold* stands for a run of steps not drawn and opens into at most ``BRANCHES`` parts
(windows, or smaller folds). At first the page shows the first and last steps
(``max_steps`` in all, 8 by default, as ``tg.draw`` folds) and one fold between them, so
T = 256 opens in three clicks and never needs a picture of more than a few windows side by
side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WINDOW = 8     # steps drawn in one picture
KEEP = 4       # steps shown on each side of the first fold
BRANCHES = 8   # parts a fold opens into


@dataclass
class Segment:
    """Steps ``start`` .. ``stop - 1`` (indices into the picture's times): a window (the
    ``window``-th picture) or a fold that opens into ``parts``."""

    start: int
    stop: int
    window: int | None = None
    parts: list[Segment] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """``{"a", "b", "w"}`` for a window, ``{"a", "b", "parts"}`` for a fold."""
        if self.window is not None:
            return {"a": self.start, "b": self.stop, "w": self.window}
        return {"a": self.start, "b": self.stop, "parts": [p.as_json() for p in self.parts]}


def fold_tree(count: int, max_steps: int | None = WINDOW) -> list[Segment]:
    """The segments first shown for ``count`` steps (windows numbered left to right): the
    first (max_steps+1)//2 and the last max_steps//2 steps around one fold, or, for up to
    ``max_steps + KEEP`` steps, one window; ``max_steps=None`` shows every step, in windows."""
    if not count:
        top: list[Segment] = []
    elif max_steps is None:
        top = [Segment(a, min(a + WINDOW, count)) for a in range(0, count, WINDOW)]
    elif count <= max_steps + KEEP:                # too short to be worth a fold
        top = [Segment(0, count)]
    else:
        head, tail = (max_steps + 1) // 2, max(max_steps // 2, 1)
        top = [Segment(0, head), _fold(head, count - tail), Segment(count - tail, count)]
    number = 0
    stack = list(reversed(top))
    while stack:                                  # number the windows in step order
        segment = stack.pop()
        if segment.parts:
            stack.extend(reversed(segment.parts))
        else:
            segment.window = number
            number += 1
    return top


def windows(top: list[Segment]) -> list[tuple[int, int]]:
    """(start, stop) of every window, in their numbering."""
    found: list[tuple[int, int, int]] = []
    stack = list(top)
    while stack:
        segment = stack.pop()
        if segment.window is not None:
            found.append((segment.window, segment.start, segment.stop))
        stack.extend(segment.parts)
    return [(a, b) for _, a, b in sorted(found)]


def _fold(start: int, stop: int) -> Segment:
    """A fold of steps start..stop-1, its parts split as evenly as possible."""
    fold = Segment(start, stop)
    stack = [fold]
    while stack:
        segment = stack.pop()
        count = segment.stop - segment.start
        pieces = -(-count // WINDOW)
        leaf = pieces <= BRANCHES
        parts = pieces if leaf else BRANCHES
        at = segment.start
        for k in range(parts):
            size = count // parts + (1 if k < count % parts else 0)
            part = Segment(at, at + size)
            segment.parts.append(part)
            if not leaf and size > WINDOW:
                stack.append(part)
            at += size
    return fold
