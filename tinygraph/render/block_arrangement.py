"""The arrangement of one block (the nodes of one layer at one time step), in points from its
centre: which row each node sits in, how far left or right, and where its leaves go.

Rows are depths along the block's own edges; nodes sharing a row are spaced by their label
widths and ordered so that edges cross as little as possible (a node reading from an earlier
step on that step's side). A *through line* is a chain of elementwise ops carrying a state
from step to step without a matmul (an LSTM's c_(t−1) → f ⊙ c → + → c_t, a GRU's z ⊙ h): its
nodes share one row, entered from the previous step and left toward the next one, so the
state runs straight across the picture. A block whose recurrence runs backward in time (the
reverse direction of a bidirectional layer) is the mirror image. Blocks with the same op
sequence share one arrangement, so step t looks the same at every t.
``tinygraph.render.layout`` places the blocks in columns and bands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView
from tinygraph.render.names import Namer, runs_width
from tinygraph.render.style import FONT_SIZE

ROW = 40.0           # vertical distance between rows of a block
GAP = 16.0           # least clear space between neighbours in a row
LEAF_GAP = 12.0      # least clear space between an op and the leaves beside it
JUNCTION_HALF = 9.0  # radius of a Σ circle
BELOW = 0.9 * ROW    # drop of a constant drawn under its reader
OP_HEIGHT = 20.0
LEAF_HEIGHT = 18.0
ELEMENTWISE = ("add", "sub", "mul")


def op_width(namer: Namer, node: Node) -> float:
    """The width of an op's box."""
    return runs_width(namer.op(node), FONT_SIZE) + 14.0


def leaf_width(namer: Namer, view: GraphView, node: Node, index: int) -> float:
    """The width of the box (a parameter) or text (a constant) of ``node``'s input ``index``."""
    tensor = node.inputs[index]
    pad = 12.0 if view.is_parameter(tensor) else 4.0
    return runs_width(namer.leaf(tensor, node), FONT_SIZE) + pad


@dataclass
class Arrangement:
    """A block's arrangement (offsets in points from the block's centre, rows from its base).

    Attributes:
        node: per local node, (dx, row).
        junction: per local node whose output is a junction, the Σ's (dx, row).
        rows: the highest row.
        side: per local node, where its leaves go (-1 left, +1 right).
        reach: the leftmost and rightmost drawn point, from the centre.
        carried_in: (local node, input index) -> (local index of the source in its own block,
            its column minus this one's) for the inputs that, in the block this arrangement
            was made from, come from another step of the same band (h_(t−1)); a constant in
            that place is an initial state.
        through: the local nodes on a through line.
        recurrent: the local nodes that read another step (in the block it was made from).
        back: +1 when the recurrence reads earlier steps (they are on the left), -1 when it
            reads later ones (on the right: the block is mirrored).
    """

    node: list[tuple[float, float]]
    junction: dict[int, tuple[float, float]]
    rows: float
    side: list[float]
    reach: tuple[float, float]
    carried_in: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    through: set[int] = field(default_factory=set)
    recurrent: set[int] = field(default_factory=set)
    back: float = 1.0


def signature(members: list[Node]) -> tuple:
    """The op sequence of a block with its local wiring (-1: from outside the block).

    Blocks with equal signatures get the same arrangement, so every step looks the same.
    """
    local = {id(n): i for i, n in enumerate(members)}
    return tuple(
        (n.op.describe(), tuple(local.get(id(t.producer), -1) for t in n.inputs))
        for n in members)


