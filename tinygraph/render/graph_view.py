"""GraphView: what a picture needs to know about a graph, collected by one iterative walk.

Starting from an output tensor, the backward pass's own walk gathers every recorded node it
depends on (no recursion, so a 100,000-step unroll works) in creation order; the view numbers
nodes and tensors by their *number in this graph* (0, 1, 2, ...), not by the global ``Node.id``: two
identical builds therefore get identical numbers and identical DOT text.

Each tensor is classified the way the picture draws it:

* a *parameter*: a leaf with ``requires_grad`` (e.g. ``layer0.W_hh``), read at every step;
* a *constant*: a leaf without gradient (inputs ``x``, targets, a zero ``h0``);
* a *junction*: a produced tensor read by two or more nodes of the graph; its gradient is
  the sum of what each reader sends back (a Σ node in the picture).

Gradients, when wanted, come from :func:`tinygraph.trace_backward`: the gradient each
consumer sent to each input (one term of a junction's sum) and each tensor's total.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinygraph.backward import reverse_topological
from tinygraph.errors import DTypeError
from tinygraph.node import Node
from tinygraph.tensor import Tensor
from tinygraph.trace import JunctionStep, NodeStep, Trace


@dataclass
class GraphView:
    """The nodes and tensors of the graph below ``output``, numbered by creation order.

    Attributes:
        output: the tensor the walk started from.
        nodes: every node ``output`` depends on, oldest first.
        node_numbers: ``id(node) -> number`` (position in ``nodes``).
        tensors: every tensor on an edge, in order of first use (the output last).
        tensor_numbers: ``id(tensor) -> number``.
        readers: ``id(tensor) -> [(node, input index)]``, the reads inside this graph.
    """

    output: Tensor
    nodes: list[Node]
    node_numbers: dict[int, int]
    tensors: list[Tensor]
    tensor_numbers: dict[int, int]
    readers: dict[int, list[tuple[Node, int]]]
    sent: dict[tuple[int, int, int], np.ndarray] = field(default_factory=dict)
    totals: dict[int, np.ndarray] = field(default_factory=dict)

    def number(self, node: Node) -> int:
        """The node's position in creation order within this graph."""
        return self.node_numbers[id(node)]

    def tensor_number(self, tensor: Tensor) -> int:
        """The tensor's position in order of first use within this graph."""
        return self.tensor_numbers[id(tensor)]

    def is_parameter(self, tensor: Tensor) -> bool:
        """A leaf that requires a gradient: one tensor shared by every step that reads it."""
        return tensor.producer is None and tensor.requires_grad

    def is_constant(self, tensor: Tensor) -> bool:
        """A leaf without gradient (an input, a target, a zero initial state)."""
        return tensor.producer is None and not tensor.requires_grad

    def is_junction(self, tensor: Tensor) -> bool:
        """A produced tensor read by >= 2 nodes: its gradient is Σ over its readers."""
        return tensor.producer is not None and len(self.readers.get(id(tensor), ())) >= 2

    def contribution(self, tensor: Tensor, reader: Node, index: int) -> np.ndarray | None:
        """dL/d(tensor) as sent back by ``reader`` through its input ``index`` (None without a
        trace): one term of the tensor's sum over its reads."""
        return self.sent.get((id(tensor), id(reader), index))

    def total_grad(self, tensor: Tensor) -> np.ndarray | None:
        """dL/d(tensor) summed over all its readers (None without a trace)."""
        return self.totals.get(id(tensor))

    @property
    def has_grads(self) -> bool:
        """Whether gradients from a trace are attached."""
        return bool(self.totals)


def collect(output: Tensor) -> GraphView:
    """Every node ``output`` depends on, oldest first: the walk of the backward pass
    (:func:`tinygraph.backward.reverse_topological`, an explicit stack) read in creation order."""
    if not isinstance(output, Tensor):
        raise DTypeError(
            f"to_dot/draw/render: the output to draw must be a tg.Tensor, got {type(output).__name__}"
        )
    nodes = reverse_topological(output)[::-1]   # the backward pass's own walk, oldest first
    node_numbers = {id(n): i for i, n in enumerate(nodes)}
    tensors: list[Tensor] = []
    tensor_numbers: dict[int, int] = {}
    readers: dict[int, list[tuple[Node, int]]] = {}
    for node in nodes:
        for index, tensor in enumerate(node.inputs):
            key = id(tensor)
            if key not in tensor_numbers:
                tensor_numbers[key] = len(tensors)
                tensors.append(tensor)
            readers.setdefault(key, []).append((node, index))
    if id(output) not in tensor_numbers:
        tensor_numbers[id(output)] = len(tensors)
        tensors.append(output)
    return GraphView(output, nodes, node_numbers, tensors, tensor_numbers, readers)


def attach_trace(view: GraphView, trace: Trace) -> None:
    """Copy the gradients of a backward trace into ``view`` (per reader and per tensor)."""
    for step in trace:
        if isinstance(step, NodeStep):
            view.totals[id(step.output)] = step.grad
            for (index, tensor), (_, grad) in zip(sent_inputs(step), step.sent, strict=True):
                view.sent[(id(tensor), id(step.node), index)] = grad
        elif isinstance(step, JunctionStep):
            view.totals[id(step.tensor)] = step.total
    for tensor, grad in trace.grads.items():
        view.totals[id(tensor)] = grad


def sent_inputs(step: NodeStep) -> list[tuple[int, Tensor]]:
    """(input index, tensor) for each gradient a node step sent, in input order (an input
    that needs no gradient is skipped, so the index is found by identity)."""
    inputs = step.node.inputs
    found, index = [], 0
    for tensor, _ in step.sent:
        while index < len(inputs) - 1 and inputs[index] is not tensor:
            index += 1
        found.append((index, tensor))
        index += 1
    return found
