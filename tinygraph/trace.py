"""``trace_backward``: the backward pass as an ordered list of steps that a person can read.

Two kinds of step:

* a node step: one op's backward, with the gradient it received (dL/dy) and what it sent to
  each input (dL/dx_i);
* a junction step: a tensor read by several nodes; its gradient is the sum of every consumer's
  contribution, dL/dh = Σ_c dL/dh|_c. In an unrolled RNN, h_(t−1) receives a local gradient
  from the readout at t−1 and a non-local one from the recurrence at t: that sum is a junction.

A junction step comes right before the node step of the tensor's producer (when the sum is
complete); junctions at leaves (parameters such as W_hh, read at every step) come last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygraph.backward import make_seed, reverse_topological, run_backward
from tinygraph.node import Node
from tinygraph.scope import format_scope
from tinygraph.table import format_table
from tinygraph.tensor import Tensor


@dataclass
class Contribution:
    """One consumer's share of a junction: ``grad`` sent by ``source`` (a node) to the tensor."""

    source: Node
    grad: np.ndarray

    @property
    def scope(self) -> dict[str, Any]:
        """The scope of the consumer that sent it (e.g. {"t": 4, "layer": 0})."""
        return self.source.scope


@dataclass
class NodeStep:
    """One op's backward: received ``grad`` for its output, sent ``sent[i]`` to input i."""

    node: Node
    output: Tensor
    grad: np.ndarray
    sent: list[tuple[Tensor, np.ndarray]] = field(default_factory=list)

    @property
    def scope(self) -> dict[str, Any]:
        """The node's scope tags."""
        return self.node.scope


@dataclass
class JunctionStep:
    """A fan-out tensor: ``total`` = Σ of ``contributions`` (one per consumer, in arrival order)."""

    tensor: Tensor
    contributions: list[Contribution]
    total: np.ndarray

    @property
    def scope(self) -> dict[str, Any]:
        """The scope of the tensor's producer ({} for a leaf such as a parameter)."""
        producer = self.tensor.producer
        return producer.scope if producer is not None else {}


class Trace(list):
    """The steps of one backward pass, in order; ``print(trace)`` shows them as a table."""

    def __init__(self, steps: list[NodeStep | JunctionStep], grads: dict[Tensor, np.ndarray],
                 numbers: dict[int, int] | None = None):
        super().__init__(steps)
        self.grads = grads
        self.numbers = numbers if numbers is not None else {}

    def junctions(self) -> list[JunctionStep]:
        """Only the junction steps."""
        return [s for s in self if isinstance(s, JunctionStep)]

    def junction_of(self, tensor: Tensor) -> JunctionStep | None:
        """The junction step of ``tensor``, or None if it had a single consumer."""
        return next((s for s in self.junctions() if s.tensor is tensor), None)

    def grad_of(self, tensor: Tensor) -> np.ndarray | None:
        """The gradient the pass computed for a leaf (or None if unreached)."""
        return self.grads.get(tensor)

    def number(self, node: Node) -> int:
        """The node's number in this graph: its rank in creation order, as pictures name it."""
        return self.numbers.get(id(node), node.id)

    def __str__(self) -> str:
        return format_trace(self, self.numbers)

    def __repr__(self) -> str:
        return f"Trace({len(self)} steps, {len(self.junctions())} junctions)"

    def _repr_html_(self) -> str:
        """The table of ``print(trace)`` as HTML, for a notebook (escaped)."""
        from tinygraph.render.html_table import html_table
        return html_table(TRACE_HEADERS, trace_rows(self, self.numbers), kind="trace",
                          caption=f"{len(self)} backward steps, {len(self.junctions())} junctions")


