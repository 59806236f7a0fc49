"""What the explorer knows about one backward pass: the graph view with its gradients, the
steps, bands and names of its pictures, and each node's step of the trace.

Everything the page shows is computed from one :class:`ExploredGraph`, so the pictures, the
panels and the captions name each tensor the same way (``h₃⁽¹⁾``, as the pictures do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinygraph.errors import RenderError
from tinygraph.node import Node
from tinygraph.render.bands import TOP, Bands
from tinygraph.render.graph_view import GraphView, attach_trace, collect
from tinygraph.render.layout import picture_parts
from tinygraph.render.names import LAYER_PREFIX, Namer, Runs
from tinygraph.render.safe_text import shorten
from tinygraph.render.steps import Steps, plan_steps
from tinygraph.render.time_sum import TimeSum
from tinygraph.tensor import Tensor
from tinygraph.trace import NodeStep, Trace


@dataclass
class ExploredGraph:
    """The graph below ``view.output`` with the gradients of ``trace`` attached.

    Attributes:
        steps: every step a column, none folded (the windows are drawn from it).
        sums: the time sums (L = Σ_t L_t), by id of each member.
        bands, namer: the layers and the names of the pictures.
        node_steps: ``id(node) -> NodeStep`` of the trace.
    """

    view: GraphView
    trace: Trace
    steps: Steps
    sums: dict[int, TimeSum]
    bands: Bands
    namer: Namer
    node_steps: dict[int, NodeStep] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many steps (values of the scope tag ``t``) the graph has."""
        return len(self.steps.times)

    def column(self, node: Node) -> int | None:
        """The step index ``node`` is drawn in (None outside the steps)."""
        return self.steps.col_of.get(id(node))

    def box(self, node: Node) -> str:
        """The key of the box standing for ``node`` (a time sum's members share one)."""
        chain = self.sums.get(id(node))
        return f"n{self.view.number(chain.node if chain is not None else node)}"

    def layer(self, node: Node) -> str:
        """The band label of ``node`` ("layer 1", "readout"; "" for the loss on top)."""
        band = self.bands.of.get(id(node))
        return "" if band == TOP else self.bands.label(band)

    def where(self, node: Node) -> str:
        """Where ``node`` runs, as a learner reads it: ``t = 3, layer 1``; a node made outside
        the steps (a readout after the loop) gets the step and band it is drawn in."""
        scope = dict(node.scope)
        col = self.column(node)
        if "t" not in scope and col is not None and id(node) not in self.sums:
            scope = {"t": self.steps.times[col], **scope}
        text = where_words(scope)
        layer = self.layer(node)
        if "layer" not in scope and layer and id(node) not in self.sums:
            text = f"{text}, {layer}" if text else layer
        return text

    def name(self, tensor: Tensor) -> Runs:
        """The tensor's name as the pictures typeset it (a leaf as its first reader's copy)."""
        if tensor.producer is not None:
            return self.namer.tensor(tensor)
        readers = self.view.readers.get(id(tensor))
        return self.namer.leaf(tensor, readers[0][0]) if readers else \
            [(shorten(tensor.name), "")] if tensor.name else []

    def words(self, tensor: Tensor) -> Runs:
        """A tensor as captions and panels name it: its picture name; unnamed, the output is
        L, a term of the loss sum L_t, anything else "(the output of tanh at t = 3, …)"."""
        name = self.name(tensor)
        if name:
            return name
        producer = tensor.producer
        if tensor is self.view.output:
            return [("L", "")]
        if producer is None:
            return [("(a constant)" if not tensor.requires_grad else "(a parameter)", "")]
        if any(id(r) in self.sums and any(tensor is t for t, _, _ in self.sums[id(r)].terms)
               for r, _ in self.view.readers.get(id(tensor), ())):
            column = self.column(producer)
            return [("L", ""), (shorten(self.steps.times[column]) if column is not None
                                else "t", "sub")]
        where = self.where(producer)
        return [("(the output of ", ""), *self.namer.op(producer),
                ((f" at {where}" if where else "") + ")", "")]

    def is_partial_sum(self, tensor: Tensor) -> bool:
        """A partial result inside a time sum (not drawn: the sum is one box)."""
        producer = tensor.producer
        if producer is None or id(producer) not in self.sums:
            return False
        return self.sums[id(producer)].node is not producer


def runs_json(runs: Runs) -> list[Any]:
    """Runs as the page holds them: a plain string, or ``[text, "sub" | "sup"]``."""
    return [text if not kind else [text, kind] for text, kind in runs if kind != "br"]


def explored_graph(out: Tensor, trace: Trace, where: str = "explore") -> ExploredGraph:
    """The :class:`ExploredGraph` of ``out`` with the gradients of ``trace``, which must be
    ``out``'s (a RenderError naming ``where`` otherwise)."""
    first = next((step for step in trace if isinstance(step, NodeStep)), None) \
        if isinstance(trace, Trace) else out
    if first is out or (first is not None and first.output is not out):
        raise RenderError(f"{where}: the trace is not of this loss; pass trace="
                          "tg.trace_backward(loss) of the same loss, or leave it out")
    view = collect(out)
    attach_trace(view, trace)
    steps = plan_steps(view)
    sums, bands, namer = picture_parts(view, steps)
    node_steps = {id(step.node): step for step in trace if isinstance(step, NodeStep)}
    return ExploredGraph(view, trace, steps, sums, bands, namer, node_steps)


def plain_name(tensor: Tensor) -> str | None:
    """The name without rnn's ``layerN.`` prefix (``W_hh``), None when unnamed."""
    if not tensor.name:
        return None
    found = LAYER_PREFIX.match(tensor.name)
    return shorten(found.group(3) if found else tensor.name)


def where_words(scope: dict[str, Any]) -> str:
    """A scope as a learner reads it: ``t = 3, layer 1`` (other tags ``key = value``)."""
    parts = []
    for key, value in scope.items():
        if key == "layer":
            parts.append(f"layer {shorten(value)}")
        elif key == "direction":
            parts.append(f"{shorten(value)} direction")
        elif key == "recomputed":  # a step a tg.checkpoint runs again in the backward pass
            parts.append("recomputed")
        else:
            parts.append(f"{shorten(key)} = {shorten(value)}")
    return ", ".join(parts)
