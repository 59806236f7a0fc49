"""Positions (in points, y up) of everything the picture draws, computed by us, not by Graphviz.

Time runs left to right: one column per step (:mod:`tinygraph.render.steps`). The nodes of
one band (:mod:`tinygraph.render.bands`: a layer, the readout) in one column form a *block*,
arranged by :mod:`tinygraph.render.block_arrangement`; bands are stacked bottom-up, layer 0
lowest. A sum over time (:mod:`tinygraph.render.time_sum`) is one node on top, centred over
the steps it adds. Leaves go beside their reader (:mod:`tinygraph.render.leaves`): a
parameter copy on the outer side, an input below the bottom row, an initial state where the
previous step's state would come from.
Every step column has the width of the widest one, so step t looks the same at every t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tinygraph.node import Node
from tinygraph.render.bands import TOP, Bands, assign_bands
from tinygraph.render.block_arrangement import (
    BELOW,
    JUNCTION_HALF,
    OP_HEIGHT,
    ROW,
    Arrangement,
    block_arrangements,
    leaf_offsets,
    leaf_width,
    op_width,
)
from tinygraph.render.geometry import Box
from tinygraph.render.graph_view import GraphView
from tinygraph.render.leaves import add_leaf, add_stubs, initial_state_at, settle_leaves
from tinygraph.render.names import Namer, runs_width
from tinygraph.render.safe_text import shorten
from tinygraph.render.steps import Steps
from tinygraph.render.style import FONT_SIZE, TITLE_SIZE, text_width
from tinygraph.render.time_sum import TimeSum, find_time_sums

COLUMN_PAD = 12.0   # clear space between a step's content and its column's edge
MIN_COLUMN = 130.0
BAND_GAP = 1.1 * ROW
FOLD_COLUMN = 130.0
MARGIN = 12.0
ELBOW = 30.0        # how far above the steps the edges into a time sum turn toward it
ROOMY = 1.5         # rows this much further apart when labels carry values
ROOMY_PAD = 30.0    # and columns this much wider on each side


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
    """One time step (or the fold, or the nodes outside any step): key, centre, extent, and
    ``origin``, the x every block of the column is arranged around."""

    key: Any
    label: str
    x: float
    x0: float
    x1: float
    clustered: bool
    origin: float = 0.0


@dataclass
class Layout:
    """Positions keyed by graph-relative numbers (creation order, see :class:`GraphView`).

    ``boxes`` holds the size of every drawn thing by the id the DOT text gives it (``n12``,
    ``j3``, ``p4_12_1``, ``c0_2_0``, ``fold``, ``output``, ``band0``).
    """

    bands: Bands
    namer: Namer
    sums: dict[int, TimeSum]
    columns: list[Column] = field(default_factory=list)
    node_col: dict[int, int] = field(default_factory=dict)        # node number -> column index
    node_pos: dict[int, tuple[float, float]] = field(default_factory=dict)
    junction_pos: dict[int, tuple[float, float]] = field(default_factory=dict)  # tensor number
    leaf_pos: dict[tuple[int, int, int], tuple[float, float]] = field(default_factory=dict)
    folded: set[int] = field(default_factory=set)                 # node numbers in the fold
    hidden: set[int] = field(default_factory=set)                 # node numbers not drawn
    fold: FoldBox | None = None
    band_labels: list[tuple[str, float, float]] = field(default_factory=list)  # text, x, y
    boxes: dict[str, Box] = field(default_factory=dict)
    cluster_y: tuple[float, float] = (0.0, 0.0)
    output_pos: tuple[float, float] | None = None
    sum_elbow: dict[int, float] = field(default_factory=dict)  # sum number -> y of elbows
    output_label: str | None = None                            # the output box's text
    row: float = ROW                                           # distance between rows
    width: float = 0.0
    height: float = 0.0


def picture_parts(view: GraphView, steps: Steps) -> tuple[dict[int, TimeSum], Bands, Namer]:
    """The time sums, bands and names of a picture (one pass each over the nodes)."""
    sums = find_time_sums(view, steps.col_of)
    bands = assign_bands(view, steps, sums)
    first_time = steps.first_times
    time_of = {}
    for node in view.nodes:
        col = steps.col_of[id(node)]
        if "t" in node.scope:
            time_of[id(node)] = node.scope["t"]
        elif col is not None and bands.of[id(node)] != TOP:
            time_of[id(node)] = first_time.get(col)
    return sums, bands, Namer(view.is_parameter, bands.of, bands.layered, time_of)


def drawn_count(view: GraphView, steps: Steps, sums: dict[int, TimeSum] | None = None) -> int:
    """How many things the picture places: every node outside the fold (a time sum once),
    a copy of each leaf it reads (no zero a sum starts from), and a Σ for its output when two
    or more nodes read it (as compute_layout does). ``sums``: the time sums, when already
    found for ``steps``' columns."""
    if sums is None:
        sums = find_time_sums(view, steps.col_of)
    count = 0
    for node in view.nodes:
        if steps.folded(node) or steps.hidden(node):
            continue
        chain = sums.get(id(node))
        if chain is not None:
            count += (1 + sum(1 for t, _, _ in chain.terms if t.producer is None)
                      if chain.node is node else 0)
            continue
        out = node.output
        count += 1 + sum(1 for t in node.inputs if t.producer is None)
        count += 1 if out is not None and view.is_junction(out) else 0
    return count


