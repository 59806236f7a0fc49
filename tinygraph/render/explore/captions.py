"""The backward pass as a story: one frame per step of the trace, with its caption.

A frame names what the pictures light up (``cur``: the box of the op, the Σ, or every copy
of a parameter; ``sent``: the gradient edges it produces, by the keys of
:mod:`~tinygraph.render.explore.edge_keys`), the step it belongs to (``t``, None outside the
steps) and a caption in a learner's words: lines of runs, tensors named as in the pictures
(h₃⁽¹⁾, never an internal number), small arrays written out (up to ``SMALL`` entries), larger
ones by their norm and size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Node
from tinygraph.render.explore.derivatives import derivative_of
from tinygraph.render.explore.graph import ExploredGraph, plain_name, runs_json, where_words
from tinygraph.render.graph_view import sent_inputs
from tinygraph.render.names import Runs
from tinygraph.render.explore.payload import crossing
from tinygraph.tensor import Tensor
from tinygraph.trace import JunctionStep, NodeStep

SMALL = 8          # arrays of at most this many entries are written out
SHOWN_PARTS = 6    # contributions listed in a caption (the Σ panel lists them all)
RECOMPUTED = "(a step of the segment the checkpoint recomputes: drawn inside its box)"


def number_text(value: float) -> str:
    """3 significant digits, a true minus sign, NaN and ±Inf by name."""
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Inf" if value > 0 else "−Inf"
    return f"{value:.3g}".replace("-", "−")


def values_text(array: Any) -> str:
    """A scalar as its value, up to SMALL entries written out (rows in brackets), else
    ``‖·‖ = 0.416 (12 entries)``."""
    data = np.asarray(array, dtype=float)
    if data.size == 1:
        return number_text(float(data.reshape(-1)[0]))
    if data.size <= SMALL:
        rows = data.reshape(-1, data.shape[-1]) if data.ndim >= 2 else data.reshape(1, -1)
        text = ["[" + ", ".join(number_text(float(v)) for v in row) + "]" for row in rows]
        return text[0] if len(text) == 1 else "[" + ", ".join(text) + "]"
    return f"‖·‖ = {number_text(float(np.linalg.norm(data)))} ({data.size} entries)"


def frames(graph: ExploredGraph) -> list[dict[str, Any]]:
    """One frame per step of the trace, in order. The steps a ``tg.checkpoint`` recomputes
    inside its backward come right after its own step and are in no picture: their frames
    light the checkpoint's box (and its step)."""
    out: list[dict[str, Any]] = []
    checkpoint: dict[str, Any] = {"cur": [], "t": None}
    for step in graph.trace:
        if not _drawn(graph, step):
            out.append(_recomputed_frame(graph, step, checkpoint))
        elif isinstance(step, NodeStep):
            out.append(_node_frame(graph, step))
            if step.node.op.name == "checkpoint":
                checkpoint = out[-1]
        elif isinstance(step, JunctionStep):
            out.append(_junction_frame(graph, step))
    return out


def _drawn(graph: ExploredGraph, step: NodeStep | JunctionStep) -> bool:
    if isinstance(step, NodeStep):
        return id(step.node) in graph.view.node_numbers
    return id(step.tensor) in graph.view.tensor_numbers


def _recomputed_frame(graph: ExploredGraph, step: NodeStep | JunctionStep,
                      checkpoint: dict[str, Any]) -> dict[str, Any]:
    """A step inside a checkpoint's recomputed segment, named by its op, its scope and its
    tensors' own names (the pictures draw the segment as one box)."""
    if isinstance(step, NodeStep):
        where = where_words(dict(step.node.scope))
        lines: list[Runs] = [[*graph.namer.op(step.node), (f" at {where}" if where else "", "")]]
        lines.append(_plain_grad_runs(step.output, step.grad, "receives"))
        lines += [_plain_grad_runs(tensor, grad, "sends") for tensor, grad in step.sent]
    else:
        producer = step.tensor.producer
        where = where_words(dict(producer.scope)) if producer is not None else ""
        lines = [[("Σ of ", ""), (_plain(step.tensor) + (f" at {where}" if where else ""), ""),
                  (f": {len(step.contributions)} gradients add up to " + values_text(step.total),
                   "")]]
    lines.append([(RECOMPUTED, "")])
    return {"cur": list(checkpoint["cur"]), "sent": [], "t": checkpoint["t"],
            "cap": [runs_json(line) for line in lines]}


