"""Leaves and stubs: where a parameter's copy, a constant, an initial state or a one-step
picture's stub goes, and how it moves when its place is taken.

A leaf's first place comes from its block's arrangement (:func:`~tinygraph.render.
block_arrangement.leaf_offsets`); an initial state (h_init, c_init) goes where the previous
step's state would come from; a stub of ``view="step"`` stands for the state entering from
the step before (placed as an initial state) or leaving for the step after. Then every leaf
that overlaps a box moves to the nearest free place around the box it is drawn for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinygraph.node import Node
from tinygraph.render.block_arrangement import LEAF_HEIGHT, ROW, Arrangement, leaf_width, op_width
from tinygraph.render.geometry import Box, Grid
from tinygraph.render.graph_view import GraphView
from tinygraph.render.names import runs_width
from tinygraph.render.safe_text import shorten
from tinygraph.render.steps import Steps
from tinygraph.render.style import FONT_SIZE

if TYPE_CHECKING:
    from tinygraph.render.layout import Column, Layout

CONST_HEIGHT = 14.0


def add_stubs(view: GraphView, lay: Layout, steps: Steps, members: list[Node], i: int,
               arrangement: Arrangement, column: Column, base: float, width: float) -> None:
    """Stubs for a one-step picture: ``s…`` where a state from another step enters node
    ``i`` (placed as an initial state would be, the state's source taken to be the block's
    own state of the same role), ``o…`` where its output leaves for one."""
    node = members[i]
    number = view.number(node)
    leaving = [j for j, n in enumerate(members) if n.output is not None and any(
        steps.hidden(r) for r, _ in view.readers.get(id(n.output), ()))]
    same_role = max(leaving, key=lambda j: (j in arrangement.junction, arrangement.node[j][1]),
                    default=i)
    x, y = lay.node_pos[number]
    for index, tensor in enumerate(node.inputs):
        producer = tensor.producer
        if producer is None or not steps.hidden(producer):
            continue
        key = (view.tensor_number(tensor), number, index)
        text = stub_runs(lay, view, key, incoming=True)
        w = runs_width(text, FONT_SIZE) + 6.0
        source = arrangement.carried_in.get((i, index), (same_role, -1 if steps.col_of[
            id(producer)] < steps.only else 1))
        sx, sy = initial_state_at(lay, node, i, w, (x, y), source, arrangement, column, base, width)
        lay.boxes[f"s{key[0]}_{number}_{index}"] = Box(sx, sy, w, CONST_HEIGHT)
    out = node.output
    if out is None:
        return
    tensor_number = view.tensor_number(out)
    fx, fy = lay.junction_pos.get(tensor_number, (x, y))
    for reader, index in view.readers.get(id(out), ()):
        if not steps.hidden(reader):
            continue
        key = (tensor_number, view.number(reader), index)
        text = stub_runs(lay, view, key, incoming=False)
        w = runs_width(text, FONT_SIZE) + 6.0
        later = steps.col_of[id(reader)] > steps.only
        lay.boxes[f"o{key[0]}_{key[1]}_{index}"] = Box(
            fx + (0.5 if later else -0.5) * width, fy - 1.5 * ROW, w, CONST_HEIGHT)


def stub_runs(lay: Layout, view: GraphView, key: tuple[int, int, int],
              incoming: bool) -> list[tuple[str, str]]:
    """A stub's text: the state that enters (its name) or where the state goes (its step)."""
    tensor = view.tensors[key[0]]
    if incoming:
        return lay.namer.tensor(tensor) or [("from t = " + shorten(tensor.producer.scope.get("t")), "")]
    reader = view.nodes[key[1]]
    return [(f"to t = {shorten(reader.scope.get('t'))}", "")]


