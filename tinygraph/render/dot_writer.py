"""DOT text for the unrolled graph: ops as nodes, tensors (and their gradients) as edges.

Everything is placed by tinygraph: nodes carry ``pos="x,y!"`` (from
:mod:`tinygraph.render.layout`), edges their whole route ``pos="e,…"`` (from
:mod:`tinygraph.render.routing`) and their label's centre ``lp`` (from
:mod:`tinygraph.render.placement`), so Graphviz (``neato -n2``) only draws. The picture is
identical at every step and fast at any length. Ids are numbers in creation order within
the graph (``n12`` is the 13th node created), so the same build gives the same text.

Labels are Graphviz HTML labels (sub- and superscripts for steps and layers); every user
text in them is escaped. The legend goes below the drawing (or beside it, or nowhere).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tinygraph.memory import human
from tinygraph.render import labels, style
from tinygraph.render.geometry import Box, Grid, boundary_point
from tinygraph.render.graph_view import GraphView
from tinygraph.render.layout import MARGIN, Column, Layout, shift_all, sum_runs
from tinygraph.render.leaves import stub_runs
from tinygraph.render.legend import build_legend, legend_rows
from tinygraph.render.names import Runs, runs_html, runs_lines, runs_text, runs_width
from tinygraph.render.options import Options
from tinygraph.render.placement import Request, place_labels
from tinygraph.render.routing import Router, beside
from tinygraph.render.safe_text import full_text_tip, shorten
from tinygraph.render.scene import Edge, SceneBuilder
from tinygraph.render.style import FONT_SIZE, LINE_HEIGHT, TITLE_SIZE, quote

PAIR = 3.6          # distance between a forward edge and its gradient
ARROW = 6.0         # arrowhead length (arrowsize 0.6)
PRIORITY = {"nonlocal": 0, "total": 1, "forward": 2, "gradient": 3, "output": 4}


def header(lay: Layout, title: str | None = None, width: float | None = None) -> list[str]:
    """The opening lines: edges under nodes, the bounding box, the ``title`` as the graph's
    label at the top left, and a ``size`` that scales the picture down to ``width`` pixels."""
    heading = (f"label={quote(title)}, labelloc=t, labeljust=l, fontsize=16, "
               if title else "")
    size = f'size="{width / 96:.2f},1000", ' if width is not None else ""
    return [
        "digraph tinygraph {",
        f'  graph [{heading}{size}splines=line, outputorder=edgesfirst, bb="0,0,{lay.width:.0f},'
        f'{lay.height:.0f}", pad=0.1, bgcolor=white, fontname={quote(style.FONT)}];',
        f'  node [fontname={quote(style.FONT)}, fontsize={FONT_SIZE:g}, margin="0,0"];',
        f"  edge [fontname={quote(style.FONT)}, fontsize={FONT_SIZE:g}, arrowsize=0.6];",
    ]


def attrs(**values: Any) -> str:
    """``[key=value, ...]`` with every value quoted (None values left out)."""
    parts = [f"{k}={quote(str(v))}" for k, v in values.items() if v is not None]
    return "[" + ", ".join(parts) + "]"


def html_attrs(label: str, **values: Any) -> str:
    """Like :func:`attrs`, the label an HTML label ``<…>`` (already escaped)."""
    rest = attrs(**values)[1:-1]
    return f"[label=<{label}>" + (f", {rest}" if rest else "") + "]"


def pos(x: float, y: float) -> str:
    """A pinned position in points."""
    return f"{x:.1f},{y:.1f}!"


def spline(route: list[tuple[float, float]]) -> str:
    """A polyline as a Graphviz edge ``pos``: the arrowhead's tip, then the Bézier points
    of straight pieces, the last one ending where the arrowhead starts."""
    (x1, y1), (x0, y0) = route[-1], route[-2]
    length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
    cut = min(ARROW, 0.8 * length) / length
    points = [*route[:-1], (x1 - (x1 - x0) * cut, y1 - (y1 - y0) * cut)]
    out = [points[0]]
    for (ax, ay), (bx, by) in pairwise(points):
        out += [(ax + (bx - ax) / 3, ay + (by - ay) / 3), (ax + 2 * (bx - ax) / 3,
                                                          ay + 2 * (by - ay) / 3), (bx, by)]
    return f"e,{x1:.1f},{y1:.1f} " + " ".join(f"{x:.1f},{y:.1f}" for x, y in out)


def label_height(runs: Runs) -> float:
    """The height of a label: its lines, each taller with a sub- or superscript."""
    return sum(FONT_SIZE * (LINE_HEIGHT + (0.35 if any(k for _, k in line) else 0.0))
               for line in runs_lines(runs))


class UnrolledWriter:
    """Builds the DOT lines of one unrolled picture from a view and its layout."""

    def __init__(self, view: GraphView, lay: Layout, opts: Options) -> None:
        self.view = view
        self.lay = lay
        self.opts = opts
        self.builder = SceneBuilder(view, lay, opts)

    def write(self, edges: list[Edge] | None = None, delays: bool = False) -> str:
        """The whole DOT text (of ``edges`` when given: the rolled view's)."""
        edges = self.builder.build() if edges is None else edges
        legend = self._legend(delays)
        self._add_column_labels()
        self._route(edges)
        self._place_labels(edges)
        clusters = self._clusters()
        inside = {line.split()[0] for line in clusters if line.startswith("    ")
                  and not line.startswith("    graph")}
        lines = header(self.lay, self.opts.title, self.opts.width)
        lines += clusters + self._nodes(inside) + legend
        lines += [self._edge_line(e) for e in edges]
        return "\n".join([*lines, "}"]) + "\n"

    # ------------------------------------------------------------------ geometry
    def _add_column_labels(self) -> None:
        y = self.lay.cluster_y[0] + 9.0
        for col, column in enumerate(self.lay.columns):
            if column.clustered and column.x1 > column.x0:
                self.lay.boxes[f"tlabel{col}"] = Box(
                    column.x, y, style.text_width(self._column_label(column), TITLE_SIZE, 4.0),
                    TITLE_SIZE * 1.3)

    def _column_label(self, column: Column) -> str:
        """A step's label: ``t = 3``, with show_saved what its nodes hold (``t = 3 · 512 B``)."""
        ledger = self.builder.ledger
        if ledger is None:
            return column.label
        return f"{column.label} · {human(ledger.by_step.get(column.key, 0))}"

    def _route(self, edges: list[Edge]) -> None:
        """Route every forward edge around the boxes; move each gradient beside its forward
        edge (PAIR apart); spread edges that join the same two boxes (x · x reads x twice)."""
        router = Router(self.lay.boxes)
        boxes = self.lay.boxes
        paired = {id(e.twin) for e in edges if e.twin is not None}
        parallel: dict[tuple[str, str], list[Edge]] = {}
        for edge in edges:
            if edge.twin is None:
                parallel.setdefault((edge.src, edge.dst), []).append(edge)
        spread = {id(e): (k - (len(group) - 1) / 2) * (2 * PAIR + 2.0)
                  for group in parallel.values() for k, e in enumerate(group)}
        unshifted: dict[int, list[tuple[float, float]]] = {}
        for edge in edges:
            if edge.twin is None:
                route = unshifted[id(edge)] = self._elbow(edge) or router.route(edge.src, edge.dst)
                shift = spread[id(edge)] - (PAIR / 2 if id(edge) in paired else 0.0)
                if shift:
                    route = beside(route, shift, boxes[edge.src], boxes[edge.dst])
                edge.route = route
        for edge in edges:
            if edge.twin is not None:
                forward = edge.twin
                moved = beside(unshifted[id(forward)], spread[id(forward)] + PAIR / 2,
                               boxes[forward.src], boxes[forward.dst])
                edge.route = moved[::-1]

    def _elbow(self, edge: Edge) -> list[tuple[float, float]] | None:
        """An edge into a time sum: straight up out of its step to the elbow, then to the sum
        (over everything, however many steps the sum adds); None for other edges."""
        if not edge.dst.startswith("n") or int(edge.dst[1:]) not in self.lay.sum_elbow:
            return None
        src, dst = self.lay.boxes[edge.src], self.lay.boxes[edge.dst]
        bend = (src.x, self.lay.sum_elbow[int(edge.dst[1:])])
        return [boundary_point(src, bend), bend, boundary_point(dst, bend)]

    def _place_labels(self, edges: list[Edge]) -> None:
        grid = Grid()
        for k, edge in enumerate(edges):
            grid.add_polyline(edge.route, k)
        paired = {id(e.twin) for e in edges if e.twin is not None}
        order = sorted((k for k, e in enumerate(edges) if e.runs),
                       key=lambda k: (PRIORITY.get(edges[k].kind, 4), k))
        index = {id(e): k for k, e in enumerate(edges)}
        twin_of = {id(e.twin): k for k, e in enumerate(edges) if e.twin is not None}
        requests = [Request(runs_width(edges[k].runs, FONT_SIZE) + 4.0,
                            label_height(edges[k].runs), edges[k].route,
                            PAIR + 1.5 if edges[k].twin is not None or id(edges[k]) in paired
                            else 0.0, k,
                            index.get(id(edges[k].twin)) if edges[k].twin is not None
                            else twin_of.get(id(edges[k])),
                            tuple(self.lay.boxes[end] for end in (edges[k].dst, edges[k].src)
                                  if end[0] in "pc")) for k in order]
        boxes = [b.grown(1.5) for key, b in self.lay.boxes.items()]
        for k, spot in zip(order, place_labels(requests, boxes, grid), strict=True):
            edges[k].label_at = spot

    def _legend(self, delays: bool) -> list[str]:
        opts, lay = self.opts, self.lay
        if opts.legend is False:
            return []
        rows = legend_rows(
            opts.view, params=any(k[0] == "p" for k in lay.boxes),
            junctions=any(k[0] == "j" for k in lay.boxes),
            nonlocal_edges=self.builder.nonlocal_drawn, folded=lay.fold is not None,
            scale=self.builder.scale, sums=bool(lay.sums), inferred=lay.bands.inferred,
            delays=delays, reverse=any(isinstance(b, tuple) for b in lay.bands.order),
            steps=any(c.clustered for c in lay.columns),
            checkpoints=any(n.op.name == "checkpoint" for n in self.view.nodes),
            saved=None if self.builder.ledger is None else self.builder.ledger.parameters)
        beside_it = opts.legend == "beside"
        drawing_width = lay.width - 2 * MARGIN
        legend = build_legend(rows, self.builder.scale, 1 if beside_it else
                              max(1, min(3, int(drawing_width // 300))))
        if beside_it:
            x, y = lay.width + legend.width / 2, lay.height - MARGIN - legend.height / 2
            lay.width += legend.width + MARGIN
        else:
            shift_all(lay, 0.0, legend.height + 8.0)
            x, y = MARGIN + legend.width / 2, MARGIN + legend.height / 2
            lay.height += legend.height + 8.0
            lay.width = max(lay.width, legend.width + 2 * MARGIN)
        return [f"  legend [label=<{legend.html}>, shape=plaintext, pos=\"{x:.1f},{y:.1f}!\", "
                'margin="0"]']

    # ------------------------------------------------------------------ nodes
    def _clusters(self) -> list[str]:
        by_col: dict[int, list[str]] = {}
        lay = self.lay
        for key in lay.boxes:
            if key.startswith("n") and int(key[1:]) not in lay.folded:
                node = self.view.nodes[int(key[1:])]
                col = lay.node_col[int(key[1:])]
                if lay.columns[col].clustered and "t" in node.scope and id(node) not in lay.sums:
                    by_col.setdefault(col, []).append(key)
        y0, y1 = lay.cluster_y
        lines = []
        for col, members in sorted(by_col.items()):
            column = lay.columns[col]
            lines.append(f"  subgraph cluster_t{col} {{")
            lines.append("    graph " + attrs(
                label=self._column_label(column),
                bb=f"{column.x0 + 4:.1f},{y0:.1f},{column.x1 - 4:.1f},{y1:.1f}",
                lp=f"{column.x:.1f},{y0 + 9:.1f}", style="rounded", color="#e3e3e3",
                fontsize=f"{TITLE_SIZE:g}"))
            lines += ["  " + self._node_line(key) for key in members]
            lines.append("  }")
        return lines

    def _nodes(self, clustered: set[str]) -> list[str]:
        lines = []
        for key in self.lay.boxes:
            if key in clustered or key.startswith("tlabel"):
                continue
            line = self._node_line(key)
            if line:
                lines.append(line)
        return lines

    def _node_line(self, key: str) -> str:
        box = self.lay.boxes[key]
        size = {"width": f"{box.w / 72:.3f}", "height": f"{box.h / 72:.3f}", "fixedsize": "true"}
        kind = key[0] if not key.startswith(("fold", "output", "band")) else key.rstrip("0123456789")
        if kind == "n":
            return self._op_line(key, box, size)
        if kind == "j":
            tensor = self.view.tensors[int(key[1:])]
            return f"  {key} " + attrs(
                label="Σ", pos=pos(box.x, box.y), shape="circle", style="filled", **size,
                fontsize="10", fillcolor=style.JUNCTION_FILL, color=style.JUNCTION_LINE,
                tooltip=f"junction of {shorten(tensor.name) if tensor.name else 'a tensor'}: "
                        f"{len(self.view.readers[id(tensor)])} readers")
        if kind in "pc":
            return self._leaf_line(key, box, size)
        if kind in "so":
            key_numbers = tuple(int(v) for v in key[1:].split("_"))
            runs = stub_runs(self.lay, self.view, key_numbers, incoming=kind == "s")
            return f"  {key} " + html_attrs(
                f'<FONT COLOR="{style.NONLOCAL}">{runs_html(runs, FONT_SIZE)}</FONT>',
                pos=pos(box.x, box.y), shape="plaintext", **size,
                tooltip="a step not drawn (view='step' draws one step)")
        if kind == "fold":
            fold = self.lay.fold
            label = (f"t = {shorten(fold.first_t)} … {shorten(fold.last_t)}\n"
                     f"{fold.count} steps folded\n(max_steps={self.opts.max_steps})")
            return "  fold " + attrs(
                label=label, pos=pos(box.x, box.y), shape="box", style="rounded,filled,dashed",
                fillcolor=style.FOLD_FILL, color="#888888", fontcolor="#444444", **size,
                fontsize="11")
        if kind == "output":
            out = self.view.output
            name = shorten(out.name) if out.name else "output"
            value = f" = {labels.value_text(out.data)}" if out.data.size == 1 else ""
            return "  output " + attrs(
                label=self.lay.output_label or f"{name}{value}", pos=pos(box.x, box.y),
                shape="box", style="filled", fillcolor=style.OUTPUT_FILL,
                color=style.OUTPUT_LINE, **size, tooltip=full_text_tip(out.name or ""))
        if kind == "z":
            return f"  {key} " + attrs(
                label="z⁻¹", pos=pos(box.x, box.y), shape="box", style="rounded,filled",
                fillcolor="#efe1f5", color=style.NONLOCAL, fontcolor=style.NONLOCAL, **size,
                tooltip="delay: the value of the previous step")
        if kind == "band":
            text, x, y = self.lay.band_labels[int(key[4:])]
            return f"  {key} " + attrs(label=text, pos=pos(x, y), shape="plaintext",
                                       fontcolor="#777777", fontsize=f"{TITLE_SIZE:g}", **size)
        return ""

    def _op_line(self, key: str, box: Box, size: dict[str, str]) -> str:
        number = int(key[1:])
        node = self.view.nodes[number]
        chain = self.lay.sums.get(id(node))
        if chain is not None:
            runs = sum_runs(self.lay, chain)
            return f"  {key} " + html_attrs(
                runs_html(runs, FONT_SIZE), pos=pos(box.x, box.y), shape="box", style="filled",
                fillcolor=style.OUTPUT_FILL, color=style.OUTPUT_LINE, **size,
                tooltip=f"{runs_text(runs)}: {len(chain.terms)} terms ({len(chain.members)} "
                        f"ops: {', '.join(sorted({m.op.name for m in chain.members}))})")
        runs = self.lay.namer.op(node)
        look: dict[str, str] = {"fillcolor": style.OP_FILL, "color": style.OP_LINE}
        tooltip = f"{node.where()} #{number}"
        if node.op.name == "checkpoint":  # one box for a segment, run again in backward
            look = {"fillcolor": style.CHECKPOINT_FILL, "color": style.CHECKPOINT_LINE,
                    "peripheries": "2"}
            tooltip += (": keeps only its inputs and output; the backward pass runs the segment "
                        "again and back-propagates through it")
        if self.builder.ledger is not None:
            tooltip += f"; holds {human(self.builder.held.get(id(node), 0))} for backward"
        return f"  {key} " + html_attrs(
            runs_html(runs, FONT_SIZE), pos=pos(box.x, box.y), shape="box",
            style="rounded,filled", **look, **size, tooltip=tooltip)

    def _leaf_line(self, key: str, box: Box, size: dict[str, str]) -> str:
        tensor_number, number, _ = (int(v) for v in key[1:].split("_"))
        tensor = self.view.tensors[tensor_number]
        runs = self.lay.namer.leaf(tensor, self.view.nodes[number])
        if key[0] == "p":
            return f"  {key} " + html_attrs(
                runs_html(runs, FONT_SIZE), pos=pos(box.x, box.y), shape="box", style="filled",
                fillcolor=style.PARAM_FILL, color=style.PARAM_LINE, **size,
                tooltip=f"parameter {tensor.name or 'param'} "
                        f"[{labels.shape_text(tensor.shape)}], the same tensor at every step")
        return f"  {key} " + html_attrs(
            f'<FONT COLOR="{style.CONST_COLOR}">{runs_html(runs, FONT_SIZE)}</FONT>',
            pos=pos(box.x, box.y), shape="plaintext", **size,
            tooltip=full_text_tip(tensor.name or ""))

    # ------------------------------------------------------------------ edges
    def _edge_line(self, edge: Edge) -> str:
        values = dict(edge.attrs)
        values["pos"] = spline(edge.route) if len(edge.route) >= 2 else None
        if edge.runs and edge.label_at is not None:
            values["lp"] = f"{edge.label_at[0]:.1f},{edge.label_at[1]:.1f}"
            color = values.get("fontcolor")
            label = runs_html(edge.runs, FONT_SIZE)
            if color:
                label = f'<FONT COLOR="{color}">{label}</FONT>'
            values.pop("fontcolor", None)
            return f"  {edge.src} -> {edge.dst} " + html_attrs(label, **values)
        values.pop("fontcolor", None)
        if edge.runs:          # no room beside the edge: the label is its tooltip
            values["tooltip"] = values.get("tooltip") or runs_text(edge.runs)
        return f"  {edge.src} -> {edge.dst} " + attrs(**values)
