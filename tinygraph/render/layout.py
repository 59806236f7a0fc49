"""Positions (in points) of everything the picture draws, computed by us, not by Graphviz.

Time runs left to right: one column per value of the scope tag ``t``. Inside a column the
nodes of one layer form a *block*; blocks are stacked bottom-up (layer 0 lowest, then higher
layers, then ``tg.checkpoint`` boxes tagged with a ``t`` but no layer, then the other nodes
with a ``t`` but no layer, e.g. the readout). Nodes without ``t`` (the sum
of the per-step losses) sit in a band above the columns, in the column of their newest input.

Inside a block a node's row is its depth along the block's own edges (inputs first), and a
junction Σ sits one row above the node that produced the tensor. Nodes that share a row are
spread over lanes, a node reading from an earlier step on the left. Blocks built from the
same sequence of ops share one arrangement, so step t looks the same at every t. Leaves go
beside their reader: a parameter copy on the outer side, a constant below a bottom-row node.

``max_steps`` keeps the first and last steps and folds the middle ones into one column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView
from tinygraph.render.safe_text import shorten
from tinygraph.render.block_shape import (
    BELOW,
    ROW,
    Shape,
    block_shapes,
    leaf_offsets,
)

COLUMN_PAD = 25.0   # clear space between a step's content and its column's edge
BAND_GAP = 0.9 * ROW
COLUMN = 360.0      # width of one time step
FOLD_COLUMN = 150.0
MARGIN = 70.0
TOP = "top"         # band of nodes without a t tag
SEGMENTS = "checkpoints"  # band of tg.checkpoint boxes (and their outputs) tagged t, no layer
SEGMENT_OPS = ("checkpoint", "unpack")


@dataclass
class FoldBox:
    """The column standing for the folded steps ``first_t .. last_t``."""

    x: float
    y: float
    width: float
    height: float
    first_t: Any
    last_t: Any
    count: int


@dataclass
class Column:
    """One time step (or the fold, or the nodes outside any step): key, centre and extent."""

    key: Any
    label: str
    x: float
    x0: float
    x1: float
    clustered: bool


@dataclass
class Layout:
    """Positions keyed by graph-relative ranks (see :class:`GraphView`)."""

    columns: list[Column] = field(default_factory=list)
    node_col: dict[int, int] = field(default_factory=dict)        # node rank -> column index
    node_pos: dict[int, tuple[float, float]] = field(default_factory=dict)
    junction_pos: dict[int, tuple[float, float]] = field(default_factory=dict)  # tensor rank
    leaf_pos: dict[tuple[int, int, int], tuple[float, float]] = field(default_factory=dict)
    folded: set[int] = field(default_factory=set)                 # node ranks inside the fold
    fold: FoldBox | None = None
    bands: list[tuple[str, float]] = field(default_factory=list)  # label, y
    cluster_y: tuple[float, float] = (0.0, 0.0)
    width: float = 0.0
    height: float = 0.0


def time_key(value: Any) -> tuple[str, Any]:
    """Sort key for scope values of mixed types (ints first by value, then text)."""
    return ("0", value) if isinstance(value, (int, float)) else ("1", str(value))


def band_key(band: Any) -> tuple[int, Any]:
    """Bottom-up band order: integer layers, other layer names, no layer, then the top band."""
    if band == TOP:
        return (3, "")
    if band is None:
        return (2, "")
    if isinstance(band, int):
        return (0, band)
    return (1, str(band))


def band_label(band: Any) -> str:
    """The text at the left of a band."""
    if band is None:
        return "readout"
    if band == TOP:
        return ""
    return f"layer {band}" if isinstance(band, int) else shorten(band)


@dataclass
class Steps:
    """The time steps of a picture: their columns, and which are folded (``max_steps``).

    Attributes:
        times: every value of the scope tag ``t``, in order.
        fold_range: the indices into ``times`` folded into one column (None: no fold).
        step_col: per index into ``times``, its column.
        col_of: ``id(node) -> column`` (None for a node outside every step with no input
            from one).
    """

    times: list[Any]
    fold_range: range | None
    step_col: list[int]
    col_of: dict[int, int | None]

    @property
    def fold_col(self) -> int | None:
        """The column of the folded steps (None without a fold)."""
        return self.step_col[self.fold_range.start] if self.fold_range is not None else None

    @property
    def shown(self) -> int:
        """How many steps are drawn as their own column."""
        return len(self.times) - (len(self.fold_range) if self.fold_range is not None else 0)

    def folded(self, node: Node) -> bool:
        """Whether ``node`` is drawn inside the fold (its step, or its newest input's, is)."""
        return self.fold_range is not None and self.col_of[id(node)] == self.fold_col


def plan_steps(view: GraphView, max_steps: int | None = None) -> Steps:
    """The columns of ``view``'s steps: one per ``t``, the middle ones folded into one column
    when there are more than ``max_steps`` (the first (max_steps+1)//2 and last max_steps//2
    are kept)."""
    times = sorted({n.scope["t"] for n in view.nodes if "t" in n.scope}, key=time_key)
    t_index = {t: i for i, t in enumerate(times)}
    fold_range: range | None = None
    if max_steps is not None and len(times) > max(max_steps, 2):
        head = (max_steps + 1) // 2
        tail = max(max_steps // 2, 1)
        fold_range = range(head, len(times) - tail)
    step_col = _step_columns(len(times), fold_range)
    return Steps(times, fold_range, step_col, _assign_columns(view, t_index, step_col))


def drawn_count(view: GraphView, steps: Steps) -> int:
    """How many things the picture places: every node outside the fold, a copy of each leaf
    it reads, and a Σ for its output when two or more nodes read it (as compute_layout does)."""
    count = 0
    for node in view.nodes:
        if steps.folded(node):
            continue
        out = node.output
        count += 1 + sum(1 for t in node.inputs if t.producer is None)
        count += 1 if out is not None and view.is_junction(out) else 0
    return count


def compute_layout(view: GraphView, steps: Steps) -> Layout:
    """Place every node, junction and leaf copy of ``view`` in the columns of ``steps``."""
    lay = Layout()
    times, fold_range, step_col, col_of = steps.times, steps.fold_range, steps.step_col, steps.col_of
    fold_col = steps.fold_col
    blocks = _blocks(view, col_of, fold_col)
    shapes = block_shapes(view, blocks, col_of)
    bands = sorted({band for _, band in blocks}, key=band_key)
    band_y, band_rows = _band_offsets(view, bands, blocks, shapes)
    reach = max((max(-sh.reach[0], sh.reach[1]) for sh in shapes.values()), default=0.0)
    width = max(COLUMN, 2 * (reach + COLUMN_PAD))
    _columns(lay, times, step_col, fold_range, any(c is None for c in col_of.values()), width)
    outside = len(lay.columns) - 1
    for node in view.nodes:
        col = col_of[id(node)]
        lay.node_col[view.rank(node)] = outside if col is None else col
        if steps.folded(node):
            lay.folded.add(view.rank(node))
    for (col, band), members in blocks.items():
        column = lay.columns[outside if col is None else col]
        shape = shapes[(col, band)]
        base = band_y[band]
        for i, node in enumerate(members):
            rank = view.rank(node)
            dx, row = shape.node[i]
            lay.node_pos[rank] = (column.x + dx, base + row * ROW)
            if i in shape.junction and node.output is not None and view.is_junction(node.output):
                jdx, jrow = shape.junction[i]
                lay.junction_pos[view.trank(node.output)] = (column.x + jdx, base + jrow * ROW)
            for index, (ldx, ldy) in leaf_offsets(view, node, shape.side[i], row).items():
                lay.leaf_pos[(view.trank(node.inputs[index]), rank, index)] = (
                    column.x + dx + ldx, base + row * ROW + ldy)
    scoped = [band_y[b] for b in bands if b != TOP]
    top_scoped = max((band_y[b] + band_rows[b] * ROW for b in bands if b != TOP), default=0.0)
    lay.cluster_y = (min(scoped, default=MARGIN) - BELOW - 0.5 * ROW, top_scoped + 0.5 * ROW)
    lay.bands = [(band_label(b), band_y[b] + 0.5 * band_rows[b] * ROW) for b in bands if b != TOP]
    top = max((band_y[b] + band_rows[b] * ROW for b in bands), default=MARGIN)
    lay.height = top + 2 * ROW
    lay.width = lay.columns[-1].x1 + MARGIN if lay.columns else 2 * MARGIN
    if fold_range is not None:
        col = lay.columns[step_col[fold_range.start]]
        y0, y1 = lay.cluster_y
        lay.fold = FoldBox(col.x, (y0 + y1) / 2, col.x1 - col.x0 - 30, y1 - y0 - 40,
                           times[fold_range.start], times[fold_range.stop - 1], len(fold_range))
    return lay


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
    """Column of each node (by id): its step's; for untimed nodes, their newest input's."""
    col_of: dict[int, int | None] = {}
    for node in view.nodes:
        if "t" in node.scope:
            col_of[id(node)] = step_col[t_index[node.scope["t"]]]
            continue
        cols = [col_of[id(t.producer)] for t in node.inputs if t.producer is not None]
        known = [c for c in cols if c is not None]
        col_of[id(node)] = max(known) if known else None
    return col_of


def _band(node: Node) -> Any:
    if "t" not in node.scope:
        return TOP
    layer = node.scope.get("layer")
    if layer is None and node.op.name in SEGMENT_OPS:
        return SEGMENTS
    return layer


def _blocks(view: GraphView, col_of: dict[int, int | None],
            fold_col: int | None) -> dict[tuple, list[Node]]:
    """Nodes grouped by (column, band), in creation order; folded nodes are left out."""
    blocks: dict[tuple, list[Node]] = {}
    for node in view.nodes:
        if fold_col is not None and col_of[id(node)] == fold_col:
            continue
        blocks.setdefault((col_of[id(node)], _band(node)), []).append(node)
    return blocks


def _band_offsets(view: GraphView, bands: list[Any], blocks: dict[tuple, list[Node]],
                  shapes: dict[tuple, Shape]) -> tuple[dict[Any, float], dict[Any, float]]:
    band_y: dict[Any, float] = {}
    band_rows: dict[Any, float] = {}
    y = MARGIN
    for band in bands:
        keys = [k for k in blocks if k[1] == band]
        rows = max(shapes[k].rows for k in keys)
        below = any(view.is_constant(t) and shapes[k].node[i][1] == 0
                    for k in keys for i, n in enumerate(blocks[k]) for t in n.inputs)
        if below:
            y += BELOW
        band_y[band] = y
        band_rows[band] = rows
        y += rows * ROW + BAND_GAP + (0.3 * ROW if band == TOP else 0.0)
    return band_y, band_rows


def _columns(lay: Layout, times: list[Any], step_col: list[int], fold_range: range | None,
             has_outside: bool, step_width: float) -> None:
    """Columns left to right: one of ``step_width`` per step, a narrow one for the fold."""
    x = MARGIN + 40.0
    count = (max(step_col) + 1) if step_col else 0
    first_time = {}
    for i, col in enumerate(step_col):
        first_time.setdefault(col, times[i])
    for col in range(count):
        if fold_range is not None and col == fold_range.start:
            width, label, clustered = FOLD_COLUMN, "", False
            key: Any = "fold"
        else:
            t = first_time[col]
            width, label, clustered, key = step_width, f"t = {shorten(t)}", True, t
        lay.columns.append(Column(key, label, x + width / 2, x, x + width, clustered))
        x += width
    if has_outside or not lay.columns:
        lay.columns.append(Column(None, "", x + step_width / 2, x, x + step_width, False))
