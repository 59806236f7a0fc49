"""Bands: the horizontal strips of a picture, one per layer, the readout above, the loss on top.

With ``tg.scope(layer=l)`` tags (the rnn package sets them), a node's band is its layer (and
its direction, ``direction="reverse"`` in a bidirectional network). Without any layer tag the
bands are *inferred* from the recurrences: a tensor made at one step and read at another is
carried, the carried tensors of the same role at every step form a chain (h^(0), h^(1), an
LSTM's c), chains that feed each other both ways (an LSTM's h and c) are one band, and bands
are ordered so that each is fed only by those below it. A node belongs to the lowest band whose
carried tensor it feeds within its step; one that feeds none (a readout, a step's loss) is in
the readout band (None). Nodes outside the steps that gather several steps, and sums over time
(Σ_t L_t, even a running sum inside the steps), are TOP. A ``tg.checkpoint`` box tagged with
a step but no layer (rnn tags each segment with its last step), and the views of its outputs,
are in a band of their own, "checkpoints".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinygraph.node import Node
from tinygraph.render.graph_view import GraphView
from tinygraph.render.safe_text import shorten
from tinygraph.render.steps import Steps, input_columns

TOP = "top"
SEGMENTS = "checkpoints"  # tg.checkpoint boxes (and the views of their outputs) in a step
SEGMENT_OPS = ("checkpoint", "unpack")


@dataclass
class Bands:
    """The band of every node and how bands are ordered and named.

    Attributes:
        of: ``id(node) -> band`` (a layer tag, ``(layer, "reverse")``, an inferred index,
            None for the readout, TOP).
        inferred: whether the layers were inferred (no node carried a ``layer`` tag).
        order: every band drawn, bottom-up.
    """

    of: dict[int, Any]
    inferred: bool
    order: list[Any]

    @property
    def layered(self) -> bool:
        """More than one layer band: names then carry the layer as a superscript."""
        return sum(1 for b in self.order if b not in (None, TOP)) > 1

    def differ(self, a: Node, b: Node) -> bool:
        """Whether nodes ``a`` and ``b`` are in different bands (a tensor from one to the
        other crosses a band's edge)."""
        return self.of.get(id(a)) != self.of.get(id(b))

    def label(self, band: Any) -> str:
        """The text at the left of a band."""
        if band is None:
            return "readout"
        if band == TOP:
            return ""
        if isinstance(band, tuple):
            layer, direction = band
            return f"{band_label_of(layer)}, {shorten(direction)}"
        return band_label_of(band)


def band_label_of(layer: Any) -> str:
    """``layer 1`` for an int, the value itself otherwise."""
    return f"layer {layer}" if isinstance(layer, int) else shorten(layer)


def band_key(band: Any) -> tuple[int, Any, int]:
    """Bottom-up order: layers by value (a reverse direction above its forward one), other
    layer names, the readout, then the top band."""
    if band == TOP:
        return (3, "", 0)
    if band is None:
        return (2, "", 0)
    layer, direction = band if isinstance(band, tuple) else (band, None)
    rank = 1 if direction == "reverse" else 0
    return (0, layer, rank) if isinstance(layer, (int, float)) else (1, str(layer), rank)


def assign_bands(view: GraphView, steps: Steps, sums: dict[int, object]) -> Bands:
    """The band of every node of ``view`` (merged time sums are TOP)."""
    col_of = steps.col_of
    tagged = any("layer" in n.scope for n in view.nodes if "t" in n.scope)
    inferred = {} if tagged else _inferred_bands(view, col_of, sums)
    of: dict[int, Any] = {}
    for node in view.nodes:
        if id(node) in sums or _gathers_steps(node, col_of, of):
            of[id(node)] = TOP
        elif node.op.name in SEGMENT_OPS and "t" in node.scope and "layer" not in node.scope:
            of[id(node)] = SEGMENTS
        elif tagged:
            layer = node.scope.get("layer")
            direction = node.scope.get("direction")
            of[id(node)] = (layer, direction) if direction is not None and layer is not None \
                else layer
        else:
            of[id(node)] = inferred.get(id(node))
    order = sorted(set(of.values()), key=band_key)
    return Bands(of, bool(inferred) and not tagged, order)


def _gathers_steps(node: Node, col_of: dict[int, int | None], of: dict[int, Any]) -> bool:
    """An untimed node outside the layers reading several steps, or reading the top band: it
    goes on top."""
    if "t" in node.scope or "layer" in node.scope:
        return False
    if any(t.producer is not None and of.get(id(t.producer)) == TOP for t in node.inputs):
        return True
    return len(input_columns(node, col_of)) >= 2


def _inferred_bands(view: GraphView, col_of: dict[int, int | None],
                    sums: dict[int, object]) -> dict[int, int]:
    """Bands from the recurrences (see the module doc): id(node) -> band index.

    A node's *role* is (what its op describes, how many such ops come before it in its step):
    the same role at every step of a regular unroll. A carried tensor's chain is its
    producer's role; a step that carries nothing on (the last one) takes each node's band
    from a step where the same role feeds a chain.
    """
    by_col: dict[int, list[Node]] = {}
    for node in view.nodes:
        col = col_of[id(node)]
        if col is not None and "t" in node.scope and id(node) not in sums:
            by_col.setdefault(col, []).append(node)
    role: dict[int, tuple[str, int]] = {}
    for members in by_col.values():
        count: dict[str, int] = {}
        for node in members:
            what = node.op.describe()
            role[id(node)] = (what, count.get(what, 0))
            count[what] = count.get(what, 0) + 1
    chain_of: dict[int, tuple[str, int]] = {}   # id(carried tensor) -> its chain
    for col, members in by_col.items():
        for node in members:
            readers = view.readers.get(id(node.output), ()) if node.output is not None else ()
            if any("t" in r.scope and col_of.get(id(r)) not in (col, None) and id(r) not in sums
                   for r, _ in readers):
                chain_of[id(node.output)] = role[id(node)]
    if not chain_of:
        return {}
    feeds: dict[tuple, set[tuple]] = {}         # chain -> the chains it feeds
    reach: dict[int, set[tuple]] = {}           # id(node) -> the chains it feeds in its step
    for members in by_col.values():
        local = {id(n) for n in members}
        fed_by: dict[int, set[tuple]] = {}
        for node in members:                    # oldest first: what feeds each node
            chains: set[tuple] = set()
            for tensor in node.inputs:
                if tensor.producer is not None and id(tensor.producer) in local:
                    chains |= fed_by[id(tensor.producer)]
                if id(tensor) in chain_of:
                    chains.add(chain_of[id(tensor)])
            fed_by[id(node)] = chains
            if node.output is not None and id(node.output) in chain_of:
                for source in chains:
                    feeds.setdefault(source, set()).add(chain_of[id(node.output)])
        for node in reversed(members):          # newest first: what each node feeds
            chains = {chain_of[id(node.output)]} if id(node.output) in chain_of else set()
            for reader, _ in view.readers.get(id(node.output), ()):
                chains |= reach.get(id(reader), set()) if id(reader) in local else set()
            reach[id(node)] = chains
    band_of_chain = _order_chains(feeds, set(chain_of.values()))
    bands = {key: min(band_of_chain[c] for c in chains) for key, chains in reach.items() if chains}
    by_role: dict[tuple, int] = {}
    for key, band in bands.items():
        by_role.setdefault(role[key], band)
    for members in by_col.values():
        for node in members:
            if id(node) not in bands and role[id(node)] in by_role:
                bands[id(node)] = by_role[role[id(node)]]
    return bands


def _order_chains(feeds: dict[tuple, set[tuple]], chains: set[tuple]) -> dict[tuple, int]:
    """Band index of each chain: chains feeding each other share a band, and a band comes
    after every band that feeds it (ties: the chain made first in a step)."""
    def reaches(a: tuple) -> set[tuple]:
        seen, stack = {a}, [a]
        while stack:
            for b in feeds.get(stack.pop(), ()):
                if b not in seen:
                    seen.add(b)
                    stack.append(b)
        return seen
    closure = {c: reaches(c) for c in chains}
    groups: list[list[tuple]] = []
    for c in sorted(chains, key=lambda c: (c[1], c[0])):
        for group in groups:
            if c in closure[group[0]] and group[0] in closure[c]:
                group.append(c)
                break
        else:
            groups.append([c])
    ancestors = [sum(1 for other in groups if other is not group and group[0] in closure[other[0]])
                 for group in groups]
    ordered = sorted(range(len(groups)), key=lambda i: ancestors[i])
    return {c: band for band, i in enumerate(ordered) for c in groups[i]}