class _TraceRecorder:
    def __init__(self) -> None:
        self.steps: list[NodeStep | JunctionStep] = []
        self.contributions: dict[Tensor, list[Contribution]] = {}
        self.emitted: set[Tensor] = set()
        self.current: NodeStep | None = None

    def before_node(self, node: Node, output: Tensor, grad: np.ndarray) -> None:
        self._junction(output, grad)
        self.current = NodeStep(node, output, np.array(grad))
        self.steps.append(self.current)

    def sent(self, node: Node, tensor: Tensor, grad: np.ndarray) -> None:
        self.current.sent.append((tensor, grad))
        self.contributions.setdefault(tensor, []).append(Contribution(node, grad))

    def finish(self, grads: dict[Tensor, np.ndarray]) -> None:
        for tensor in list(self.contributions):
            if tensor not in self.emitted and tensor in grads:
                self._junction(tensor, grads[tensor])

    def _junction(self, tensor: Tensor, total: np.ndarray) -> None:
        parts = self.contributions.get(tensor, [])
        self.emitted.add(tensor)
        if len(parts) >= 2:
            self.steps.append(JunctionStep(tensor, parts, np.array(total)))


def trace_backward(output: Tensor, grad: Any = None, retain_graph: bool = True) -> Trace:
    """Run the backward pass from ``output`` and return it step by step; ``.grad`` is untouched.

    The graph is kept (``retain_graph=True``) so it can still be drawn or back-propagated.
    """
    seed = make_seed(output, grad)
    recorder = _TraceRecorder()
    nodes = reverse_topological(output)
    numbers = {id(node): rank for rank, node in enumerate(reversed(nodes))}
    grads, owned = run_backward(output, seed, retain_graph=retain_graph, recorder=recorder,
                                nodes=nodes)
    leaves = {t: g if t in owned else np.array(g) for t, g in grads.items() if t.producer is None}
    return Trace(recorder.steps, leaves, numbers)


def tensor_label(tensor: Tensor, numbers: dict[int, int] | None = None) -> str:
    """A tensor as tables write it: its name, else what produced it, with its shape.

    ``numbers`` maps id(node) to the node's number in the graph (a trace's ``numbers``, the
    same ranks the pictures use); without it the global creation id is shown.
    """
    shape = "x".join(str(n) for n in tensor.shape) or "scalar"
    if tensor.name:
        return f"{tensor.name} [{shape}]"
    if tensor.producer is not None:
        return f"{_numbered(tensor.producer, numbers)} out [{shape}]"
    return f"leaf [{shape}]"


def _value(g: np.ndarray) -> str:
    if g.size == 1:
        return f"{g.item():.6g}"
    return f"|{float(np.linalg.norm(g)):.4g}|"


def _numbered(node: Node, numbers: dict[int, int] | None) -> str:
    number = numbers.get(id(node), node.id) if numbers else node.id
    return f"{node.op.describe()}#{number}"


def _source(node: Node, numbers: dict[int, int] | None) -> str:
    scope = format_scope(node.scope)
    return _numbered(node, numbers) + (f" at {scope}" if scope else "")


TRACE_HEADERS = ("step", "kind", "what", "scope", "grad", "detail")


def trace_rows(steps: list[NodeStep | JunctionStep],
               numbers: dict[int, int] | None = None) -> list[tuple[str, ...]]:
    """The cells of :func:`format_trace`'s table, one tuple per step (``TRACE_HEADERS``)."""
    rows = []
    for i, step in enumerate(steps):
        scope = format_scope(step.scope)
        if isinstance(step, JunctionStep):
            detail = " + ".join(f"{_value(c.grad)} from {_source(c.source, numbers)}"
                                for c in step.contributions)
            rows.append((str(i), "junction Σ", tensor_label(step.tensor, numbers), scope,
                         _value(step.total), detail))
        else:
            detail = "; ".join(f"{tensor_label(t, numbers)} <- {_value(g)}" for t, g in step.sent)
            rows.append((str(i), "node", _numbered(step.node, numbers), scope,
                         _value(step.grad), detail))
    return rows


def format_trace(steps: list[NodeStep | JunctionStep], numbers: dict[int, int] | None = None) -> str:
    """A table: step, kind, what, scope, gradient in, and what was sent or summed.

    Arrays are shown by their Frobenius norm |g| (a one-entry array by its value).
    """
    return format_table(TRACE_HEADERS, trace_rows(steps, numbers), full_rule=True)
