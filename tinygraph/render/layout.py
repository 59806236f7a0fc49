"""Positions (in points) of everything the picture draws, computed by us, not by Graphviz.

Time runs left to right: one column per value of the scope tag ``t``. Inside a column the
nodes of one layer form a *block*; blocks are stacked bottom-up (layer 0 lowest, then higher
layers, then nodes with a ``t`` but no layer, e.g. the readout). Nodes without ``t`` (the sum
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
from tinygraph.render.style import constant_name, shape_text, text_width
from tinygraph.tensor import Tensor

ROW = 46.0          # vertical distance between rows of a block
LANE = 92.0         # horizontal distance between nodes sharing a row
SIDE = 74.0         # least horizontal offset of a leaf drawn beside its reader
GAP = 16.0          # least clear space between neighbours in a row
LEAF_GAP = 14.0     # least clear space between an op and the leaves beside it
JUNCTION_HALF = 9.5  # half the width of a Σ circle
COLUMN_PAD = 25.0   # clear space between a step's content and its column's edge
BELOW = 0.8 * ROW   # drop of a constant drawn under its reader
BAND_GAP = 0.9 * ROW
COLUMN = 360.0      # width of one time step
FOLD_COLUMN = 150.0
MARGIN = 70.0
TOP = "top"         # band of nodes without a t tag


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


@dataclass
class _Shape:
    """A block's arrangement: per local node (dx, row), per local junction (dx, row)."""

    node: list[tuple[float, float]]
    junction: dict[int, tuple[float, float]]
    rows: float
    side: list[float]                  # per local node: where its leaves go (-1 left, +1 right)
    reach: tuple[float, float]         # leftmost and rightmost drawn point, from the centre


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
    return f"layer {band}" if isinstance(band, int) else str(band)


