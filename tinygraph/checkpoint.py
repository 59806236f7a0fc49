"""``tg.checkpoint(fn, *args)``: one node instead of fn's graph; fn is recomputed in backward.

Gradient checkpointing (Chen et al. 2016) trades time for memory: the forward pass keeps only
fn's inputs and output, and the backward pass, on reaching that node, runs fn again with
gradients enabled and back-propagates through the recomputed segment. Checkpointing an RNN
every k steps keeps T/k states plus one segment's graph: O(√T) for k = √T, for about one
extra forward pass.

The gradients are the plain graph's, bit for bit. The recomputed segment is made of the same
nodes in the same order, and its backward runs inside the pass that reached the checkpoint
(``tinygraph.backward.continue_pass``): every gradient it sends, to fn's arguments and to the
parameters fn reads, is added onto the same running sums, in the same order, as the plain
graph's nodes would add it. Two exceptions, both about the sign of zero: a tuple's outputs
reach the segment through one packed buffer, whose gradient starts as zeros, so a gradient
of −0.0 arrives as +0.0; and an output of a tuple that nothing used gets a zero gradient
(the plain graph would not visit it), so a parameter reached only through it gets zeros as
``.grad`` instead of None. When the node's backward is called outside a pass (``op.backward(g)``
by ``tg.gradcheck_nodes``), it returns ordinary per-input gradients, each summed on its own.

Which tensors fn reads: its Tensor arguments, plus every tensor it reads from its closure
(parameters) that requires grad. With ``params=None`` they are found by recording fn's graph
once during the forward pass and walking it (then the graph is dropped); with ``params=[...]``
(``rnn`` passes its parameters) the forward runs under ``tg.no_grad()`` and records nothing.
The checkpoint's node reads all of them, so their gradients flow, a write into one of them
between the passes is refused as for any op, and a rebound ``W.data = new`` does not change
the recomputation (it runs on the arrays the node saved).

fn must compute the same values from the same inputs. Its random numbers are replayed: the
state of numpy's global generator (when fn drew from it), and of every Generator given in
``rngs``, is saved before the forward pass and restored for the recomputation (and put back
afterwards, so the stream goes on as if the recomputation had not happened). ``rnn.dropout``
with an int seed draws the same mask every time; with a Generator, give it in ``rngs``; with
``rng=None`` (a fresh unseeded generator) it cannot be replayed and is refused as below.
Any other difference (a generator not given, a global read that changed) is caught: the
recomputed output is compared bit for bit with the forward's, and a mismatch is a
GraphStateError.

A recomputation runs in the checkpoint's scope (fn's own tg.scope blocks merge over it, as in
the forward), and its nodes then get ``recomputed=True`` added to their scope, so traces and
anomaly messages of the backward pass say where their nodes came from.
Checkpoints nest (a segment of segments); each level recomputes its own segment once per pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinygraph.backward import continue_pass, nodes_made_after, run_backward
from tinygraph.errors import DTypeError, GraphStateError
from tinygraph.forward import propagate_tangents
from tinygraph.indexed_grad import IndexedGrad
from tinygraph.node import Node, Op, apply, locate
from tinygraph.ops.elementwise import identity
from tinygraph.scope import STATE, enable_grad, no_grad
from tinygraph.tangent import filled
from tinygraph.tensor import Tensor
from tinygraph import versions

Result = Tensor | tuple[Tensor, ...] | list[Tensor]


def checkpoint(fn: Callable[..., Result], *args: Any, params: Sequence[Tensor] | None = None,
               rngs: Sequence[np.random.Generator] = ()) -> Result:
    """y = fn(*args), recorded as one ``checkpoint`` node whose backward recomputes fn.

    dL/dx for every tensor x that fn reads = the plain graph's gradient, bit for bit (see
    the module docstring for the exceptions, both about the sign of zero).

    Args:
        fn: returns a Tensor, or a tuple (or list) of float Tensors of one dtype, which come
            back as views of one packed output.
        args: passed to fn as they are; the Tensors among them are the node's inputs.
        params: the tensors fn reads besides its arguments (a model's parameters). Given,
            fn's forward runs under ``tg.no_grad()``; None: they are found by recording
            fn's graph once. A recomputation that reads a tensor requiring grad that is in
            neither is refused.
        rngs: numpy Generators fn draws from; their states are replayed in the recomputation,
            as numpy's global generator's is.
    """
    if not callable(fn):
        raise DTypeError(f"checkpoint: fn must be callable, got {type(fn).__name__}")
    if not STATE.grad_enabled:  # nothing will be differentiated: just run it
        return fn(*args)
    explicit = _unique([a for a in args if isinstance(a, Tensor)])
    generators = _check_rngs(rngs)
    states = rng_states(generators)
    if params is None:
        start = next(versions.clock)
        result = fn(*args)
        outputs, packed = _outputs(result, fn)
        _, outside = _segment(outputs, start)
        read = outside
    else:
        read = [p for p in _check_params(params) if p.requires_grad]
        with no_grad():
            result = fn(*args)
        outputs, packed = _outputs(result, fn)
    states = _unless_unused(states)
    inputs = _unique([*explicit, *read])
    if not any(t.requires_grad for t in inputs):
        return result
    places = _layout(outputs) if packed else None
    op = Checkpoint(fn, args, inputs, places, generators, states)
    op.first = _pack([o._data for o in outputs]) if packed else outputs[0]._data
    out = apply(op, tuple(inputs))
    if not packed:
        out.name = outputs[0].name
        return out
    views = {id(o): _unpacked(out, place, o.name) for o, place in zip(outputs, places)}
    return type(result)(views[id(o)] for o in result)


class Checkpoint(Op):
    """y = fn(x_1, ..., x_n);  dx_i = the backward of fn's recomputed graph, seeded with dy.

    The inputs x_i are fn's Tensor arguments and the tensors it reads from its closure; the
    output is fn's result (a tuple's tensors packed into one flat array, ``places`` saying
    where each one is).
    """

    __slots__ = ("args", "first", "fn", "generators", "places", "scope", "states", "tensors")

    name = "checkpoint"
    saved_arrays = ("states",)  # the generators' states (numpy's global one, 2.5 kB, if used)

    def __init__(self, fn: Callable[..., Result], args: tuple[Any, ...], tensors: list[Tensor],
                 places: list[Place] | None, generators: list[np.random.Generator],
                 states: list[Any]) -> None:
        self.fn = fn
        self.args = args
        self.tensors = tuple(tensors)
        self.places = places
        self.generators = generators
        self.states = states
        self.scope = STATE.tags
        self.first: np.ndarray | None = None

    def describe(self) -> str:
        name = getattr(self.fn, "__name__", "")
        return f"checkpoint[{name}]" if name and name != "<lambda>" else "checkpoint"

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        first = self.first
        if first is not None:  # the first forward ran in tg.checkpoint itself
            self.first = None
            return first
        with no_grad():
            outputs = self._run(arrays)
        return outputs[0]._data if self.places is None else _pack([o._data for o in outputs])

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        start = next(versions.clock)
        with enable_grad():
            root = self._recompute(self.inputs, start)
        none = (None,) * len(self.tensors)
        if not root.requires_grad:
            return none
        nodes, outside = _segment([root], start)
        self._check_read(outside)
        _mark_recomputed(nodes)
        if continue_pass(root, grad, nodes):
            return none
        keep = [t for t in self.tensors if t.requires_grad]
        grads, _ = run_backward(root, grad, retain_graph=False, keep=keep, nodes=nodes)
        return tuple(grads.get(t) if t.requires_grad else None for t in self.tensors)

    def jvp(self, *tangents: np.ndarray | None) -> np.ndarray:
        """ẏ = Σ_i ∂fn/∂x_i · ẋ_i: forward mode through fn run again, its inputs taken as
        leaves (so the tangents stop at the segment's edge)."""
        start = next(versions.clock)
        with enable_grad(), _as_leaves(self.tensors):
            root = self._recompute(self.inputs, start)
            seeds = {t: g for t, g in zip(self.tensors, tangents) if g is not None}
            moved = propagate_tangents(root, seeds) if root.requires_grad else None
        if moved is None:
            count = next(g for g in tangents if g is not None).shape[0]
            return np.zeros((count, *self.output.shape), dtype=self.output.dtype)
        return moved

    def _recompute(self, arrays: Sequence[np.ndarray], start: int) -> Tensor:
        """fn again on ``arrays``, recorded, its outputs joined into one root made after
        ``start``; refused when it differs from the forward's output."""
        outer = STATE.tags
        STATE.tags = self.scope
        try:
            outputs = self._run(arrays)
            if self.places is not None:
                root = Pack()(*outputs)
            else:
                root = outputs[0]
                if root.producer is None or root.producer.id <= start:  # fn returned an input
                    root = identity(root)
        finally:
            STATE.tags = outer
        if not np.array_equal(root._data, self.output, equal_nan=True):
            raise GraphStateError(self._changed(root._data))
        return root

    def _run(self, arrays: Sequence[np.ndarray]) -> list[Tensor]:
        """fn(*args) with the input tensors' data bound to ``arrays`` and the generators'
        states replayed; its unique output tensors."""
        with _bound(self.tensors, arrays), _replayed(self.generators, self.states):
            result = self.fn(*self.args)
        outputs, _ = _outputs(result, self.fn)
        shapes = [o.shape for o in outputs]
        if self.places is not None and shapes != [shape for _, _, shape in self.places]:
            raise GraphStateError(self._changed(None))
        return outputs

    def _check_read(self, outside: list[Tensor]) -> None:
        """Refuse a recomputation that read a tensor needing grad that the node does not."""
        known = {id(t) for t in self.tensors}
        for tensor in outside:
            if id(tensor) not in known:
                what = f"tensor {tensor.name!r}" if tensor.name else f"a tensor of shape {tensor.shape}"
                raise GraphStateError(
                    f"backward of {locate(self, self.scope)}: fn read {what}, which requires grad "
                    "but is neither an argument of tg.checkpoint nor in its params=, so its "
                    "gradient would be lost; pass it in params= (or leave params=None to find "
                    "the tensors fn reads)"
                )

    def _changed(self, recomputed: np.ndarray | None) -> str:
        detail = ""
        if recomputed is not None and recomputed.shape == self.output.shape:
            diff = np.abs(recomputed.astype(np.float64) - self.output)
            detail = f" (largest difference {float(np.nanmax(diff)):.3g})"
        return (
            f"backward of {locate(self, self.scope)}: recomputing fn gave a different output "
            f"than its forward pass{detail}; fn must compute the same values from the same "
            "inputs: draw random numbers from numpy's global generator or from a Generator "
            "given in rngs=, and do not read state that changes between the passes"
        )


Place = tuple[int, int, tuple[int, ...]]  # (start, stop, shape) of one output in a packed array


class Pack(Op):
    """y = [vec(x_1), ..., vec(x_n)] (one flat array);  dx_i = dy[start_i:stop_i] in x_i's shape."""

    __slots__ = ("places",)
    keeps_inputs = False
    saves_output = False

    name = "pack"

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        self.places = _places(arrays)
        return _pack(arrays)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        return tuple(grad[start:stop].reshape(shape) if need else None
                     for (start, stop, shape), need in zip(self.places, self.needs_input_grad))

    def jvp(self, *tangents: np.ndarray | None) -> np.ndarray:
        """jvp: ẏ = [vec(ẋ_1), ..., vec(ẋ_n)] (zeros for an input that does not move)."""
        count = next(t for t in tangents if t is not None).shape[0]
        return np.concatenate([t.reshape(count, -1) for t in filled(tangents, self.inputs)], axis=1)


class Unpack(Op):
    """y = x[start:stop] in ``shape`` (a view of a packed output);  dx = dy added at the slice."""

    __slots__ = ("place", "size")
    keeps_inputs = False
    saves_output = False

    name = "unpack"

    def __init__(self, place: Place) -> None:
        self.place = place

    def describe(self) -> str:
        start, stop, _ = self.place
        return f"unpack[{start}:{stop}]"

    def forward(self, packed: np.ndarray) -> np.ndarray:
        start, stop, shape = self.place
        self.size = packed.shape
        return packed[start:stop].reshape(shape)

    def backward(self, grad: np.ndarray) -> tuple[IndexedGrad]:
        start, stop, _ = self.place
        return (IndexedGrad(slice(start, stop), grad.reshape(-1), self.size, True),)

    def jvp(self, tangent: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ[start:stop] in ``shape``, for each direction."""
        start, stop, shape = self.place
        return tangent[:, start:stop].reshape(tangent.shape[0], *shape)


def _unpacked(packed: Tensor, place: Place, name: str | None) -> Tensor:
    out = Unpack(place)(packed)
    out.name = name
    return out


def _pack(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([a.reshape(-1) for a in arrays])


def _places(arrays: Sequence[np.ndarray]) -> list[Place]:
    places, start = [], 0
    for a in arrays:
        places.append((start, start + a.size, a.shape))
        start += a.size
    return places


def _layout(outputs: Sequence[Tensor]) -> list[Place]:
    """Where each output goes in the packed array; they must share one float dtype."""
    dtypes = sorted({str(o.dtype) for o in outputs})
    if len(dtypes) > 1 or outputs[0].dtype.kind != "f":
        raise DTypeError(
            f"checkpoint: fn returned a tuple of tensors of dtype {', '.join(dtypes)}; a tuple "
            "is packed into one array, so its tensors must share one float dtype"
        )
    return _places([o._data for o in outputs])


def _outputs(result: Any, fn: Callable[..., Any]) -> tuple[list[Tensor], bool]:
    """fn's distinct output tensors (a tensor returned twice is one output), and whether fn
    returned a tuple or list."""
    if isinstance(result, Tensor):
        return [result], False
    if isinstance(result, (tuple, list)) and result and all(isinstance(r, Tensor) for r in result):
        return _unique(result), True
    name = getattr(fn, "__name__", "fn")
    raise DTypeError(
        f"checkpoint: {name} returned {type(result).__name__}; it must return a Tensor or a "
        "non-empty tuple of Tensors"
    )


def _segment(roots: Sequence[Tensor], start: int) -> tuple[list[Node], list[Tensor]]:
    """The nodes made after clock value ``start`` that ``roots`` depend on, newest first, and
    the tensors from before it that they read and that require grad, in order of first use."""
    nodes = nodes_made_after(roots, start)
    outside: dict[int, Tensor] = {}
    for node in reversed(nodes):
        for tensor in node.inputs:
            parent = tensor.producer
            if tensor.requires_grad and (parent is None or parent.id <= start):
                outside.setdefault(id(tensor), tensor)
    return nodes, list(outside.values())


def _mark_recomputed(nodes: list[Node]) -> None:
    """Add ``recomputed=True`` to the scope of every node of a recomputed segment (one new
    dict per distinct scope, as the nodes of one step share theirs)."""
    marked: dict[int, dict[str, Any]] = {}
    for node in nodes:
        scope = marked.get(id(node.scope))
        if scope is None:
            scope = marked[id(node.scope)] = {**node.scope, "recomputed": True}
        node.scope = scope
        if isinstance(node.op, Checkpoint):  # a nested checkpoint recomputes in its scope
            node.op.scope = scope


def _unique(tensors: Sequence[Tensor]) -> list[Tensor]:
    """The tensors without repeats (by identity), in order."""
    return list({id(t): t for t in tensors}.values())


def _check_params(params: Any) -> list[Tensor]:
    if isinstance(params, Tensor) or not isinstance(params, (list, tuple)):
        raise DTypeError(
            f"checkpoint: params must be a list of Tensors, got {type(params).__name__}"
        )
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise DTypeError(f"checkpoint: params[{i}] is a {type(p).__name__}, not a Tensor")
    return list(params)


def _check_rngs(rngs: Any) -> list[np.random.Generator]:
    generators = [rngs] if isinstance(rngs, np.random.Generator) else list(rngs)
    for i, g in enumerate(generators):
        if not isinstance(g, np.random.Generator):
            raise DTypeError(
                f"checkpoint: rngs[{i}] is a {type(g).__name__}, not a numpy Generator"
            )
    return generators


def rng_states(generators: Sequence[np.random.Generator]) -> list[Any]:
    """The states to replay: numpy's global generator's, then each Generator's."""
    return [np.random.get_state(), *(g.bit_generator.state for g in generators)]


def _unless_unused(states: list[Any]) -> list[Any]:
    """``states`` with the global generator's replaced by None when fn drew nothing from it
    (its 2.5 kB state is then not kept: a recomputation would draw nothing from it either)."""
    before, now = states[0], np.random.get_state()
    if before[2:] == now[2:] and np.array_equal(before[1], now[1]):
        return [None, *states[1:]]
    return states


@contextmanager
def _replayed(generators: Sequence[np.random.Generator], states: Sequence[Any]) -> Iterator[None]:
    """Run the block with the generators in the saved ``states`` (the global one only if fn
    drew from it), then put back the states they had before it (a recomputation draws the
    forward's numbers and consumes none)."""
    before = rng_states(generators)
    if states[0] is not None:
        np.random.set_state(states[0])
    for g, state in zip(generators, states[1:]):
        g.bit_generator.state = state
    try:
        yield
    finally:
        np.random.set_state(before[0])
        for g, state in zip(generators, before[1:]):
            g.bit_generator.state = state


@contextmanager
def _as_leaves(tensors: Sequence[Tensor]) -> Iterator[None]:
    """Run the block with each tensor's producer set aside: a walk from inside stops at them."""
    producers = [t.producer for t in tensors]
    for tensor in tensors:
        tensor.producer = None
    try:
        yield
    finally:
        for tensor, producer in zip(tensors, producers):
            tensor.producer = producer


@contextmanager
def _bound(tensors: Sequence[Tensor], arrays: Sequence[np.ndarray]) -> Iterator[None]:
    """Run the block with each tensor's data bound to the matching array (the arrays the node
    saved, or gradcheck's copies), then bind back what they held."""
    saved = [(t._data, t._view) for t in tensors]
    for tensor, array in zip(tensors, arrays):
        if tensor._data is not array:
            tensor._data, tensor._view = array, None
    try:
        yield
    finally:
        for tensor, (data, view) in zip(tensors, saved):
            tensor._data, tensor._view = data, view
