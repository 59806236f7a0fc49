"""The explorer's data: one record per tensor and per node, as the page's JSON holds them.

A tensor record has its name (as runs: ``[text, kind]``), kind (param, const or tensor),
step index, layer, shape, value and gradient ∂L/∂(tensor) (:mod:`~tinygraph.render.explore.
numbers`), its producer and readers, and, when several nodes read it, each reader's part of
the gradient (``parts``, keyed ``"reader_input"``: the terms a Σ adds). A node record has its
op's label, where it ran, its inputs and output, which inputs its backward sent a gradient
to (the gradient itself is the input's part: it is stored once), its local derivative and,
for a time sum, the terms it adds.
"""

from __future__ import annotations

from typing import Any

from tinygraph.node import Node
from tinygraph.render.explore.derivatives import derivative_of
from tinygraph.render.explore.graph import ExploredGraph, plain_name, runs_json
from tinygraph.render.graph_view import sent_inputs
from tinygraph.render.explore.numbers import encode
from tinygraph.render.scene import gap_note, step_gap


def tensor_records(graph: ExploredGraph) -> list[dict[str, Any]]:
    """One record per tensor of the view, in the view's numbering."""
    view = graph.view
    records = []
    for tensor in view.tensors:
        readers = view.readers.get(id(tensor), [])
        kind = "param" if view.is_parameter(tensor) else "const" if view.is_constant(tensor) \
            else "tensor"
        anchor = tensor.producer or (readers[0][0] if readers else None)
        record: dict[str, Any] = {
            "name": runs_json(graph.words(tensor)), "plain": plain_name(tensor), "kind": kind,
            "t": graph.column(anchor) if anchor is not None and kind != "param" else None,
            "layer": graph.layer(anchor) if anchor is not None else "",
            "shape": list(tensor.shape), "value": encode(tensor.data),
            "grad": encode(view.total_grad(tensor)),
            "by": view.number(tensor.producer) if tensor.producer is not None else None,
            "readers": [[view.number(r), i, crossing(tensor.producer, r)
                         if tensor.producer is not None else ""] for r, i in readers],
            "partial": graph.is_partial_sum(tensor),
        }
        if len(readers) >= 2:
            record["parts"] = {f"{view.number(r)}_{i}": encode(view.contribution(tensor, r, i))
                               for r, i in readers}
        records.append(record)
    return records


def node_records(graph: ExploredGraph) -> list[dict[str, Any]]:
    """One record per node of the view, in the view's numbering."""
    view = graph.view
    records = []
    for node in view.nodes:
        step = graph.node_steps.get(id(node))
        sent = [[view.tensor_number(t), index] for index, t in sent_inputs(step)] \
            if step is not None else []
        record: dict[str, Any] = {
            "op": runs_json(graph.namer.op(node)), "name": node.op.name,
            "where": graph.where(node),
            "t": None if id(node) in graph.sums else graph.column(node),
            "layer": graph.layer(node), "box": graph.box(node),
            "ins": [view.tensor_number(t) for t in node.inputs],
            "out": view.tensor_number(node.output) if id(node.output) in view.tensor_numbers
            else None,
            "done": step is not None, "sent": sent,
            "math": derivative_of(node),
        }
        chain = graph.sums.get(id(node))
        if chain is not None and chain.node is node:
            record["sum"] = [view.tensor_number(t) for t, _, _ in chain.terms]
        records.append(record)
    return records


def crossing(producer: Node, reader: Node) -> str:
    """``local`` when the reader runs at the producer's step, else ``from t+1`` (…)."""
    gap = step_gap(producer, reader)
    return "local" if gap == 0 else gap_note(gap)