def block_arrangements(view: GraphView, namer: Namer, blocks: dict[tuple, list[Node]],
                       col_of: dict[int, int | None]) -> dict[tuple, Arrangement]:
    """One arrangement per signature, taken from the block that both reads from and hands to
    other steps (a middle step), else the one reading most from them."""
    groups: dict[tuple, list[tuple]] = {}
    for key, members in blocks.items():
        groups.setdefault((key[1], signature(members)), []).append(key)
    arrangements: dict[tuple, Arrangement] = {}
    for keys in groups.values():
        def score(key: tuple) -> tuple[int, int, int]:
            col = key[0]
            ins = len(_carried_in(blocks[key], col_of, col))
            outs = sum(1 for n in blocks[key] if _carried_out(view, n, col_of, col))
            return (min(ins, 1) + min(outs, 1), ins + outs, -(col if col is not None else -1))
        best = max(keys, key=score)
        junctions = {i for key in keys for i, n in enumerate(blocks[key])
                     if n.output is not None and view.is_junction(n.output)}
        arrangement = _arrange(view, namer, blocks[best], col_of, best[0], junctions,
                               [blocks[key] for key in keys])
        arrangement.carried_in = _sources(blocks, best, col_of)
        for key in keys:
            arrangements[key] = arrangement
    return arrangements


def _carried_in(members: list[Node], col_of: dict[int, int | None],
                col: int | None) -> dict[tuple[int, int], int]:
    """(local node, input index) -> the column the input comes from, for inputs made at
    another step."""
    found = {}
    for i, node in enumerate(members):
        for k, tensor in enumerate(node.inputs):
            source = col_of.get(id(tensor.producer)) if tensor.producer is not None else None
            if source is not None and col is not None and source != col and "t" in node.scope \
                    and "t" in tensor.producer.scope:
                found[(i, k)] = source
    return found


def _sources(blocks: dict[tuple, list[Node]], key: tuple,
             col_of: dict[int, int | None]) -> dict[tuple[int, int], tuple[int, int]]:
    """For each input of block ``key`` made at another step of the same band: where its
    producer sits in its block, and how many columns away."""
    col, band = key
    found = {}
    index_in: dict[tuple, dict[int, int]] = {}
    for (i, k), source_col in _carried_in(blocks[key], col_of, col).items():
        other = (source_col, band)
        if other not in blocks:
            continue
        if other not in index_in:
            index_in[other] = {id(n): j for j, n in enumerate(blocks[other])}
        j = index_in[other].get(id(blocks[key][i].inputs[k].producer))
        if j is not None:
            found[(i, k)] = (j, source_col - col)
    return found


def _carried_out(view: GraphView, node: Node, col_of: dict[int, int | None],
                 col: int | None) -> bool:
    """Whether ``node``'s output is read at another step."""
    if node.output is None or col is None or "t" not in node.scope:
        return False
    return any("t" in r.scope and col_of.get(id(r)) not in (None, col)
               for r, _ in view.readers.get(id(node.output), ()))


def _through(view: GraphView, members: list[Node], carried: dict[tuple[int, int], int],
             col_of: dict[int, int | None], col: int | None) -> list[list[int]]:
    """The through lines of a block: chains of elementwise ops from a carried-in input to a
    carried-out output, each read only by the next (local indices, in order)."""
    local = {id(n): i for i, n in enumerate(members)}
    lines = []
    for i in sorted({i for i, _ in carried}):
        path, current = [i], i
        while members[current].op.name in ELEMENTWISE:
            if _carried_out(view, members[current], col_of, col):
                lines.append(path)
                break
            readers = [local[id(r)] for r, _ in view.readers.get(id(members[current].output), ())
                       if id(r) in local]
            if len(readers) != 1:
                break
            current = readers[0]
            path.append(current)
    return lines