def compute_layout(view: GraphView, steps: Steps, roomy: bool = False,
                   parts: tuple[dict[int, TimeSum], Bands, Namer] | None = None) -> Layout:
    """Place every node, junction and leaf copy of ``view`` in the columns of ``steps``
    (``roomy``: rows and columns wider apart, for labels that carry values; ``parts``: the
    :func:`picture_parts` of ``steps``' columns, when already found)."""
    sums, bands, namer = parts if parts is not None else picture_parts(view, steps)
    lay = Layout(bands, namer, sums, row=ROOMY * ROW if roomy else ROW)
    pad = COLUMN_PAD + (ROOMY_PAD if roomy else 0.0)
    col_of = steps.col_of
    blocks = _blocks(view, steps, bands, sums)
    arrangements = block_arrangements(view, namer, blocks, col_of)
    left = max((-a.reach[0] for a in arrangements.values()), default=0.0)
    right = max((a.reach[1] for a in arrangements.values()), default=0.0)
    width = math.ceil(max(MIN_COLUMN, left + right + 2 * pad))
    has_outside = any(c is None for (c, _) in blocks)
    _columns(lay, steps, has_outside, width, round(pad + left + (width - left - right - 2 * pad) / 2))
    outside = len(lay.columns) - 1
    band_y, band_rows = _band_offsets(view, bands, blocks, arrangements, bool(sums), lay.row)
    for node in view.nodes:
        number = view.number(node)
        col = col_of[id(node)]
        lay.node_col[number] = outside if col is None else col
        if steps.folded(node):
            lay.folded.add(number)
        if steps.hidden(node):
            lay.hidden.add(number)
    for (col, band), members in blocks.items():
        _place_block(view, lay, members, arrangements[(col, band)], steps,
                     lay.columns[outside if col is None else col], band_y[band], width)
    _place_sums(view, lay, steps)
    settle_leaves(view, lay)
    scoped = [band_y[b] for b in bands.order if b != TOP and b in band_y]
    top_scoped = max((band_y[b] + band_rows[b] * lay.row for b in band_y if b != TOP),
                     default=0.0)
    lay.cluster_y = (min(scoped, default=0.0) - BELOW - 0.9 * ROW, top_scoped + 0.5 * ROW)
    for band in bands.order if steps.times else ():          # no steps: no bands to name
        if band != TOP and band in band_y:
            lay.band_labels.append((bands.label(band), 0.0,
                                    band_y[band] + 0.5 * band_rows[band] * lay.row))
    _place_fold(lay, steps)
    _place_output(view, lay)
    normalise(lay)
    return lay


def _blocks(view: GraphView, steps: Steps, bands: Bands,
            sums: dict[int, TimeSum]) -> dict[tuple, list[Node]]:
    """Nodes grouped by (column, band), in creation order; folded, hidden and summed nodes
    are left out."""
    blocks: dict[tuple, list[Node]] = {}
    for node in view.nodes:
        if steps.folded(node) or steps.hidden(node) or id(node) in sums:
            continue
        blocks.setdefault((steps.col_of[id(node)], bands.of[id(node)]), []).append(node)
    return blocks


def _band_offsets(view: GraphView, bands: Bands, blocks: dict[tuple, list[Node]],
                  arrangements: dict[tuple, Arrangement], has_sums: bool,
                  row: float) -> tuple[dict[Any, float], dict[Any, float]]:
    """The base y and the number of rows of every band, bottom-up."""
    band_y: dict[Any, float] = {}
    band_rows: dict[Any, float] = {}
    y = 0.0
    for band in bands.order:
        keys = [k for k in blocks if k[1] == band]
        if not keys:
            if band == TOP and has_sums:
                band_y[band], band_rows[band] = y, -1.0
            continue
        rows = max(arrangements[k].rows for k in keys)
        below = any(view.is_constant(t) and arrangements[k].node[i][1] == 0
                    for k in keys for i, n in enumerate(blocks[k]) for t in n.inputs)
        if below and band_y:
            y += BELOW
        band_y[band] = y
        band_rows[band] = rows
        y += rows * row + BAND_GAP
    return band_y, band_rows


