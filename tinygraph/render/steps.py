"""The time steps of a picture: one column per value of the scope tag ``t``, some folded.

Every node with a ``t`` tag sits in its step's column; a node without one sits in the column
of its newest input (a readout applied after the loop stays beside its step), and one with no
input from any step (or a layer's own node gathering several steps) in a column of its own at
the right. ``max_steps`` keeps the first and
last steps and folds the middle ones into one column; ``view="step"`` shows one column only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView


def time_key(value: Any) -> tuple[str, Any]:
    """Sort key for scope values of mixed types (ints first by value, then text)."""
    return ("0", value) if isinstance(value, (int, float)) else ("1", str(value))


@dataclass
class Steps:
    """The time steps of a picture: their columns, and which are folded or hidden.

    Attributes:
        times: every value of the scope tag ``t``, in order.
        fold_range: the indices into ``times`` folded into one column (None: no fold).
        step_col: per index into ``times``, its column.
        col_of: ``id(node) -> column`` (None for a node outside every step with no input
            from one).
        only: the first column drawn (``view="step"``: the one column; the explorer's window
            of steps: its first), or None for all of them.
        span: how many columns from ``only`` are drawn.
    """

    times: list[Any]
    fold_range: range | None
    step_col: list[int]
    col_of: dict[int, int | None]
    only: int | None = None
    span: int = 1

    @property
    def fold_col(self) -> int | None:
        """The column of the folded steps (None without a fold)."""
        return self.step_col[self.fold_range.start] if self.fold_range is not None else None

    @property
    def first_times(self) -> dict[int, Any]:
        """Column -> the first step in it (the fold's first folded step)."""
        first: dict[int, Any] = {}
        for t, col in zip(self.times, self.step_col, strict=True):
            first.setdefault(col, t)
        return first

    @property
    def shown(self) -> int:
        """How many steps are drawn as their own column."""
        if self.only is not None:
            return self.span
        return len(self.times) - (len(self.fold_range) if self.fold_range is not None else 0)

    def folded(self, node: Node) -> bool:
        """Whether ``node`` is drawn inside the fold (its step, or its newest input's, is)."""
        return self.fold_range is not None and self.col_of[id(node)] == self.fold_col

    def hidden(self, node: Node) -> bool:
        """Whether ``node`` is left out of a one-step picture (it belongs to another step)."""
        col = self.col_of[id(node)]
        return col is not None and self.hides_column(col)

    def hides_column(self, col: int) -> bool:
        """Whether column ``col`` is left out (outside the one step or the window drawn)."""
        return self.only is not None and not self.only <= col < self.only + self.span


def step_times(view: GraphView) -> list[Any]:
    """Every value of the scope tag ``t`` in ``view``, in order (see :func:`time_key`)."""
    return sorted({n.scope["t"] for n in view.nodes if "t" in n.scope}, key=time_key)


def plan_steps(view: GraphView, max_steps: int | None = None, only: Any = None) -> Steps:
    """The columns of ``view``'s steps: one per ``t``, the middle ones folded into one column
    when there are more than ``max_steps`` (the first (max_steps+1)//2 and last max_steps//2
    are kept); with ``only`` (a value of t), that step's column alone is drawn."""
    times = step_times(view)
    t_index = {t: i for i, t in enumerate(times)}
    fold_range: range | None = None
    if only is None and max_steps is not None and len(times) > max(max_steps, 2):
        head = (max_steps + 1) // 2
        tail = max(max_steps // 2, 1)
        fold_range = range(head, len(times) - tail)
    step_col = _step_columns(len(times), fold_range)
    col_of = _assign_columns(view, t_index, step_col)
    return Steps(times, fold_range, step_col, col_of,
                 None if only is None else step_col[t_index[only]])


def plan_range(view: GraphView, start: int, stop: int) -> Steps:
    """The columns of ``view``'s steps with only the steps ``times[start:stop]`` drawn (a
    window of the explorer): what enters it from an earlier step or leaves it for a later one
    is drawn as a stub, as in ``view="step"``."""
    times = step_times(view)
    if not 0 <= start < stop <= len(times):
        raise ValueError(f"plan_range: steps {start}..{stop} outside 0..{len(times)}")
    step_col = list(range(len(times)))
    col_of = _assign_columns(view, {t: i for i, t in enumerate(times)}, step_col)
    return Steps(times, None, step_col, col_of, start, stop - start)


def _step_columns(count: int, fold_range: range | None) -> list[int]:
    cols, col = [], 0
    for i in range(count):
        if fold_range is not None and i in fold_range:
            cols.append(fold_range.start)
            if i == fold_range.stop - 1:
                col = fold_range.start + 1
            continue
        cols.append(col)
        col += 1
    return cols


def _assign_columns(view: GraphView, t_index: dict[Any, int],
                    step_col: list[int]) -> dict[int, int | None]:
    """Column of each node (by id): its step's; for untimed nodes, their newest input's, except
    a layer's own node that gathers several steps (a hoisted projection's tg.stack of the
    layer below), which goes outside the steps with everything it feeds."""
    col_of: dict[int, int | None] = {}
    for node in view.nodes:
        if "t" in node.scope:
            col_of[id(node)] = step_col[t_index[node.scope["t"]]]
            continue
        cols = [col_of[id(t.producer)] for t in node.inputs if t.producer is not None]
        known = [c for c in cols if c is not None]
        if "layer" in node.scope and (len(set(known)) >= 2 or len(known) < len(cols)):
            known = []
        col_of[id(node)] = max(known) if known else None
    return col_of


def input_columns(node: Node, col_of: dict[int, int | None]) -> set[int]:
    """The columns of the nodes that made ``node``'s inputs."""
    return {c for t in node.inputs if t.producer is not None
            and (c := col_of.get(id(t.producer))) is not None}
