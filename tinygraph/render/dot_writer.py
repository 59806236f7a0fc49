"""DOT text for the unrolled graph: ops as nodes, tensors (and their gradients) as edges.

Every node carries ``pos="x,y!"`` in points from :mod:`tinygraph.render.layout`, so Graphviz
only draws (``neato -n2``, straight edges): the layout is ours, identical at every step and
fast at any length. Ids come from ranks within the graph (``n12`` is the 13th node created),
so the same build gives the same text.

Views: ``forward`` draws tensors, ``backward`` their gradients (consumer to producer),
``both`` draws both. A junction Σ receives one gradient edge per reader; a gradient sent by a
reader in a later step is the non-local gradient, drawn bold purple and labelled "from t+1".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import RenderError
from tinygraph.memory import human, saved_bytes
from tinygraph.node import Node
from tinygraph.render import style
from tinygraph.render.graph_view import GraphView
from tinygraph.render.layout import Layout, time_key
from tinygraph.render.legend import legend_label
from tinygraph.render.options import Options
from tinygraph.render.safe_text import full_text_tip, shorten
from tinygraph.render.style import NormScale, quote
from tinygraph.tensor import Tensor

def header(lay: Layout, title: str | None = None) -> list[str]:
    """The opening lines: straight edges, edges under nodes, the bounding box, and the
    ``title`` as the graph's label at the top left (Graphviz makes room for it)."""
    heading = (f"label={quote(title)}, labelloc=t, labeljust=l, fontsize=18, "
               if title else "")
    return [
        "digraph tinygraph {",
        f'  graph [{heading}splines=line, outputorder=edgesfirst, bb="0,0,{lay.width:.0f},'
        f'{lay.height:.0f}", pad=0.2, bgcolor=white, fontname={quote(style.FONT)}];',
        f'  node [fontname={quote(style.FONT)}, fontsize=10, height=0.3, margin="0.04,0.02"];',
        f"  edge [fontname={quote(style.FONT)}, fontsize=8, arrowsize=0.6];",
    ]


def attrs(**values: Any) -> str:
    """``[key=value, ...]`` with every value quoted (None values left out)."""
    parts = [f"{k}={quote(str(v))}" for k, v in values.items() if v is not None]
    return "[" + ", ".join(parts) + "]"


def pos(x: float, y: float) -> str:
    """A pinned position in points."""
    return f"{x:.1f},{y:.1f}!"


def tensor_text(tensor: Tensor, opts: Options, saved: int | None = None) -> str:
    """An edge label: ``name [shape]`` (and ``= value`` when values are shown, and ``· 96 B``,
    what its producer holds for backward, when ``saved`` is given)."""
    parts = [shorten(tensor.name)] if tensor.name else []
    if opts.show_shapes:
        parts.append(f"[{style.shape_text(tensor.shape)}]")
    if opts.show_values:
        parts.append("= " + style.array_text(tensor.data))
    if saved is not None:
        parts.append(f"· {human(saved)}")
    return " ".join(parts)


def grad_text(tensor: Tensor, grad: np.ndarray | None, opts: Options, note: str = "") -> str:
    """A gradient edge label: ``∂L/∂name`` plus the value or norm when asked for."""
    parts = [f"∂L/∂{shorten(tensor.name)}"] if tensor.name else []
    if note:
        parts.append(note)
    if grad is not None and opts.show_grads:
        parts.append(style.array_text(grad))
    elif grad is not None and opts.show_grad_norms:
        parts.append(style.norm_text(grad))
    return " ".join(parts)


