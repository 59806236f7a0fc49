"""The edges of an unrolled picture: which arrows it draws, what each says, and how it looks.

Forward, every tensor is an arrow from its producer to each reader (through its Σ when
several nodes read it), a parameter or constant from its copy beside the reader. The
backward views draw the same forward arrows (solid; quiet grey in ``"backward"``, black in
``"both"``) and beside each one its gradient, dashed, from the reader back to the producer:
red, or bold purple for the gradient a recurrence brings from step t+1 (from t−1 in a
reverse-direction layer), labelled with where it comes from. Labels name the tensor with its
step and layer (:mod:`tinygraph.render.names`); gradients are labelled in ``"both"`` or
when values are asked for (in ``"backward"`` by the value alone, beside the forward edge
that names the tensor; the non-local ones and the Σ sums always by name). Arrows into or out
of the fold box stand for all the folded ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygraph.errors import RenderError
from tinygraph.node import Node
from tinygraph.memory import human, saved_bytes
from tinygraph.render import labels, style
from tinygraph.render.graph_view import GraphView
from tinygraph.render.layout import Layout
from tinygraph.render.names import Runs, runs_width
from tinygraph.render.options import Options
from tinygraph.render.safe_text import full_text_tip
from tinygraph.render.steps import time_key
from tinygraph.render.style import NormScale
from tinygraph.tensor import Tensor

QUIET = "#9a9a9a"        # forward arrows in the backward view
QUIET_TEXT = "#505050"
WRAP = 90.0              # a gradient label wider than this (points) puts its value below


@dataclass
class Edge:
    """One arrow: from box ``src`` to box ``dst`` (ids of :attr:`Layout.boxes`).

    ``kind`` is "forward" (a tensor), "gradient", "nonlocal" (a gradient from another step),
    "total" (a junction's sum, back to the producer) or "output"; ``twin`` is the forward
    edge a gradient runs beside; ``route`` and ``label_at`` are filled in by routing and
    label placement.
    """

    src: str
    dst: str
    kind: str
    attrs: dict[str, Any]
    runs: Runs = field(default_factory=list)
    twin: Edge | None = None
    route: list[tuple[float, float]] = field(default_factory=list)
    label_at: tuple[float, float] | None = None


def step_gap(producer: Node, reader: Node) -> int:
    """How many steps later (positive) or earlier (negative) than the producer the reader runs
    (0 when either is untimed or they are equal)."""
    a, b = producer.scope.get("t"), reader.scope.get("t")
    if a is None or b is None or a == b:
        return 0
    if isinstance(a, int) and isinstance(b, int):
        return b - a
    return 1 if time_key(b) > time_key(a) else -1


def gap_note(gap: int) -> str:
    """Where a gradient comes from, ``gap`` (non-zero, see :func:`step_gap`) steps away:
    ``from t+1``, ``from t−1``, ``from t+3``."""
    return f"from t{'+' if gap > 0 else '−'}{abs(gap)}"


class SceneBuilder:
    """Builds the edges of one unrolled picture from a view and its layout."""

    def __init__(self, view: GraphView, lay: Layout, opts: Options) -> None:
        self.view = view
        self.lay = lay
        self.opts = opts
        self.backward = opts.view in ("backward", "both", "step")
        self.rich = opts.view in ("both", "step")
        self.scale = self._scale() if opts.color_by == "grad_norm" else None
        self.edges: list[Edge] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.nonlocal_drawn = False
        self.ledger = saved_bytes(view.output) if opts.show_saved else None  # show_saved
        self.held = {id(r.node): r.bytes for r in self.ledger.nodes} if self.ledger else {}

    def build(self) -> list[Edge]:
        """Every edge of the picture, in creation order of the nodes they enter."""
        view = self.view
        adds: dict[int, set[tuple[int, int]]] = {}   # id(time sum) -> its (reader, input) terms
        for chain in self.lay.sums.values():
            if id(chain) not in adds:
                adds[id(chain)] = {(id(r), i) for _, r, i in chain.terms}
        for node in view.nodes:
            reader = self.item(node)
            if reader is None:
                self._leaving_stubs(node)
                continue
            chain = self.lay.sums.get(id(node))
            for index, tensor in enumerate(node.inputs):
                if chain is not None and (id(node), index) not in adds[id(chain)]:
                    continue
                if tensor.producer is None:
                    if reader != "fold":
                        self._leaf_edges(tensor, node, index, reader)
                    continue
                self._tensor_edges(tensor, node, reader, index)
        for tensor in view.tensors:
            if view.is_junction(tensor) and view.tensor_number(tensor) in self.lay.junction_pos:
                self._junction_in(tensor)
        self._output_edge()
        return self.edges

    # ------------------------------------------------------------------ items
    def item(self, node: Node) -> str | None:
        """The box standing for ``node``: its own, the fold's, or its time sum's (None when
        the picture leaves it out)."""
        number = self.view.number(node)
        chain = self.lay.sums.get(id(node))
        if chain is not None:
            return f"n{self.view.number(chain.node)}"
        if number in self.lay.hidden:
            return None
        return "fold" if number in self.lay.folded else f"n{number}"

    def _edge(self, src: str, dst: str, kind: str, runs: Runs | None = None,
              twin: Edge | None = None, **values: Any) -> Edge | None:
        if src == dst:
            return None
        if "fold" in (src, dst):
            key = (src, dst, kind)
            if key in self.seen:
                return None
            self.seen.add(key)
            runs = None
        edge = Edge(src, dst, kind, {k: v for k, v in values.items() if v is not None},
                    list(runs or []), twin)
        self.edges.append(edge)
        return edge

    # ------------------------------------------------------------------ edges
    def _forward_style(self, grad: np.ndarray | None, color: str) -> dict[str, Any]:
        if self.scale is not None and grad is not None and not self.backward:
            norm = float(np.linalg.norm(grad))
            return {"color": self.scale.color(norm), "penwidth": f"{self.scale.width(norm):.2f}"}
        if self.backward and not self.rich:
            return {"color": QUIET if color == style.FORWARD else color, "fontcolor": QUIET_TEXT,
                    "penwidth": "0.8"}
        return {"color": color}

    def _grad_style(self, grad: np.ndarray | None, color: str,
                    nonlocal_edge: bool = False) -> dict[str, Any]:
        kind = {"class": "gradient", "style": "dashed,bold" if nonlocal_edge else "dashed"}
        if self.scale is None or grad is None:
            return {"color": color, "fontcolor": color, **kind,
                    "penwidth": "2.0" if nonlocal_edge else None}
        norm = float(np.linalg.norm(grad))
        font = style.NONLOCAL if nonlocal_edge else style.GRADIENT
        return {"color": self.scale.color(norm), "fontcolor": font, **kind,
                "penwidth": f"{self.scale.width(norm) + (0.8 if nonlocal_edge else 0.0):.2f}"}

    def _tensor_runs(self, tensor: Tensor) -> Runs:
        runs = list(self.lay.namer.tensor(tensor))
        extra = []
        if self.opts.show_shapes:
            extra.append(f"[{labels.shape_text(tensor.shape)}]")
        if self.opts.show_values:
            extra.append("= " + labels.value_text(tensor.data))
        if self.ledger is not None and tensor.producer is not None:
            extra.append(f"· {human(self.held.get(id(tensor.producer), 0))}")  # what it holds
        if extra:
            runs.append(((" " if runs else "") + " ".join(extra), ""))
        return runs

    def _grad_runs(self, tensor: Tensor, grad: np.ndarray | None, note: str = "",
                   named: bool = True) -> Runs:
        name = self.lay.namer.tensor(tensor) if tensor.producer is not None else \
            self.lay.namer.leaf(tensor, self.view.readers[id(tensor)][0][0])
        runs: Runs = [("∂L/∂", ""), *name] if name and named else []
        extra = [note] if note else []
        if grad is not None and self.opts.show_grads:
            extra.append(labels.value_text(grad))
        elif grad is not None and self.opts.show_grad_norms:
            extra.append(labels.norm_text(grad))
        if extra:
            wide = runs and runs_width([*runs, (" ".join(extra), "")], style.FONT_SIZE) > WRAP
            runs += [("", "br"), (" ".join(extra), "")] if wide else \
                [((" " if runs else "") + " ".join(extra), "")]
        return runs

    def _values_asked(self) -> bool:
        return self.opts.show_grads or self.opts.show_grad_norms

    def _leaf_edges(self, tensor: Tensor, node: Node, index: int, reader: str) -> None:
        """A leaf's copy -> its reader (and the gradient back to a parameter's copy)."""
        view = self.view
        number = view.number(node)
        tensor_number = view.tensor_number(tensor)
        if view.is_constant(tensor):
            self._edge(f"c{tensor_number}_{number}_{index}", reader, "forward",
                       color=style.CONST_COLOR, tooltip=full_text_tip(tensor.name or ""))
            return
        leaf = f"p{tensor_number}_{number}_{index}"
        forward = self._edge(leaf, reader, "forward",
                             **self._forward_style(view.total_grad(tensor), style.PARAM_LINE))
        if self.backward:
            grad = view.contribution(tensor, node, index)
            runs = self._grad_runs(tensor, grad, named=self.rich) if self._values_asked() else []
            self._edge(reader, leaf, "gradient", runs, forward,
                       **self._grad_style(grad, style.GRADIENT))

    def _tensor_edges(self, tensor: Tensor, node: Node, reader: str, index: int) -> None:
        view = self.view
        producer = self.item(tensor.producer)
        if producer is None:
            self._entering_stub(tensor, node, reader, index)
            return
        junction = view.is_junction(tensor) and view.tensor_number(tensor) in self.lay.junction_pos
        source = f"j{view.tensor_number(tensor)}" if junction else producer
        gap = step_gap(tensor.producer, node)
        label = [] if gap != 0 or (junction and not self.lay.bands.differ(tensor.producer, node)) \
            else self._tensor_runs(tensor)
        forward = self._edge(source, reader, "forward", label, None,
                             **self._forward_style(view.total_grad(tensor), style.FORWARD),
                             tooltip=full_text_tip(tensor.name or ""))
        if not self.backward:
            return
        grad = view.contribution(tensor, node, index)
        if gap != 0:
            self.nonlocal_drawn = True
            runs = self._grad_runs(tensor, grad, gap_note(gap))
            self._edge(reader, source, "nonlocal", runs, forward,
                       tooltip=full_text_tip(tensor.name or ""),
                       **self._grad_style(grad, style.NONLOCAL, nonlocal_edge=True))
        else:
            runs = self._grad_runs(tensor, grad, named=self.rich) \
                if self.rich or self._values_asked() else []
            self._edge(reader, source, "gradient", runs, forward,
                       tooltip=full_text_tip(tensor.name or ""),
                       **self._grad_style(grad, style.GRADIENT))

    def _entering_stub(self, tensor: Tensor, node: Node, reader: str, index: int) -> None:
        """A one-step picture: the state made at the step before enters through a stub, and
        the gradient for it leaves "to t−1"."""
        stub = f"s{self.view.tensor_number(tensor)}_{self.view.number(node)}_{index}"
        if stub not in self.lay.boxes:
            return
        forward = self._edge(stub, reader, "forward", [], None, **self._forward_style(
            self.view.total_grad(tensor), style.FORWARD))
        if self.backward:
            grad = self.view.contribution(tensor, node, index)
            gap = step_gap(tensor.producer, node)
            note = "to t−1" if gap > 0 else "to t+1"
            self.nonlocal_drawn = True
            self._edge(reader, stub, "nonlocal", self._grad_runs(tensor, grad, note), forward,
                       **self._grad_style(grad, style.NONLOCAL, nonlocal_edge=True))

    def _leaving_stubs(self, node: Node) -> None:
        """A one-step picture: what a drawn node hands to the step after leaves through a
        stub, and its gradient comes back "from t+1"."""
        view = self.view
        for index, tensor in enumerate(node.inputs):
            stub = f"o{view.tensor_number(tensor)}_{view.number(node)}_{index}"
            if tensor.producer is None or stub not in self.lay.boxes:
                continue
            producer = self.item(tensor.producer)
            junction = f"j{view.tensor_number(tensor)}"
            source = junction if junction in self.lay.boxes else producer
            forward = self._edge(source, stub, "forward", [], None, **self._forward_style(
                view.total_grad(tensor), style.FORWARD))
            if self.backward:
                grad = view.contribution(tensor, node, index)
                gap = step_gap(tensor.producer, node)
                note = "from t+1" if gap > 0 else "from t−1"
                self.nonlocal_drawn = True
                self._edge(stub, source, "nonlocal", self._grad_runs(tensor, grad, note), forward,
                           **self._grad_style(grad, style.NONLOCAL, nonlocal_edge=True))

    def _junction_in(self, tensor: Tensor) -> None:
        """producer -> Σ (the tensor) and Σ -> producer (the summed gradient)."""
        view = self.view
        tensor_number = view.tensor_number(tensor)
        producer = self.item(tensor.producer)
        if producer is None:
            return
        forward = self._edge(producer, f"j{tensor_number}", "forward", self._tensor_runs(tensor),
                             None, tooltip=full_text_tip(tensor.name or ""),
                             **self._forward_style(view.total_grad(tensor), style.FORWARD))
        if self.backward:
            grad = view.total_grad(tensor)
            runs = self._grad_runs(tensor, grad, "(Σ)") if self.rich or self._values_asked() \
                else []
            self._edge(f"j{tensor_number}", producer, "total", runs, forward,
                       tooltip=full_text_tip(tensor.name or ""),
                       **self._grad_style(grad, style.GRADIENT))

    def _output_edge(self) -> None:
        out = self.view.output
        if out.producer is None or "output" not in self.lay.boxes:
            return
        producer = self.item(out.producer)
        if producer is None:
            return
        forward = self._edge(producer, "output", "forward", [], None,
                             **self._forward_style(None, style.FORWARD))
        if self.backward:
            self._edge("output", producer, "gradient", [], forward,
                       **self._grad_style(None, style.GRADIENT))

    # ------------------------------------------------------------------ colours
    def _scale(self) -> NormScale:
        if not self.view.has_grads:
            raise RenderError("color_by='grad_norm' needs gradients: they come from "
                              "tg.trace_backward(output); the output must be a scalar")
        norms = [float(np.linalg.norm(g)) for g in self.view.sent.values()]
        norms += [float(np.linalg.norm(g)) for g in self.view.totals.values()]
        return NormScale(norms)
