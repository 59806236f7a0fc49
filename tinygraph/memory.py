"""``tg.saved_bytes(loss)``: the memory a graph holds for its backward pass, per op, step and layer.

For every node that ``loss`` depends on, the ledger counts the arrays the node keeps:

* what its op saved for backward: its input arrays when it keeps them (``op.inputs``), its
  output (``op.output``, kept by every recorded op), and every other ndarray the op holds
  (the attributes named in ``saved_arrays``, masks, index arrays; also inside tuples, lists
  and dicts, two levels deep);
* with ``edges=True``, also the arrays of its edges (each input tensor's ``.data``), which the
  graph keeps readable for traces and pictures even where no backward needs them.

Shared memory is counted once. Every array is traced back, through ``.base``, to the object
that owns its memory, so the views of one buffer (``P[t]``, ``x.T``, a reshape, the outputs
of one ``tg.checkpoint``) count as that buffer, once, at its full size. Each buffer is charged
to one place: to the parameters when it is the data of a leaf tensor that requires grad; else
to the node that produced it (the oldest node whose output lives in it); else to the oldest
node that holds it (a constant x_t, a mask). So a step's total is what that step added.

Not counted: the Python objects themselves (Tensor, Node and op objects, tuples, weak
references: about 1.5 kB for the three nodes of one step of h_t = tanh(h_(t−1) W + x_t)), and
the gradients of the backward pass, which exist only while it runs.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygraph.backward import graph_nodes
from tinygraph.errors import DTypeError
from tinygraph.node import Node, Op
from tinygraph.scope import format_scope
from tinygraph.table import format_table
from tinygraph.tensor import Tensor

_ENGINE_SLOTS = frozenset({"inputs", "output", "needs_input_grad", "__dict__", "__weakref__"})
MAX_TABLE_ROWS = 20


@dataclass(frozen=True)
class NodeBytes:
    """The bytes charged to one node: ``node``, ``bytes``, ``arrays`` (how many buffers)."""

    node: Node
    bytes: int
    arrays: int

    @property
    def scope(self) -> dict[str, Any]:
        """The node's scope tags."""
        return self.node.scope


