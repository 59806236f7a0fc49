"""Names that stay the same across the explorer's pictures for every edge a picture draws.

The pictures name their boxes (``n12`` an op, ``j3`` the Σ of tensor 3, ``p4_12_1`` the copy
of parameter 4 read by node 12 as input 1, ``c…`` a constant's copy, ``s…``/``o…`` the stubs
of a window, ``output``), not their edges. The explorer gives each edge a key naming what it
carries, the same in every window that draws it (a recurrence crossing two windows is a stub
in each):

* ``f{k}_{r}_{i}``: tensor k going into input i of node r (forward);
* ``g{k}_{r}_{i}``: the gradient node r sends back to tensor k through its input i;
* ``F{k}`` / ``T{k}``: tensor k into its Σ / the Σ's sum back to k's producer;
* ``out`` / ``gout``: the output and its seed gradient.
"""

from __future__ import annotations

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView
from tinygraph.render.scene import Edge, SceneBuilder

GRADIENT_OF = {"f": "g", "F": "T"}


def edge_keys(view: GraphView, builder: SceneBuilder, edges: list[Edge]) -> list[str]:
    """The key of each edge of ``edges`` (as ``builder`` made them, in order)."""
    used: dict[tuple[int, str], int] = {}
    forward: dict[int, str] = {}
    for edge in edges:
        if edge.twin is None:
            forward[id(edge)] = _forward_key(edge, view, builder, used)
    keys = []
    for edge in edges:
        if edge.twin is None:
            keys.append(forward[id(edge)])
        else:
            twin = forward[id(edge.twin)]
            keys.append("gout" if twin == "out" else GRADIENT_OF[twin[0]] + twin[1:])
    return keys


def _forward_key(edge: Edge, view: GraphView, builder: SceneBuilder,
                 used: dict[tuple[int, str], int]) -> str:
    src, dst = edge.src, edge.dst
    if src[0] in "pcs" and "_" in src:
        return "f" + src[1:]
    if dst[0] == "o" and "_" in dst:
        return "f" + dst[1:]
    if dst == "output":
        return "out"
    if dst[0] == "j":
        return "F" + dst[1:]
    tensor = view.tensors[int(src[1:])] if src[0] == "j" else view.nodes[int(src[1:])].output
    number = view.tensor_number(tensor)
    readers: list[tuple[Node, int]] = view.readers.get(id(tensor), [])
    start = used.get((number, dst), 0)
    for position in range(start, len(readers)):
        reader, index = readers[position]
        if builder.item(reader) == dst:
            used[(number, dst)] = position + 1
            return f"f{number}_{view.number(reader)}_{index}"
    return f"f{number}"