def _columns(lay: Layout, steps: Steps, has_outside: bool, step_width: float,
             origin: float) -> None:
    """Columns left to right: one of ``step_width`` per step (blocks arranged around
    ``origin`` from its left edge), a narrow one for the fold."""
    x = 0.0
    count = (max(steps.step_col) + 1) if steps.step_col else 0
    first_time = steps.first_times
    for col in range(count):
        if steps.fold_range is not None and col == steps.fold_range.start:
            width, label, clustered, key = FOLD_COLUMN, "", False, "fold"
        else:
            t = first_time[col]
            width, label, clustered, key = step_width, f"t = {shorten(t)}", True, t
        if steps.hides_column(col):
            width = 0.0
        lay.columns.append(Column(key, label, x + width / 2, x, x + width, clustered,
                                  x + (origin if key != "fold" else width / 2)))
        x += width
    if has_outside or not lay.columns:
        lay.columns.append(Column(None, "", x + step_width / 2, x, x + step_width, False,
                                  x + origin))


def _place_block(view: GraphView, lay: Layout, members: list[Node], arrangement: Arrangement,
                 steps: Steps, column: Column, base: float, width: float) -> None:
    """Place one block's nodes, Σs and leaves (and, in a one-step picture, the stubs standing
    for the states that come from the step before and go to the step after)."""
    namer = lay.namer
    for i, node in enumerate(members):
        number = view.number(node)
        dx, row = arrangement.node[i]
        x, y = column.origin + dx, base + row * lay.row
        lay.node_pos[number] = (x, y)
        lay.boxes[f"n{number}"] = Box(x, y, op_width(namer, node), OP_HEIGHT)
        out = node.output
        if i in arrangement.junction and out is not None and view.is_junction(out):
            jdx, jrow = arrangement.junction[i]
            tensor_number = view.tensor_number(out)
            lay.junction_pos[tensor_number] = (column.origin + jdx, base + jrow * lay.row)
            lay.boxes[f"j{tensor_number}"] = Box(column.origin + jdx, base + jrow * lay.row,
                                                 2 * JUNCTION_HALF, 2 * JUNCTION_HALF, True)
        initial = frozenset(k for (j, k) in arrangement.carried_in if j == i)
        for index, (ldx, ldy) in leaf_offsets(view, namer, node, arrangement.side[i], row,
                                              i in arrangement.recurrent, initial).items():
            tensor = node.inputs[index]
            lx, ly = x + ldx, y + ldy
            source = arrangement.carried_in.get((i, index))
            if source is not None and view.is_constant(tensor):
                lx, ly = initial_state_at(lay, node, i, leaf_width(namer, view, node, index),
                                           (x, y), source, arrangement, column, base, width)
            add_leaf(view, lay, node, index, lx, ly)
        if steps.only is not None:
            add_stubs(view, lay, steps, members, i, arrangement, column, base, width)


def _place_sums(view: GraphView, lay: Layout, steps: Steps) -> None:
    """A time sum on top, centred over the columns of its terms, above the elbows where the
    edges of its terms turn toward it (its leaves beside it)."""
    done = set()
    for chain in lay.sums.values():
        if id(chain) in done:
            continue
        done.add(id(chain))
        sources = [lay.boxes[f"n{view.number(t.producer)}"] for t, _, _ in chain.terms
                   if t.producer is not None and f"n{view.number(t.producer)}" in lay.boxes]
        drawn = [b for k, b in lay.boxes.items() if k[0] in "njpc"]
        elbow = max((b.y1 for b in drawn), default=0.0) + ELBOW
        xs = [b.x for b in sources] or [lay.columns[0].x]
        x, y = (min(xs) + max(xs)) / 2, elbow + ROW
        number = view.number(chain.node)
        cols = sorted({lay.node_col[view.number(t.producer)] for t, _, _ in chain.terms
                       if t.producer is not None})
        lay.node_pos[number] = (x, y)
        lay.node_col[number] = cols[-1] if cols else 0
        lay.sum_elbow[number] = elbow
        lay.boxes[f"n{number}"] = Box(x, y, sum_width(lay, chain), OP_HEIGHT + 2)
        leaves = [(reader, index) for t, reader, index in chain.terms if t.producer is None]
        for k, (reader, index) in enumerate(leaves):
            add_leaf(view, lay, reader, index, x + sum_width(lay, chain) / 2 + 40.0 + 60.0 * k, y)