def _arrange(view: GraphView, namer: Namer, members: list[Node], col_of: dict[int, int | None],
             col: int | None, junctions: set[int], alike: list[list[Node]]) -> Arrangement:
    """Rows by depth (a through line in the row of its last node); in a row, order by (on a
    through line, reads another step, barycentre of inputs, creation), then by barycentre of
    readers from the top down; spacing by the widest drawing of each op (its box and the
    leaves beside it) over the blocks ``alike`` that share this arrangement."""
    local = {id(n): i for i, n in enumerate(members)}
    carried = _carried_in(members, col_of, col)
    earlier = sum(1 for c in carried.values() if col is not None and c < col)
    back = 1.0 if earlier * 2 >= len(carried) else -1.0
    lines = _through(view, members, carried, col_of, col)
    through = {i: (n, k) for n, line in enumerate(lines) for k, i in enumerate(line)}
    flat = {line[-1] for line in lines}           # their junctions sit in their own row
    depth: list[int] = []
    for n in members:
        d = 0
        for t in n.inputs:
            j = local.get(id(t.producer)) if t.producer is not None else None
            if j is not None:
                d = max(d, depth[j] + (2 if j in junctions and j not in flat else 1))
        depth.append(d)
    for line in lines:
        top = max(depth[i] for i in line)
        for i in line:
            depth[i] = top
        for j in range(line[-1] + 1, len(members)):  # readers move up with the line
            for t in members[j].inputs:
                i = local.get(id(t.producer)) if t.producer is not None else None
                if i is not None:
                    depth[j] = max(depth[j], depth[i] + (2 if i in junctions and i not in flat else 1))
    elements: dict[int, list[tuple[str, int]]] = {}
    for i, d in enumerate(depth):
        elements.setdefault(d, []).append(("n", i))
        if i in junctions:
            elements.setdefault(d if i in flat else d + 1, []).append(("j", i))
    reads_other = {i for i, _ in carried}
    outgoing = any(_carried_out(view, n, col_of, col) for n in members)
    node_dx: dict[int, float] = {}
    junction_dx: dict[int, float] = {}
    sides: dict[int, float] = {}
    reach: dict[int, tuple[float, float]] = {}

    def place(row: int, items: list[tuple[str, int]]) -> None:
        extents: list[tuple[float, float]] = []
        for k, (kind, i) in enumerate(items):
            if kind == "j":
                extents.append((JUNCTION_HALF, JUNCTION_HALF))
                continue
            if len(items) == 1:
                sides[i] = -1.0 if outgoing else 1.0    # away from the edge to the next step
            else:
                sides[i] = -1.0 if k < (len(items) - 1) / 2 else 1.0
            initial = frozenset(k for (j, k) in carried if j == i)
            sized = [_extent(view, namer, block[i], sides[i], row, i in reads_other, initial)
                     for block in alike]
            extents.append((max(e[0] for e in sized), max(e[1] for e in sized)))
        centres = [0.0]
        for k in range(1, len(items)):
            centres.append(centres[-1] + extents[k - 1][1] + extents[k][0] + GAP)
        shift = (centres[0] + centres[-1]) / 2
        for k, (kind, i) in enumerate(items):
            (junction_dx if kind == "j" else node_dx)[i] = centres[k] - shift
        reach[row] = (centres[0] - shift - extents[0][0], centres[-1] - shift + extents[-1][1])

    def first(kind: str, i: int) -> tuple[int, int]:
        """Through lines first (in order), their junctions last, the rest between."""
        if kind == "j":
            return (2, 0) if i in flat else (1, 0)
        return (0, through[i][1]) if i in through else (1, 0 if i in reads_other else 1)

    def by_inputs(item: tuple[str, int]) -> tuple:
        kind, i = item
        if kind == "j":
            return (*first(kind, i), node_dx.get(i, 0.0), i)
        xs = [node_dx[j] for t in members[i].inputs
              if t.producer is not None and (j := local.get(id(t.producer))) in node_dx]
        return (*first(kind, i), sum(xs) / len(xs) if xs else 0.0, i)

    readers: dict[int, list[int]] = {}
    for j, n in enumerate(members):
        for t in n.inputs:
            i = local.get(id(t.producer)) if t.producer is not None else None
            if i is not None:
                readers.setdefault(i, []).append(j)

    def by_readers(item: tuple[str, int]) -> tuple:
        kind, i = item
        here = junction_dx[i] if kind == "j" else node_dx[i]
        if kind == "n" and i in junctions:
            xs = [junction_dx[i]]
        else:
            xs = [node_dx[j] for j in readers.get(i, [])]
        return (*first(kind, i), sum(xs) / len(xs) if xs else here, here)

    for row in sorted(elements):                      # bottom-up: follow the inputs
        place(row, sorted(elements[row], key=by_inputs))
    for row in sorted(elements, reverse=True)[1:]:   # top-down: follow the readers
        place(row, sorted(elements[row], key=by_readers))
    rows = max(elements) if elements else 0
    left = min((r[0] for r in reach.values()), default=0.0)
    right = max((r[1] for r in reach.values()), default=0.0)
    junction_row = {i: depth[i] if i in flat else depth[i] + 1 for i in junctions}
    arrangement = Arrangement(
        [(node_dx[i], depth[i]) for i in range(len(members))],
        {i: (junction_dx[i], junction_row[i]) for i in junctions if i < len(members)},
        float(rows), [sides[i] for i in range(len(members))], (left, right),
        {}, set(through), reads_other, back)
    return arrangement if back > 0 else _mirrored(arrangement)