def _plain(tensor: Tensor) -> str:
    return plain_name(tensor) or "a tensor of the segment"


def _plain_grad_runs(tensor: Tensor, grad: Any, verb: str) -> Runs:
    return [(f"{verb} ∂L/∂({_plain(tensor)}) = " + values_text(grad), "")]


def _head(graph: ExploredGraph, node: Node) -> Runs:
    if id(node) in graph.sums:
        return [("the loss sum L = Σ", ""), ("t", "sub"), (" L", ""), ("t", "sub"),
                (" (adds every step's loss)", "")]
    where = graph.where(node)
    return [*graph.namer.op(node), (f" at {where}" if where else "", "")]


def _grad_runs(graph: ExploredGraph, tensor: Tensor, grad: Any, verb: str) -> Runs:
    return [(verb + " ∂L/∂", ""), *graph.words(tensor), (" = " + values_text(grad), "")]


def _node_frame(graph: ExploredGraph, step: NodeStep) -> dict[str, Any]:
    view, node = graph.view, step.node
    box = graph.box(node)
    in_sum = id(node) in graph.sums
    lines: list[Runs] = [_head(graph, node)]
    if not (in_sum and graph.is_partial_sum(step.output)):
        lines.append(_grad_runs(graph, step.output, step.grad, "receives"))
    sent = []
    for (index, tensor), (_, grad) in zip(sent_inputs(step), step.sent):
        if not graph.is_partial_sum(tensor):        # a partial sum inside L = Σ_t L_t: not drawn
            sent.append(f"g{view.tensor_number(tensor)}_{view.number(node)}_{index}")
            lines.append(_grad_runs(graph, tensor, grad, "sends"))
    if not step.sent and node.op.name == "checkpoint":
        lines.append([("sends nothing itself: it runs its segment again, whose steps (next) "
                       "send the gradients", "")])
    elif not step.sent:
        lines.append([("sends nothing: no input needs a gradient", "")])
    math = None if in_sum else _rule(node)
    if math:
        lines.append([("rule: " + math, "")])
    return {"cur": [box], "sent": sent, "t": None if in_sum else graph.column(node),
            "cap": [runs_json(line) for line in lines]}


def _rule(node: Node) -> str:
    found = derivative_of(node)
    return "; ".join(found["backward"]) if found["backward"] else ""


def _junction_frame(graph: ExploredGraph, step: JunctionStep) -> dict[str, Any]:
    view, tensor = graph.view, step.tensor
    number = view.tensor_number(tensor)
    name = graph.words(tensor)
    count = len(step.contributions)
    if tensor.producer is None:
        lines: list[Runs] = [[*name, (f" is one tensor read {count} times: its gradient adds "
                                      "the gradients of its copies", "")]]
        cur, sent, t = [f"p{number}"], [], None
    else:
        lines = [[("Σ of ", ""), *name, (f": {count} gradients arrive and add up", "")]]
        cur, sent, t = [f"j{number}"], [f"T{number}"], graph.column(tensor.producer)
    for part in step.contributions[:SHOWN_PARTS]:
        lines.append([("+ " + values_text(part.grad) + " from ", ""),
                      *_source(graph, tensor, part.source)])
    if count > SHOWN_PARTS:
        lines.append([(f"+ … {count - SHOWN_PARTS} more (click the box for all of them)", "")])
    lines.append([("= ∂L/∂", ""), *name, (" = " + values_text(step.total), "")])
    if tensor.producer is not None:
        lines.append([("handed down to ", ""), *graph.namer.op(tensor.producer)])
    return {"cur": cur, "sent": sent, "t": t, "cap": [runs_json(line) for line in lines]}


def _source(graph: ExploredGraph, tensor: Tensor, reader: Node) -> Runs:
    """Where a part of a Σ comes from: the reader, and whether it crosses steps."""
    where = graph.where(reader)
    runs = [*graph.namer.op(reader), (f" at {where}" if where else "", "")]
    if tensor.producer is None:
        return runs
    return [*runs, (" (" + crossing(tensor.producer, reader) + ")", "")]