def compute_layout(view: GraphView, max_steps: int | None = None) -> Layout:
    """Place every node, junction and leaf copy of ``view``; fold steps beyond ``max_steps``."""
    lay = Layout()
    times = sorted({n.scope["t"] for n in view.nodes if "t" in n.scope}, key=time_key)
    t_index = {t: i for i, t in enumerate(times)}
    fold_range: range | None = None
    if max_steps is not None and len(times) > max(max_steps, 2):
        head = (max_steps + 1) // 2
        tail = max(max_steps // 2, 1)
        fold_range = range(head, len(times) - tail)
    step_col = _step_columns(len(times), fold_range)
    col_of = _assign_columns(view, t_index, step_col)
    fold_col = step_col[fold_range.start] if fold_range is not None else None
    blocks = _blocks(view, col_of, fold_col)
    shapes = _shapes(view, blocks, col_of)
    bands = sorted({band for _, band in blocks}, key=band_key)
    band_y, band_rows = _band_offsets(view, bands, blocks, shapes)
    reach = max((max(-sh.reach[0], sh.reach[1]) for sh in shapes.values()), default=0.0)
    width = max(COLUMN, 2 * (reach + COLUMN_PAD))
    _columns(lay, times, step_col, fold_range, any(c is None for c in col_of.values()), width)
    outside = len(lay.columns) - 1
    for node in view.nodes:
        col = col_of[id(node)]
        lay.node_col[view.rank(node)] = outside if col is None else col
        if fold_col is not None and col == fold_col:
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
    return node.scope.get("layer")


def _blocks(view: GraphView, col_of: dict[int, int | None],
            fold_col: int | None) -> dict[tuple, list[Node]]:
    """Nodes grouped by (column, band), in creation order; folded nodes are left out."""
    blocks: dict[tuple, list[Node]] = {}
    for node in view.nodes:
        if fold_col is not None and col_of[id(node)] == fold_col:
            continue
        blocks.setdefault((col_of[id(node)], _band(node)), []).append(node)
    return blocks


def signature(members: list[Node]) -> tuple:
    """The op sequence of a block with its local wiring (-1: from outside the block).

    Blocks with equal signatures get the same arrangement, so every step looks the same.
    """
    local = {id(n): i for i, n in enumerate(members)}
    return tuple(
        (n.op.describe(), tuple(local.get(id(t.producer), -1) for t in n.inputs))
        for n in members)


def _shapes(view: GraphView, blocks: dict[tuple, list[Node]],
            col_of: dict[int, int | None]) -> dict[tuple, _Shape]:
    """One arrangement per signature, taken from the block reading most from earlier steps."""
    groups: dict[tuple, list[tuple]] = {}
    for key, members in blocks.items():
        groups.setdefault((key[1], signature(members)), []).append(key)
    shapes: dict[tuple, _Shape] = {}
    for keys in groups.values():
        def score(key: tuple) -> tuple[int, int]:
            col = key[0]
            reads = sum(1 for n in blocks[key] for t in n.inputs
                        if t.producer is not None and _earlier(col_of.get(id(t.producer)), col))
            return (reads, -1 if col is None else col)
        best = max(keys, key=score)
        junctions = {i for key in keys for i, n in enumerate(blocks[key])
                     if n.output is not None and view.is_junction(n.output)}
        shape = _arrange(view, blocks[best], col_of, best[0], junctions,
                         [blocks[key] for key in keys])
        for key in keys:
            shapes[key] = shape
    return shapes


def _earlier(source: int | None, col: int | None) -> bool:
    return source is not None and col is not None and source < col


def _arrange(view: GraphView, members: list[Node], col_of: dict[int, int | None],
             col: int | None, junctions: set[int], alike: list[list[Node]]) -> _Shape:
    """Rows by depth; in a row, order by (reads an earlier step, barycentre of inputs,
    creation), then by (reads an earlier step, barycentre of readers) from the top down;
    spacing by the widest drawing of each op (its box and the leaves beside it) over the
    blocks ``alike`` that share this arrangement."""
    local = {id(n): i for i, n in enumerate(members)}
    depth: list[int] = []
    for n in members:
        d = 0
        for t in n.inputs:
            j = local.get(id(t.producer)) if t.producer is not None else None
            if j is not None:
                d = max(d, depth[j] + (2 if j in junctions else 1))
        depth.append(d)
    elements: dict[int, list[tuple[str, int]]] = {}
    for i, d in enumerate(depth):
        elements.setdefault(d, []).append(("n", i))
        if i in junctions:
            elements.setdefault(d + 1, []).append(("j", i))
    node_dx: dict[int, float] = {}
    junction_dx: dict[int, float] = {}
    sides: dict[int, float] = {}
    reach: dict[int, tuple[float, float]] = {}

    def earlier(i: int) -> int:
        return 0 if any(t.producer is not None and _earlier(col_of.get(id(t.producer)), col)
                        for t in members[i].inputs) else 1

    def place(row: int, items: list[tuple[str, int]]) -> None:
        extents: list[tuple[float, float]] = []
        for k, (kind, i) in enumerate(items):
            if kind == "j":
                extents.append((JUNCTION_HALF, JUNCTION_HALF))
                continue
            sides[i] = -1.0 if k < (len(items) - 1) / 2 else 1.0
            sized = [_extent(view, block[i], sides[i], row) for block in alike]
            extents.append((max(e[0] for e in sized), max(e[1] for e in sized)))
        centres = [0.0]
        for k in range(1, len(items)):
            gap = extents[k - 1][1] + extents[k][0] + GAP
            centres.append(centres[-1] + max(LANE, gap))
        shift = (centres[0] + centres[-1]) / 2
        for k, (kind, i) in enumerate(items):
            (junction_dx if kind == "j" else node_dx)[i] = centres[k] - shift
        reach[row] = (centres[0] - shift - extents[0][0], centres[-1] - shift + extents[-1][1])

    def by_inputs(item: tuple[str, int]) -> tuple[int, float, int]:
        kind, i = item
        if kind == "j":
            return (1, node_dx[i], i)
        xs = [node_dx[local[id(t.producer)]] for t in members[i].inputs
              if t.producer is not None and id(t.producer) in local]
        return (earlier(i), sum(xs) / len(xs) if xs else 0.0, i)

    readers: dict[int, list[int]] = {}
    for j, n in enumerate(members):
        for t in n.inputs:
            i = local.get(id(t.producer)) if t.producer is not None else None
            if i is not None:
                readers.setdefault(i, []).append(j)

    def by_readers(item: tuple[str, int]) -> tuple[int, float, float]:
        kind, i = item
        here = junction_dx[i] if kind == "j" else node_dx[i]
        if kind == "n" and i in junctions:
            xs = [junction_dx[i]]
        else:
            xs = [node_dx[j] for j in readers.get(i, [])]
        return (1 if kind == "j" else earlier(i), sum(xs) / len(xs) if xs else here, here)

    for row in sorted(elements):                      # bottom-up: follow the inputs
        place(row, sorted(elements[row], key=by_inputs))
    for row in sorted(elements, reverse=True)[1:]:   # top-down: follow the readers
        place(row, sorted(elements[row], key=by_readers))
    rows = max(elements) if elements else 0
    left_edge = min((r[0] for r in reach.values()), default=0.0)
    right_edge = max((r[1] for r in reach.values()), default=0.0)
    return _Shape([(node_dx[i], depth[i]) for i in range(len(members))],
                  {i: (junction_dx[i], depth[i] + 1) for i in junctions if i < len(members)},
                  float(rows), [sides[i] for i in range(len(members))], (left_edge, right_edge))


def _half(node: Node) -> float:
    """Half the width of an op's box."""
    return text_width(node.op.describe(), 10) / 2


def _leaf_half(view: GraphView, tensor: Tensor) -> float:
    """Half the width of a leaf's box (parameter) or text (constant)."""
    if view.is_parameter(tensor):
        return text_width(tensor.name or f"param [{shape_text(tensor.shape)}]", 9) / 2
    return text_width(constant_name(tensor), 9) / 2


def _extent(view: GraphView, node: Node, side: float, row: float) -> tuple[float, float]:
    """How far (left, right) ``node`` and the leaves drawn around it reach from its centre."""
    half = _half(node)
    reach = {-1.0: half, 1.0: half}
    for index, (ldx, _) in leaf_offsets(view, node, side, row).items():
        leaf = _leaf_half(view, node.inputs[index])
        if ldx == 0.0:
            reach[-1.0] = max(reach[-1.0], leaf)
            reach[1.0] = max(reach[1.0], leaf)
        else:
            reach[side] = max(reach[side], abs(ldx) + leaf)
    return reach[-1.0], reach[1.0]


def leaf_offsets(view: GraphView, node: Node, side: float, row: float) -> dict[int, tuple]:
    """Where each leaf input of ``node`` goes, relative to it: (input index) -> (dx, dy).

    The first constant of a bottom-row node goes below it (x_t under the input matmul);
    parameters and other leaves go beside it on ``side`` (-1 left, +1 right, the outer side of
    the block), two to a column, each column clear of the node and of the previous column.
    """
    offsets: dict[int, tuple] = {}
    beside: list[tuple[int, float]] = []
    below_used = False
    for index, tensor in enumerate(node.inputs):
        if tensor.producer is not None:
            continue
        if view.is_constant(tensor) and row == 0 and not below_used:
            offsets[index] = (0.0, -BELOW)
            below_used = True
        else:
            beside.append((index, _leaf_half(view, tensor)))
    edge = _half(node)
    for start in range(0, len(beside), 2):
        pair = beside[start:start + 2]
        half = max(h for _, h in pair)
        dx = edge + LEAF_GAP + half
        if start == 0:
            dx = max(dx, SIDE)
        for slot, (index, _) in enumerate(pair):
            offsets[index] = (side * dx, -slot * 0.5 * ROW)
        edge = dx + half
    return offsets


def _band_offsets(view: GraphView, bands: list[Any], blocks: dict[tuple, list[Node]],
                  shapes: dict[tuple, _Shape]) -> tuple[dict[Any, float], dict[Any, float]]:
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
            width, label, clustered, key = step_width, f"t = {t}", True, t
        lay.columns.append(Column(key, label, x + width / 2, x, x + width, clustered))
        x += width
    if has_outside or not lay.columns:
        lay.columns.append(Column(None, "", x + step_width / 2, x, x + step_width, False))
