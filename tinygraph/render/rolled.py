"""The rolled (folded) picture of a recurrent graph: one step, recurrences through a delay z⁻¹.

From the unrolled layout it keeps one step s (the last step that still feeds a next one) and
draws it exactly as the unrolled picture draws step s, its tensors named for a generic step
(h_t, a_t). Every input that step s reads from step s−1 (h_(t−1) read by the recurrence)
comes instead from the op of step s that plays the same role (same block, same place),
through a delay node ``z⁻¹``: h_t = f(x_t, h_(t−1)). Tensors read outside the steps (the sum
of the losses) go to one output node. Routing, labels and the legend are the unrolled
picture's (:mod:`tinygraph.render.dot_writer`).
"""

from __future__ import annotations

from typing import Any

from tinygraph.node import Node
from tinygraph.render import style
from tinygraph.render.block_arrangement import ROW, signature
from tinygraph.render.geometry import Box
from tinygraph.render.graph_view import GraphView
from tinygraph.render.layout import Layout, normalise
from tinygraph.render.names import Namer, runs_width
from tinygraph.render.options import Options
from tinygraph.render.scene import Edge
from tinygraph.render.style import FONT_SIZE

DELAY_WIDTH = 34.0


def write_rolled(view: GraphView, lay: Layout, opts: Options) -> str:
    """DOT text of the rolled view (forward tensors only)."""
    from tinygraph.render.dot_writer import UnrolledWriter
    steps = [i for i, c in enumerate(lay.columns) if c.clustered]
    step = steps[-2] if len(steps) >= 2 else (steps[0] if steps else len(lay.columns) - 1)
    members = [n for n in view.nodes if lay.node_col.get(view.number(n)) == step
               and "t" in n.scope and view.number(n) in lay.node_pos and id(n) not in lay.sums]
    _keep_only(view, lay, members, step)
    time_of = {id(n): "t" for n in members}
    lay.namer = Namer(view.is_parameter, lay.bands.of, lay.bands.layered, time_of)
    before = steps[steps.index(step) - 1] if step in steps and steps.index(step) > 0 else None
    edges = RolledScene(view, lay, members, _counterparts(view, lay, before, step)).build()
    normalise(lay)
    return UnrolledWriter(view, lay, opts).write(edges, delays=any(e.dst.startswith("z") for e in edges))


def _keep_only(view: GraphView, lay: Layout, members: list[Node], step: int) -> None:
    """Leave in ``lay.boxes`` only the boxes of step ``step`` (and the band names)."""
    numbers = {view.number(n) for n in members}
    named = {lay.bands.label(lay.bands.of.get(id(n))) for n in members}
    kept = {}
    for key, box in lay.boxes.items():
        if key.startswith("band"):
            if lay.band_labels[int(key[4:])][0] in named:
                kept[key] = box
        elif key[0] == "n" and key[1:].isdigit() and int(key[1:]) in numbers:
            kept[key] = box
        elif key[0] == "j" and key[1:].isdigit():
            producer = view.tensors[int(key[1:])].producer
            if producer is not None and view.number(producer) in numbers:
                kept[key] = box
        elif key[0] in "pc" and int(key[1:].split("_")[1]) in numbers:
            kept[key] = box
    lay.boxes = kept
    lay.fold = None
    lay.sums = {}
    lay.columns = [c if i == step else type(c)(c.key, c.label, c.x, c.x, c.x, False, c.origin)
                   for i, c in enumerate(lay.columns)]
    lay.columns[step].label = "one step t"


def _counterparts(view: GraphView, lay: Layout, before: int | None,
                  step: int) -> dict[int, Node]:
    """For each node of column ``before``: the node of ``step`` in the same place of the same
    block (the op that plays its role one step later)."""
    if before is None:
        return {}
    blocks: dict[tuple[int, Any], list[Node]] = {}
    for node in view.nodes:
        col = lay.node_col.get(view.number(node))
        if col in (before, step) and "t" in node.scope:
            blocks.setdefault((col, lay.bands.of.get(id(node))), []).append(node)
    result: dict[int, Node] = {}
    for (col, band), earlier in blocks.items():
        if col != before:
            continue
        here = blocks.get((step, band), [])
        if signature(here) == signature(earlier):
            result.update({id(a): b for a, b in zip(earlier, here)})
    return result