class UnrolledWriter:
    """Builds the DOT lines of one unrolled picture from a view and its layout."""

    def __init__(self, view: GraphView, lay: Layout, opts: Options) -> None:
        self.view = view
        self.lay = lay
        self.opts = opts
        self.forward = opts.view in ("forward", "both")
        self.backward = opts.view in ("backward", "both")
        self.scale = self._scale() if opts.color_by == "grad_norm" else None
        self.lines: list[str] = []
        self.edges: list[str] = []
        self.seen_edges: set[tuple[str, str, str]] = set()
        self.nonlocal_drawn = False
        self.ledger = saved_bytes(view.output) if opts.show_saved else None
        self.held = {id(row.node): row.bytes for row in self.ledger.nodes} if self.ledger else {}

    def write(self) -> str:
        """The whole DOT text."""
        self.legend_x = self.lay.width + 170.0
        if self.opts.legend:
            self.lay.width += 360.0
        self.lines = header(self.lay, self.opts.title)
        self._clusters()
        self._untimed_nodes()
        self._junction_nodes()
        self._edges()
        self._decorations()
        return "\n".join(self.lines + self.edges + ["}"]) + "\n"

    # ------------------------------------------------------------------ nodes
    def _op_line(self, node: Node) -> str:
        rank = self.view.rank(node)
        x, y = self.lay.node_pos[rank]
        label = style.op_label(node)
        if style.is_checkpoint(node):  # one box for a segment, recomputed in the backward pass
            look = {"fillcolor": style.CHECKPOINT_FILL, "color": style.CHECKPOINT_LINE,
                    "peripheries": "2", "height": "0.42",
                    "tooltip": f"{node.where()} #{rank}: keeps only its inputs and output; the "
                               "backward pass runs the segment again and back-propagates "
                               "through it"}
        else:
            look = {"fillcolor": style.OP_FILL, "color": style.OP_LINE,
                    "tooltip": f"{node.where()} #{rank}"}
        tooltip = look.pop("tooltip")
        if self.ledger is not None:
            tooltip += f"; holds {human(self.held.get(id(node), 0))} for backward"
        return (f"    n{rank} " + attrs(
            label=label, pos=pos(x, y), shape="box", style="rounded,filled",
            width=f"{style.text_width(label, 10) / 72:.2f}", fixedsize="true",
            tooltip=tooltip, **look))

    def _saved(self, tensor: Tensor) -> int | None:
        """What the producer of ``tensor`` holds for backward (None unless show_saved)."""
        if self.ledger is None or tensor.producer is None:
            return None
        return self.held.get(id(tensor.producer), 0)

    def _cluster_label(self, label: str, members: list[Node]) -> str:
        if self.ledger is None:
            return label
        total = sum(self.held.get(id(node), 0) for node in members)
        return f"{label} · {human(total)}"

    def _clusters(self) -> None:
        by_col: dict[int, list[Node]] = {}
        for node in self.view.nodes:
            rank = self.view.rank(node)
            if rank in self.lay.folded:
                continue
            col = self.lay.node_col[rank]
            if self.lay.columns[col].clustered and "t" in node.scope:
                by_col.setdefault(col, []).append(node)
        y0, y1 = self.lay.cluster_y
        for col, members in sorted(by_col.items()):
            column = self.lay.columns[col]
            self.lines.append(f"  subgraph cluster_t{col} {{")
            self.lines.append(
                "    graph " + attrs(label=self._cluster_label(column.label, members),
                                     bb=f"{column.x0 + 8:.1f},{y0:.1f},"
                                     f"{column.x1 - 8:.1f},{y1:.1f}",
                                     lp=f"{column.x:.1f},{y0 + 12:.1f}", style="rounded,dashed",
                                     color="#b0b0b0", fontsize="13"))
            for node in members:
                self.lines.append(self._op_line(node))
            self.lines.append("  }")

    def _untimed_nodes(self) -> None:
        for node in self.view.nodes:
            rank = self.view.rank(node)
            if rank in self.lay.folded or "t" in node.scope:
                continue
            self.lines.append(self._op_line(node))

    def _junction_nodes(self) -> None:
        for trank, (x, y) in sorted(self.lay.junction_pos.items()):
            tensor = self.view.tensors[trank]
            self.lines.append(f"  j{trank} " + attrs(
                label="Σ", pos=pos(x, y), shape="circle", style="filled", width="0.26",
                fixedsize="true", fontsize="10", fillcolor=style.JUNCTION_FILL,
                color=style.JUNCTION_LINE,
                tooltip=f"junction of {tensor.name or 'a tensor'}: "
                        f"{len(self.view.readers[id(tensor)])} readers"))

    def _leaf_node(self, tensor: Tensor, reader_rank: int, index: int) -> str:
        trank = self.view.trank(tensor)
        x, y = self.lay.leaf_pos[(trank, reader_rank, index)]
        if self.view.is_parameter(tensor):
            name = f"p{trank}_{reader_rank}_{index}"
            label = style.param_label(tensor)
            self.lines.append(f"  {name} " + attrs(
                label=label, pos=pos(x, y), shape="box", style="filled", fontsize="9",
                fillcolor=style.PARAM_FILL, color=style.PARAM_LINE, height="0.24",
                width=f"{style.text_width(label, 9) / 72:.2f}", fixedsize="true",
                tooltip=f"parameter {tensor.name or label} [{style.shape_text(tensor.shape)}], "
                        "the same tensor at every step"))
        else:
            name = f"c{trank}_{reader_rank}_{index}"
            label = style.constant_name(tensor)
            self.lines.append(f"  {name} " + attrs(
                label=label, pos=pos(x, y), shape="plaintext", fontsize="9",
                fontcolor=style.CONST_COLOR, height="0.2", width="0.3",
                tooltip=full_text_tip(tensor.name or "")))
        return name

    # ------------------------------------------------------------------ edges
    def _item(self, node: Node) -> str:
        rank = self.view.rank(node)
        return "fold" if rank in self.lay.folded else f"n{rank}"

    def _edge(self, src: str, dst: str, kind: str, **values: Any) -> None:
        if src == dst == "fold":
            return
        if "fold" in (src, dst):
            key = (src, dst, kind)
            if key in self.seen_edges:
                return
            self.seen_edges.add(key)
            values.pop("label", None)
        self.edges.append(f"  {src} -> {dst} " + attrs(**values))

    def _edges(self) -> None:
        view = self.view
        for node in view.nodes:
            reader = self._item(node)
            rank = view.rank(node)
            for index, tensor in enumerate(node.inputs):
                if tensor.producer is None:
                    if reader != "fold":
                        self._leaf_edges(tensor, node, rank, index)
                    continue
                self._tensor_edges(tensor, node, reader, index)
        for tensor in view.tensors:
            if view.is_junction(tensor) and view.trank(tensor) in self.lay.junction_pos:
                self._junction_in(tensor)

    def _leaf_edges(self, tensor: Tensor, node: Node, rank: int, index: int) -> None:
        leaf = self._leaf_node(tensor, rank, index)
        reader = f"n{rank}"
        if self.view.is_constant(tensor):
            if self.forward or not self.backward:
                show = self.opts.show_shapes and tensor.data.size > 1
                label = f"[{style.shape_text(tensor.shape)}]" if show else None
                self._edge(leaf, reader, "f", color=style.CONST_COLOR, label=label,
                           fontcolor=style.CONST_COLOR)
            return
        if self.forward:
            self._edge(leaf, reader, "f", **self._norm_style(self.view.total_grad(tensor),
                                                            style.PARAM_LINE))
        if self.backward:
            grad = self.view.contribution(tensor, node, index)
            # The edge to a parameter's copy is short: its gradient goes under the copy's box
            # (the label angle turns with the edge, so its sign depends on the copy's side).
            text = grad_text(tensor, grad, self.opts) if (self.opts.show_grads
                                                          or self.opts.show_grad_norms) else None
            copy_x = self.lay.leaf_pos[(self.view.trank(tensor), rank, index)][0]
            right = copy_x > self.lay.node_pos.get(rank, (copy_x - 1.0, 0.0))[0]
            self._edge(reader, leaf, "b", style="dashed", **self._grad_style(grad, style.GRADIENT),
                       headlabel=text, labelangle=("70" if right else "-70") if text else None,
                       labeldistance="2.6" if text else None)

    def _tensor_edges(self, tensor: Tensor, node: Node, reader: str, index: int) -> None:
        view = self.view
        producer = self._item(tensor.producer)
        junction = view.is_junction(tensor) and view.trank(tensor) in self.lay.junction_pos
        source = f"j{view.trank(tensor)}" if junction else producer
        if self.forward:
            label = None if junction else tensor_text(tensor, self.opts, self._saved(tensor))
            self._edge(source, reader, "f", **self._norm_style(view.total_grad(tensor),
                                                               style.FORWARD), label=label,
                       tooltip=None if junction else full_text_tip(tensor.name or ""))
        if self.backward:
            grad = view.contribution(tensor, node, index)
            step = _step_gap(tensor.producer, node)
            if step > 0:
                self.nonlocal_drawn = True
                note = "from t+1" if step == 1 else f"from t+{step}"
                self._edge(reader, source, "b", style="dashed,bold",
                           label=grad_text(tensor, grad, self.opts, note),
                           tooltip=full_text_tip(tensor.name or ""),
                           **self._grad_style(grad, style.NONLOCAL, nonlocal_edge=True))
            else:
                label = grad_text(tensor, grad, self.opts)
                self._edge(reader, source, "b", style="dashed", label=label or None,
                           tooltip=full_text_tip(tensor.name or ""),
                           **self._grad_style(grad, style.GRADIENT))

    def _junction_in(self, tensor: Tensor) -> None:
        """producer -> Σ (the tensor) and Σ -> producer (the summed gradient)."""
        trank = self.view.trank(tensor)
        producer = self._item(tensor.producer)
        if self.forward:
            self._edge(producer, f"j{trank}", "f",
                       label=tensor_text(tensor, self.opts, self._saved(tensor)),
                       tooltip=full_text_tip(tensor.name or ""),
                       **self._norm_style(self.view.total_grad(tensor), style.FORWARD))
        if self.backward:
            grad = self.view.total_grad(tensor)
            self._edge(f"j{trank}", producer, "b", style="dashed",
                       label=grad_text(tensor, grad, self.opts, "(Σ)"),
                       tooltip=full_text_tip(tensor.name or ""),
                       **self._grad_style(grad, style.GRADIENT))

    # ------------------------------------------------------------------ colours
    def _scale(self) -> NormScale:
        if not self.view.has_grads:
            raise RenderError("color_by='grad_norm' needs gradients: they come from "
                              "tg.trace_backward(output); the output must be a scalar")
        norms = [float(np.linalg.norm(g)) for g in self.view.sent.values()]
        norms += [float(np.linalg.norm(g)) for g in self.view.totals.values()]
        return NormScale(norms)

    def _grad_style(self, grad: np.ndarray | None, color: str,
                    nonlocal_edge: bool = False) -> dict[str, Any]:
        if self.scale is None or grad is None:
            width = "2.2" if nonlocal_edge else None
            return {"color": color, "fontcolor": color, "penwidth": width}
        norm = float(np.linalg.norm(grad))
        font = style.NONLOCAL if nonlocal_edge else style.GRADIENT
        return {"color": self.scale.color(norm), "fontcolor": font,
                "penwidth": f"{self.scale.width(norm) + (0.8 if nonlocal_edge else 0.0):.2f}"}

    def _norm_style(self, grad: np.ndarray | None, color: str) -> dict[str, Any]:
        if self.scale is None or grad is None or self.backward:
            return {"color": color}
        norm = float(np.linalg.norm(grad))
        return {"color": self.scale.color(norm), "penwidth": f"{self.scale.width(norm):.2f}"}

    # ------------------------------------------------------------------ extras
    def _decorations(self) -> None:
        lay = self.lay
        if lay.fold is not None:
            fold = lay.fold
            label = (f"t = {shorten(fold.first_t)} … {shorten(fold.last_t)}\n"
                     f"{fold.count} steps folded\n"
                     f"(max_steps={self.opts.max_steps})")
            self.lines.append("  fold " + attrs(
                label=label, pos=pos(fold.x, fold.y), shape="box", style="rounded,filled,dashed",
                fillcolor=style.FOLD_FILL, color="#888888", fontcolor="#444444",
                width=f"{fold.width / 72:.2f}", height=f"{fold.height / 72:.2f}",
                fixedsize="true", fontsize="12"))
        for i, (label, y) in enumerate(lay.bands):
            self.lines.append(f"  band{i} " + attrs(
                label=label, pos=pos(45.0, y), shape="plaintext", fontcolor="#777777",
                fontsize="12"))
        out = self.view.output
        if out.producer is not None:
            x, y = lay.node_pos.get(self.view.rank(out.producer), (0.0, 0.0))
            name = shorten(out.name) if out.name else "output"
            value = f" = {style.array_text(out.data)}" if out.data.size == 1 else ""
            self.lines.append("  output " + attrs(
                label=f"{name}{value}", pos=pos(x, y + 44.0), shape="box", style="filled",
                fillcolor=style.OUTPUT_FILL, color="#9e3a44", fontsize="10", height="0.26",
                tooltip=full_text_tip(out.name or "")))
            self._edge(self._item(out.producer), "output", "f",
                       color=style.FORWARD if self.forward else style.GRADIENT,
                       style=None if self.forward else "dashed", dir=None if self.forward
                       else "back")
        if self.opts.legend:
            self._legend()

    def _legend(self) -> None:
        view = self.view
        label = legend_label(
            self.opts.view,
            params=any(view.is_parameter(t) for t in view.tensors),
            junctions=bool(self.lay.junction_pos),
            nonlocal_edges=self.nonlocal_drawn,
            folded=self.lay.fold is not None,
            scale=self.scale,
            checkpoints=any(style.is_checkpoint(n) for n in view.nodes),
            saved=None if self.ledger is None else self.ledger.parameters)
        y = self.lay.height - 110.0
        self.lines.append(f"  legend [label=<{label}>, shape=plaintext, "
                          f'pos="{self.legend_x:.1f},{y:.1f}!", fontsize=10, margin="0"];')


def _step_gap(producer: Node, reader: Node) -> int:
    """How many steps later than the producer the reader runs (0 when untimed or equal)."""
    a, b = producer.scope.get("t"), reader.scope.get("t")
    if a is None or b is None or a == b:
        return 0
    if isinstance(a, int) and isinstance(b, int):
        return max(b - a, 0)
    return 1 if time_key(b) > time_key(a) else 0
