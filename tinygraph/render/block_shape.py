"""The arrangement of one block (the nodes of one layer at one time step), in points from its
centre: which row each node sits in, how far left or right, and where its leaves go.

Rows are depths along the block's own edges; nodes sharing a row are spaced by their label
widths and ordered so that edges cross as little as possible (a node reading from an earlier
step on the left). Blocks with the same op sequence share one arrangement, so step t looks the
same at every t. ``tinygraph.render.layout`` places the blocks in columns and bands.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView
from tinygraph.render.style import constant_name, op_label, param_label, text_width
from tinygraph.tensor import Tensor

ROW = 46.0          # vertical distance between rows of a block
LANE = 92.0         # horizontal distance between nodes sharing a row
SIDE = 74.0         # least horizontal offset of a leaf drawn beside its reader
GAP = 16.0          # least clear space between neighbours in a row
LEAF_GAP = 14.0     # least clear space between an op and the leaves beside it
JUNCTION_HALF = 9.5  # half the width of a Σ circle
BELOW = 0.8 * ROW   # drop of a constant drawn under its reader


@dataclass
class Shape:
    """A block's arrangement: per local node (dx, row), per local junction (dx, row)."""

    node: list[tuple[float, float]]
    junction: dict[int, tuple[float, float]]
    rows: float
    side: list[float]                  # per local node: where its leaves go (-1 left, +1 right)
    reach: tuple[float, float]         # leftmost and rightmost drawn point, from the centre


def signature(members: list[Node]) -> tuple:
    """The op sequence of a block with its local wiring (-1: from outside the block).

    Blocks with equal signatures get the same arrangement, so every step looks the same.
    """
    local = {id(n): i for i, n in enumerate(members)}
    return tuple(
        (n.op.describe(), tuple(local.get(id(t.producer), -1) for t in n.inputs))
        for n in members)


def block_shapes(view: GraphView, blocks: dict[tuple, list[Node]],
            col_of: dict[int, int | None]) -> dict[tuple, Shape]:
    """One arrangement per signature, taken from the block reading most from earlier steps."""
    groups: dict[tuple, list[tuple]] = {}
    for key, members in blocks.items():
        groups.setdefault((key[1], signature(members)), []).append(key)
    shapes: dict[tuple, Shape] = {}
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
             col: int | None, junctions: set[int], alike: list[list[Node]]) -> Shape:
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
    return Shape([(node_dx[i], depth[i]) for i in range(len(members))],
                  {i: (junction_dx[i], depth[i] + 1) for i in junctions if i < len(members)},
                  float(rows), [sides[i] for i in range(len(members))], (left_edge, right_edge))


def _half(node: Node) -> float:
    """Half the width of an op's box."""
    return text_width(op_label(node), 10) / 2


def _leaf_half(view: GraphView, tensor: Tensor) -> float:
    """Half the width of a leaf's box (parameter) or text (constant)."""
    if view.is_parameter(tensor):
        return text_width(param_label(tensor), 9) / 2
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