def initial_state_at(lay: Layout, node: Node, i: int, leaf: float, at: tuple[float, float],
                      source: tuple[int, int], arrangement: Arrangement, column: Column,
                      base: float, width: float) -> tuple[float, float]:
    """Where an initial state (h_0, c_0) of width ``leaf`` goes: beside a through line, toward
    the previous step; otherwise part of the way to where that step's state would be."""
    j, delta = source
    if i in arrangement.through:
        half = op_width(lay.namer, node) / 2 + 14.0 + leaf / 2
        return (at[0] + (-half if delta < 0 else half), at[1])
    jdx, jrow = arrangement.junction.get(j, arrangement.node[j])
    sx, sy = column.origin + jdx + delta * width, base + jrow * lay.row
    return (at[0] + 0.42 * (sx - at[0]), at[1] + 0.42 * (sy - at[1]))


def add_leaf(view: GraphView, lay: Layout, node: Node, index: int, x: float, y: float) -> None:
    tensor = node.inputs[index]
    number = view.number(node)
    key = (view.tensor_number(tensor), number, index)
    lay.leaf_pos[key] = (x, y)
    height = LEAF_HEIGHT if view.is_parameter(tensor) else CONST_HEIGHT
    prefix = "p" if view.is_parameter(tensor) else "c"
    lay.boxes[f"{prefix}{key[0]}_{number}_{index}"] = Box(
        x, y, leaf_width(lay.namer, view, node, index), height)


def settle_leaves(view: GraphView, lay: Layout) -> None:
    """Move a leaf (or a stub) that overlaps a box to the first free place around the box it
    is drawn for (its reader; for a stub to a later step, the state's Σ or producer): near
    its place, the other side, below, above, or further out."""
    grid = Grid()
    leaves = {k: b for k, b in lay.boxes.items() if k[0] in "pcso"}
    for key, box in lay.boxes.items():
        if key not in leaves:
            grid.add_box(box.grown(3.0), key)
    for key in sorted(leaves, key=_leaf_order):
        box = leaves[key]
        tensor_number, number, _ = (int(v) for v in key[1:].split("_"))
        if key[0] == "o":
            producer = view.tensors[tensor_number].producer
            reader = lay.boxes.get(f"j{tensor_number}") or lay.boxes[f"n{view.number(producer)}"]
        else:
            reader = lay.boxes[f"n{number}"]
        for candidate in _leaf_candidates(box, reader):
            near = grid.boxes_near(candidate.x0, candidate.y0, candidate.x1, candidate.y1)
            if not any(candidate.overlaps(b) for b, _ in near):
                break
        lay.boxes[key] = candidate
        if key[0] in "pc":
            lay.leaf_pos[tuple(int(v) for v in key[1:].split("_"))] = (candidate.x, candidate.y)
        grid.add_box(candidate.grown(3.0), key)


def _leaf_order(key: str) -> tuple[int, int, int]:
    tensor_number, number, index = (int(v) for v in key[1:].split("_"))
    return (number, index, tensor_number)


def _leaf_candidates(box: Box, reader: Box) -> list[Box]:
    """Where a leaf may go when its place is taken: near its place first (moved along the
    line to its reader, or a little up, down, out), then the other side of its reader, below
    and above it, and further out."""
    dx, dy = box.x - reader.x, box.y - reader.y
    out = [box]
    for f in (0.75, 1.25, 0.5, 1.5):
        out.append(Box(reader.x + dx * f, reader.y + dy * f, box.w, box.h))
    for step in (0.5 * ROW, -0.5 * ROW):
        out.append(Box(box.x, box.y + step, box.w, box.h))
    out.append(Box(reader.x - dx, box.y, box.w, box.h))
    for y in (reader.y - 0.85 * ROW, reader.y + 0.85 * ROW):
        out.append(Box(reader.x, y, box.w, box.h))
    sign = 1.0 if dx >= 0 else -1.0
    for k in range(1, 4):
        out.append(Box(box.x + sign * 24.0 * k, box.y, box.w, box.h))
        out.append(Box(box.x, box.y - 0.5 * ROW * k, box.w, box.h))
    return out