class RolledScene:
    """The forward edges of the kept step, the delays, and the edges to the output."""

    def __init__(self, view: GraphView, lay: Layout, members: list[Node],
                 counterpart: dict[int, Node]) -> None:
        self.view = view
        self.lay = lay
        self.members = members
        self.inside = {id(n) for n in members}
        self.counterpart = counterpart
        self.edges: list[Edge] = []
        self.delays: dict[str, str] = {}       # source box -> its delay box
        drawn = [b for k, b in lay.boxes.items() if not k.startswith("band")]
        self.left = min(b.x0 for b in drawn) - 30.0 if drawn else 0.0
        self.right = max(b.x1 for b in drawn) + 30.0 if drawn else 0.0

    def build(self) -> list[Edge]:
        """Every edge of the rolled picture."""
        view, lay = self.view, self.lay
        to_output = []
        for node in self.members:
            number = view.number(node)
            for index, tensor in enumerate(node.inputs):
                producer = tensor.producer
                if producer is None:
                    prefix = "p" if view.is_parameter(tensor) else "c"
                    leaf = f"{prefix}{view.tensor_number(tensor)}_{number}_{index}"
                    if leaf in lay.boxes:
                        color = style.PARAM_LINE if prefix == "p" else style.CONST_COLOR
                        self._add(leaf, f"n{number}", [], color=color)
                elif id(producer) in self.inside:
                    source = self._source(tensor)
                    named = not source.startswith("j") or lay.bands.differ(producer, node)
                    self._add(source, f"n{number}", lay.namer.tensor(tensor) if named else [])
                elif id(producer) in self.counterpart:
                    self._delayed(self.counterpart[id(producer)], node)
            out = node.output
            if out is not None and any("t" not in r.scope for r, _ in view.readers.get(id(out), ())):
                to_output.append(out)
        for tensor in view.tensors:
            junction = f"j{view.tensor_number(tensor)}"
            if junction in lay.boxes:
                self._add(f"n{view.number(tensor.producer)}", junction, lay.namer.tensor(tensor))
        self._output(to_output)
        return self.edges

    def _add(self, src: str, dst: str, runs: list, **attrs: Any) -> None:
        self.edges.append(Edge(src, dst, "forward", {"color": style.FORWARD, **attrs}, list(runs)))

    def _source(self, tensor: Any) -> str:
        junction = f"j{self.view.tensor_number(tensor)}"
        return junction if junction in self.lay.boxes else f"n{self.view.number(tensor.producer)}"

    def _delayed(self, producer: Node, reader: Node) -> None:
        """producer's output (this step's h_t) -> z⁻¹ -> reader (which reads h_(t−1))."""
        view, lay = self.view, self.lay
        out = producer.output
        source = self._source(out)
        delay = self.delays.get(source)
        if delay is None:
            delay = f"z{view.tensor_number(out)}"
            self.delays[source] = delay
            src, dst = lay.boxes[source], lay.boxes[f"n{view.number(reader)}"]
            side = -1.0 if dst.x <= src.x + 1.0 else 1.0
            x = self.left if side < 0 else self.right
            if abs(src.y - dst.y) < 1.0:                      # a through line: above it
                x, y = (src.x + dst.x) / 2, src.y + 0.75 * ROW
            else:
                y = (src.y + dst.y) / 2
            lay.boxes[delay] = Box(x, y, DELAY_WIDTH, 20.0)
            self.edges.append(Edge(source, delay, "forward", {"color": style.NONLOCAL},
                                   lay.namer.tensor(out)))
        name = lay.namer.tensor(out)
        runs = [(name[0][0], ""), ("t−1", "sub"), *name[2:]] if len(name) >= 2 and \
            name[1][1] == "sub" else list(name)
        self.edges.append(Edge(delay, f"n{view.number(reader)}", "forward",
                               {"color": style.NONLOCAL, "fontcolor": style.NONLOCAL}, runs))

    def _output(self, outputs: list) -> None:
        if not outputs:
            return
        view, lay = self.view, self.lay
        name = view.output.name or "output"
        label = f"{name} = Σ over t"
        top = max(b.y1 for b in lay.boxes.values())
        xs = [lay.boxes[self._source(t)].x for t in outputs]
        lay.boxes["output"] = Box(sum(xs) / len(xs), top + ROW,
                                  runs_width([(label, "")], FONT_SIZE) + 18.0, 22.0)
        lay.output_label = label
        for tensor in outputs:
            self._add(self._source(tensor), "output", lay.namer.tensor(tensor))