@dataclass
class MemoryReport:
    """What a graph holds for its backward pass; ``print(report)`` shows it as a table.

    ``total`` = ``activations`` + ``parameters`` (bytes). ``nodes`` lists every node in creation
    order with the bytes charged to it; ``by_scope`` and ``by_op`` sum them (activations only)
    by scope text (``"t=3, layer=0"``, ``""`` for none) and by op name; ``by_tag("t")`` by the
    value of one tag; ``parameter_bytes`` by parameter name.
    """

    nodes: list[NodeBytes]
    parameter_bytes: dict[str, int]
    edges: bool = False

    @property
    def activations(self) -> int:
        """Bytes charged to nodes: everything but the parameters."""
        return sum(row.bytes for row in self.nodes)

    @property
    def parameters(self) -> int:
        """Bytes of the parameters (leaves that require grad) the graph holds."""
        return sum(self.parameter_bytes.values())

    @property
    def total(self) -> int:
        """Every buffer the graph holds, each counted once (bytes)."""
        return self.activations + self.parameters

    @property
    def by_scope(self) -> dict[str, int]:
        """Activation bytes by scope text (``"t=3, layer=0"``, ``""`` for none)."""
        return _group(self.nodes, lambda row: format_scope(row.scope))

    @property
    def by_op(self) -> dict[str, int]:
        """Activation bytes by op name."""
        return _group(self.nodes, lambda row: row.node.op.name)

    def by_tag(self, key: str) -> dict[Any, int]:
        """Activation bytes by the value of the scope tag ``key`` (None: nodes without it)."""
        return _group(self.nodes, lambda row: row.scope.get(key))

    @property
    def by_step(self) -> dict[Any, int]:
        """Activation bytes per time step: ``by_tag("t")``."""
        return self.by_tag("t")

    @property
    def by_layer(self) -> dict[Any, int]:
        """Activation bytes per layer: ``by_tag("layer")``."""
        return self.by_tag("layer")

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table's rows: (scope, nodes, arrays, bytes), scopes in creation order, then the
        parameters and the total."""
        counts: dict[str, list[int]] = {}
        for row in self.nodes:
            entry = counts.setdefault(format_scope(row.scope), [0, 0, 0])
            entry[0] += 1
            entry[1] += row.arrays
            entry[2] += row.bytes
        rows = [(scope or "(no scope)", str(n), str(a), f"{b:,}") for scope, (n, a, b) in counts.items()]
        for name, size in self.parameter_bytes.items():
            rows.append((f"parameter {name}", "", "", f"{size:,}"))
        rows.append(("total", str(len(self.nodes)), "", f"{self.total:,}"))
        return rows

    def __str__(self) -> str:
        what = "saved arrays and edges" if self.edges else "saved arrays"
        lines = [f"memory held for backward ({what}): {self.total:,} bytes ({human(self.total)}); "
                 f"activations {self.activations:,}, parameters {self.parameters:,}"]
        rows = self.rows()
        body, tail = rows[:-1], rows[-1:]
        if len(body) > MAX_TABLE_ROWS:
            half = MAX_TABLE_ROWS // 2
            hidden = len(body) - 2 * half
            body = [*body[:half], (f"... {hidden} more rows ...", "", "", ""), *body[-half:]]
        lines.append(format_table(("scope", "nodes", "arrays", "bytes"), [*body, *tail]))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c, quote=False)}</td>" for c in r) + "</tr>"
            for r in self.rows()
        )
        head = "".join(f"<th>{h}</th>" for h in ("scope", "nodes", "arrays", "bytes"))
        return (f"<p>memory held for backward: {self.total:,} bytes ({human(self.total)})</p>"
                f"<table><tr>{head}</tr>{cells}</table>")

    def __repr__(self) -> str:
        return (f"MemoryReport(total={self.total}, activations={self.activations}, "
                f"parameters={self.parameters}, nodes={len(self.nodes)})")


def saved_bytes(output: Tensor, edges: bool = False) -> MemoryReport:
    """The ledger of the graph behind ``output``: bytes held for its backward pass.

    Σ over the distinct buffers b held by the nodes ``output`` depends on of size(b), where
    an array's buffer is the object that owns its memory (views of one buffer count once).
    See the module docstring for what a node holds and where each buffer is charged.

    Args:
        output: the tensor a backward pass would start from (e.g. the loss).
        edges: also count the arrays of the edges (input tensors' ``.data``), not only what the
            ops saved.
    """
    if not isinstance(output, Tensor):
        raise DTypeError(f"saved_bytes: output must be a tg.Tensor, got {type(output).__name__}")
    nodes = graph_nodes(output)  # creation order: the oldest holder of a buffer is charged for it
    owners: dict[int, Node | str] = {}
    keep_alive: list[Any] = []  # the owners' ids stay valid while the walk runs
    for node in nodes:
        for tensor in node.inputs:
            if tensor.producer is None and tensor.requires_grad:
                key, owner, _ = _buffer(tensor._data)
                owners.setdefault(key, _parameter_name(tensor))
                keep_alive.append(owner)
        if node.op.output is not None:
            key, owner, _ = _buffer(node.op.output)
            owners.setdefault(key, node)
            keep_alive.append(owner)
    counted: set[int] = set()
    charged: dict[int, list[int]] = {}
    parameters: dict[str, int] = {}
    for node in nodes:
        for array in held_arrays(node, edges):
            key, owner, size = _buffer(array)
            if key in counted:
                continue
            counted.add(key)
            keep_alive.append(owner)
            place = owners.get(key, node)
            if isinstance(place, str):
                parameters[place] = parameters.get(place, 0) + size
            else:
                entry = charged.setdefault(id(place), [0, 0])
                entry[0] += size
                entry[1] += 1
    rows = [NodeBytes(node, *charged.get(id(node), (0, 0))) for node in nodes]
    return MemoryReport(rows, parameters, edges)


def held_arrays(node: Node, edges: bool = False) -> list[np.ndarray]:
    """The arrays ``node`` keeps: its op's saved inputs and output, every other ndarray the op
    holds, and with ``edges`` its input tensors' data."""
    op = node.op
    arrays = [a for a in op.inputs or () if isinstance(a, np.ndarray)]
    if op.output is not None:
        arrays.append(op.output)
    for name in _attribute_names(op):
        arrays.extend(_arrays_in(getattr(op, name, None)))
    if edges:
        arrays.extend(tensor._data for tensor in node.inputs)
    return arrays


def human(size: float) -> str:
    """A byte count in binary units: ``512 B``, ``1.5 KiB``, ``3.2 MiB``, ``1.1 GiB``."""
    for unit in ("B", "KiB", "MiB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


_NAMES: dict[type, tuple[str, ...]] = {}


def _attribute_names(op: Op) -> list[str]:
    """The op's own attributes (slots of its class and its ``__dict__``), not the engine's."""
    kind = type(op)
    names = _NAMES.get(kind)
    if names is None:
        slots = (n for cls in kind.__mro__ for n in getattr(cls, "__slots__", ()))
        names = _NAMES[kind] = tuple(dict.fromkeys(n for n in slots if n not in _ENGINE_SLOTS))
    extra = getattr(op, "__dict__", None)
    return [*names, *extra] if extra else list(names)


def _arrays_in(value: Any) -> list[np.ndarray]:
    """An attribute's arrays: the value itself, or the arrays inside it when it is a tuple,
    list or dict, looking two levels deep (a saved generator state is a tuple in a list)."""
    found: list[np.ndarray] = []
    level = [value]
    for _ in range(3):
        inner = []
        for item in level:
            if isinstance(item, np.ndarray):
                found.append(item)
            elif isinstance(item, dict):
                inner.extend(item.values())
            elif isinstance(item, (tuple, list)):
                inner.extend(item)
        level = inner
    return found


def _buffer(array: np.ndarray) -> tuple[int, Any, int]:
    """(key, owner, bytes) of the memory ``array`` lives in: the ndarray at the end of its
    ``.base`` chain, or the foreign object (bytes, bytearray, mmap) that one was made from,
    seen through any memoryview numpy put in between."""
    base = array
    while isinstance(base.base, np.ndarray):
        base = base.base
    owner = base.base
    if owner is None:
        return id(base), base, base.nbytes
    while isinstance(owner, memoryview) and owner.obj is not None:  # np.frombuffer's own view
        owner = owner.obj
    try:
        size = memoryview(owner).nbytes
    except TypeError:
        size = base.nbytes
    return id(owner), owner, size


def _parameter_name(tensor: Tensor) -> str:
    shape = "x".join(str(n) for n in tensor.shape) or "scalar"
    return f"{tensor.name} [{shape}]" if tensor.name else f"unnamed [{shape}]"


def _group(rows: list[NodeBytes], key: Any) -> dict[Any, int]:
    totals: dict[Any, int] = {}
    for row in rows:
        k = key(row)
        totals[k] = totals.get(k, 0) + row.bytes
    return totals