def _mirrored(a: Arrangement) -> Arrangement:
    """The arrangement seen in a mirror (a recurrence reading later steps, on the right)."""
    return Arrangement([(-dx, row) for dx, row in a.node],
                       {i: (-dx, row) for i, (dx, row) in a.junction.items()}, a.rows,
                       [-s for s in a.side], (-a.reach[1], -a.reach[0]), a.carried_in,
                       a.through, a.recurrent, -1.0)


def _extent(view: GraphView, namer: Namer, node: Node, side: float, row: float,
            recurrent: bool, initial: frozenset[int]) -> tuple[float, float]:
    """How far (left, right) ``node`` and the leaves drawn around it reach from its centre
    (initial states are placed outside the block)."""
    half = op_width(namer, node) / 2
    reach = {-1.0: half, 1.0: half}
    for index, (ldx, ldy) in leaf_offsets(view, namer, node, side, row, recurrent,
                                          initial).items():
        if index in initial and (ldx, ldy) == (0.0, 0.0):
            continue
        leaf = leaf_width(namer, view, node, index) / 2
        if ldx == 0.0:
            reach[-1.0] = max(reach[-1.0], leaf)
            reach[1.0] = max(reach[1.0], leaf)
        else:
            reach[side] = max(reach[side], abs(ldx) + leaf)
    return reach[-1.0], reach[1.0]


def leaf_offsets(view: GraphView, namer: Namer, node: Node, side: float, row: float,
                 recurrent: bool = False,
                 initial: frozenset[int] = frozenset()) -> dict[int, tuple[float, float]]:
    """Where each leaf input of ``node`` goes, relative to it: (input index) -> (dx, dy).

    The first constant of a bottom-row node goes below it (x_t under the input matmul), and
    so does the first parameter of a bottom-row node that reads the previous step
    (``recurrent``: W_hh under h_(t−1) W_hh, clear of the recurrence arriving from the side);
    other leaves go beside it on ``side`` (-1 left, +1 right), two to a column, each column
    clear of the node and of the previous column. The inputs ``initial`` (initial states,
    placed by the layout where the previous step's state would come from) get (0, 0).
    """
    offsets: dict[int, tuple[float, float]] = {}
    beside: list[tuple[int, float]] = []
    below_used = False
    for index, tensor in enumerate(node.inputs):
        if tensor.producer is not None:
            continue
        if index in initial and view.is_constant(tensor):
            offsets[index] = (0.0, 0.0)
            continue
        if row == 0 and not below_used and (view.is_constant(tensor) or recurrent):
            offsets[index] = (0.0, -BELOW)
            below_used = True
        else:
            beside.append((index, leaf_width(namer, view, node, index) / 2))
    edge = op_width(namer, node) / 2
    for start in range(0, len(beside), 2):
        pair = beside[start:start + 2]
        half = max(h for _, h in pair)
        dx = edge + LEAF_GAP + half
        for slot, (index, _) in enumerate(pair):
            offsets[index] = (side * dx, -slot * 0.55 * ROW)
        edge = dx + half
    return offsets