def sum_width(lay: Layout, chain: TimeSum) -> float:
    """The width of a time sum's box."""
    return runs_width(sum_runs(lay, chain), FONT_SIZE) + 16.0


def sum_runs(lay: Layout, chain: TimeSum) -> list[tuple[str, str]]:
    """``L = Σ_t L_t``: the sum's name (L when it has none) and its terms' common name."""
    out = chain.node.output
    name = lay.namer.tensor(out) or [("L", "")]
    bases = {lay.namer.tensor(t)[0][0] if t.name else "" for t, _, _ in chain.terms}
    term = bases.pop() if len(bases) == 1 and "" not in bases else ""
    if not term or len(term) > 2:
        term = name[0][0] if len(name[0][0]) <= 2 else "L"
    return [*name, (" = Σ", ""), ("t", "sub"), (f" {term}", ""), ("t", "sub")]


def _place_fold(lay: Layout, steps: Steps) -> None:
    if steps.fold_range is None:
        return
    col = lay.columns[steps.step_col[steps.fold_range.start]]
    y0, y1 = lay.cluster_y
    lay.fold = FoldBox(col.x, (y0 + y1) / 2, col.x1 - col.x0 - 24, y1 - y0 - 30,
                       steps.times[steps.fold_range.start], steps.times[steps.fold_range.stop - 1],
                       len(steps.fold_range))
    lay.boxes["fold"] = Box(col.x, (y0 + y1) / 2, col.x1 - col.x0 - 24, y1 - y0 - 30)


def _place_output(view: GraphView, lay: Layout) -> None:
    """The output's box above its producer (a time sum is its own output box)."""
    out = view.output
    if out.producer is None or id(out.producer) in lay.sums:
        return
    x, y = lay.node_pos.get(view.number(out.producer), (0.0, 0.0))
    lay.output_pos = (x, y + 1.1 * ROW)
    lay.boxes["output"] = Box(x, y + 1.1 * ROW, text_width(out.name or "output", FONT_SIZE) + 50.0,
                              OP_HEIGHT)


def normalise(lay: Layout) -> None:
    """Shift everything so the drawing starts at MARGIN, band labels at the far left."""
    drawn = [b for k, b in lay.boxes.items() if not k.startswith("band")]
    if not drawn:
        lay.width, lay.height = 2 * MARGIN, 2 * MARGIN
        return
    label_width = max((text_width(t, TITLE_SIZE, 0.0) for t, _, _ in lay.band_labels if t),
                      default=0.0)
    shown = [c.x0 for c in lay.columns if c.x1 > c.x0]
    x_min = min(min(b.x0 for b in drawn), min(shown, default=math.inf))
    y_min = min(min(b.y0 for b in drawn), lay.cluster_y[0] - 4.0)
    dx = round(MARGIN + (label_width + 14.0 if label_width else 0.0) - x_min)
    dy = round(MARGIN - y_min)
    shift_all(lay, dx, dy)
    lay.band_labels = [(t, MARGIN + label_width / 2, y) for t, _, y in lay.band_labels]
    for i, (t, x, y) in enumerate(lay.band_labels):
        lay.boxes[f"band{i}"] = Box(x, y, text_width(t, TITLE_SIZE, 0.0), TITLE_SIZE * 1.3)
    lay.width = max(b.x1 for b in lay.boxes.values()) + MARGIN
    lay.height = max(max(b.y1 for b in lay.boxes.values()), lay.cluster_y[1]) + MARGIN


def shift_all(lay: Layout, dx: float, dy: float) -> None:
    """Move every position of ``lay`` by (dx, dy)."""
    def move(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] + dx, p[1] + dy)
    lay.node_pos = {k: move(p) for k, p in lay.node_pos.items()}
    lay.junction_pos = {k: move(p) for k, p in lay.junction_pos.items()}
    lay.leaf_pos = {k: move(p) for k, p in lay.leaf_pos.items()}
    lay.boxes = {k: Box(b.x + dx, b.y + dy, b.w, b.h, b.round) for k, b in lay.boxes.items()}
    lay.band_labels = [(t, x + dx, y + dy) for t, x, y in lay.band_labels]
    lay.columns = [Column(c.key, c.label, c.x + dx, c.x0 + dx, c.x1 + dx, c.clustered,
                          c.origin + dx) for c in lay.columns]
    lay.cluster_y = (lay.cluster_y[0] + dy, lay.cluster_y[1] + dy)
    lay.sum_elbow = {k: y + dy for k, y in lay.sum_elbow.items()}
    if lay.fold is not None:
        lay.fold.x += dx
        lay.fold.y += dy
    if lay.output_pos is not None:
        lay.output_pos = move(lay.output_pos)
