"""Sums over time drawn as one node: L = Σ_t L_t, however the program added the terms up.

``sum(losses)`` (Python starts from 0: ((0 + L_0) + L_1) + …), a running ``loss = loss + L_t``
inside the loop, ``L_0 + L_1 + L_2`` and ``tg.stack(losses).sum()`` all compute the same sum
over the steps. Drawn op by op they are a ladder of ``add`` nodes, one more constant 0, and
edges from every step converging on it. A *time sum* is such a chain: adds (or a stack read
only by a full sum) outside the layers, whose partial results are read by nothing but the
next one, adding terms that each belong to a step (made in its scope, or from its tensors
outside any scope; one step's loss, at T = 1, is a Σ_t too). The picture draws the chain as
one node at the top, one edge per term, and leaves out the constant zeros the chain starts
from (adding 0 changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView
from tinygraph.tensor import Tensor


@dataclass
class TimeSum:
    """One chain drawn as a Σ over time.

    Attributes:
        node: the chain's last node (its output is the sum); the picture draws it.
        members: every node of the chain, ``node`` included.
        terms: (tensor, reading member, input index) for each term added (each belongs to a
            step).
        zeros: (tensor, reading member, input index) for each constant 0 left out.
    """

    node: Node
    members: list[Node] = field(default_factory=list)
    terms: list[tuple[Tensor, Node, int]] = field(default_factory=list)
    zeros: list[tuple[Tensor, Node, int]] = field(default_factory=list)


def find_time_sums(view: GraphView, col_of: dict[int, int | None]) -> dict[int, TimeSum]:
    """Every time sum of ``view``, keyed by ``id(member)`` for each of its members."""
    ladder = _ladder_adds(view)
    found: dict[int, TimeSum] = {}
    for top in reversed(view.nodes):           # newest first: a chain is found from its end
        if id(top) in found or not _summing(top, view) or not _outside_layers(top, view):
            continue
        if "t" in top.scope and id(top) not in ladder:
            continue
        chain = _chain(top, view, ladder)
        steps = {col_of.get(id(t.producer)) for t, _, _ in chain.terms if t.producer is not None}
        if chain.terms and all(t.producer is not None and col_of.get(id(t.producer)) is not None
                               for t, _, _ in chain.terms) and (len(steps) >= 2 or "t" not in top.scope):
            for member in chain.members:
                found[id(member)] = chain
    return found


def _summing(node: Node, view: GraphView) -> bool:
    """An add of two tensors, or a full sum of a stack read by nothing else."""
    if node.op.name == "add":
        return len(node.inputs) == 2
    if node.op.name == "sum" and getattr(node.op, "axis", 0) is None:
        source = node.inputs[0]
        return (source.producer is not None and source.producer.op.name == "stack"
                and len(view.readers.get(id(source), ())) == 1)
    return False


def _ladder_adds(view: GraphView) -> set[int]:
    """The adds that can be partial sums: made outside the steps, or adding to a constant 0 or
    to another such add (a running ``loss = loss + L_t`` inside the loop), never one of a
    layer's own adds (x W + b + h V)."""
    ladder: set[int] = set()
    for node in view.nodes:
        if node.op.name != "add" or len(node.inputs) != 2 or "layer" in node.scope:
            continue
        if "t" not in node.scope or any(
                (t.producer is None and not t.requires_grad and _is_zero(t))
                or (t.producer is not None and id(t.producer) in ladder) for t in node.inputs):
            ladder.add(id(node))
    return ladder


def _chain(top: Node, view: GraphView, ladder: set[int]) -> TimeSum:
    """The adds below ``top`` whose outputs only feed the chain, and the terms they add."""
    chain = TimeSum(top)
    stack = [top]
    while stack:
        node = stack.pop()
        chain.members.append(node)
        inputs = node.inputs[0].producer.inputs if node.op.name == "sum" else node.inputs
        reader = node
        if node.op.name == "sum":
            chain.members.append(node.inputs[0].producer)
            reader = node.inputs[0].producer
        for index, tensor in enumerate(inputs):
            producer = tensor.producer
            if (producer is not None and id(producer) in ladder
                    and len(view.readers.get(id(tensor), ())) == 1):
                stack.append(producer)
            elif producer is None and not tensor.requires_grad and _is_zero(tensor):
                chain.zeros.append((tensor, reader, index))
            else:
                chain.terms.append((tensor, reader, index))
    chain.members.sort(key=lambda n: n.id)
    chain.terms.sort(key=lambda term: (term[0].producer.id if term[0].producer else -1))
    return chain


def _outside_layers(node: Node, view: GraphView) -> bool:
    """A loss adds up outside the layers: the chain ends in the picture's output, or in a
    node without a step; a recurrence (h_t = h_(t−1) + …) is never drawn as a sum (nor is a
    step's own add, even as the output: its terms come from one step)."""
    if "layer" in node.scope:
        return False
    return node.output is view.output or "t" not in node.scope


def _is_zero(tensor: Tensor) -> bool:
    return tensor.data.size == 1 and float(tensor.data.reshape(-1)[0]) == 0.0
