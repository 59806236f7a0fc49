"""The backward pass: one iterative sweep in reverse creation order, junctions summed explicitly.

For every tensor the pass adds up the gradients its consumers send back (a junction when there
are several); for every node it calls the op's backward once, after all contributions to its
output have arrived. Creation order is a topological order (an op's inputs exist before it), so
sorting the reachable nodes by creation id, newest first, is the whole schedule: no recursion,
so a 100,000-step chain works.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, Protocol

import numpy as np

from tinygraph import versions
from tinygraph.anomaly import check_backward
from tinygraph.broadcast import sum_to
from tinygraph.performance import pause_gc
from tinygraph.errors import BackwardError, DTypeError, GraphStateError, ShapeError, add_note
from tinygraph.indexed_grad import IndexedGrad, densify
from tinygraph.node import Node
from tinygraph.scope import STATE
from tinygraph.tensor import NUMERIC_KINDS, Tensor, as_array, describe

_BY_ID = attrgetter("id")


class Recorder(Protocol):
    """Observer of a backward pass (used by ``trace_backward``)."""

    def before_node(self, node: Node, output: Tensor, grad: np.ndarray) -> None:
        """``node``'s backward is about to run with dL/d(output) = ``grad`` (its sum is final)."""

    def sent(self, node: Node, tensor: Tensor, grad: np.ndarray) -> None:
        """``node`` sent ``grad`` to its input ``tensor`` (one contribution to its junction)."""

    def finish(self, grads: dict[Tensor, np.ndarray]) -> None:
        """The pass is over; ``grads`` holds the leaves' (and kept tensors') gradients."""


def reverse_topological(root: Tensor) -> list[Node]:
    """Every node that ``root`` depends on, newest first (an explicit stack, no recursion)."""
    return nodes_made_after((root,))


def graph_nodes(out: Tensor) -> list[Node]:
    """Every node ``out`` depends on, in creation order (the backward's own walk, reversed):
    each node comes after every node whose output it reads."""
    return reverse_topological(out)[::-1]


def make_seed(root: Tensor, grad: Any) -> np.ndarray:
    """dL/dL: 1.0 for a one-entry output, else the given ``grad`` of the output's shape."""
    if not root.requires_grad:
        raise GraphStateError(
            f"backward: {describe(root)} does not require grad, so no graph was recorded for "
            "it (made from constants only, or inside tg.no_grad()?)"
        )
    data = root._data
    if grad is None:
        if data.size != 1:
            raise GraphStateError(
                f"backward: {describe(root)} has shape {root.shape}, not a scalar; pass the "
                "gradient of the output, e.g. out.backward(np.ones(out.shape)), or reduce it "
                "first with out.sum()"
            )
        return np.ones_like(data)
    try:
        seed = as_array(grad)
    except DTypeError as exc:
        reason = str(exc).removeprefix("Tensor: ")
        raise DTypeError(f"backward: the seed for {describe(root)}: {reason}") from None
    if data.dtype.kind == "f":
        seed = seed.astype(data.dtype, copy=False)
    if seed.shape != root.shape:
        raise ShapeError(
            f"backward: the seed has shape {seed.shape} but {describe(root)} has shape {root.shape}"
        )
    return seed


def run_backward(
    root: Tensor,
    seed: np.ndarray,
    *,
    retain_graph: bool = True,
    accumulate: bool = False,
    keep: Iterable[Tensor] = (),
    recorder: Recorder | None = None,
    nodes: list[Node] | None = None,
) -> tuple[dict[Tensor, np.ndarray], set[Tensor]]:
    """Propagate ``seed`` from ``root`` to every tensor it depends on.

    ``nodes`` is ``reverse_topological(root)`` when the caller has already computed it.
    ``accumulate=True`` is ``backward()``'s pass: it refuses nodes that an earlier such pass has
    consumed, and consumes them itself unless ``retain_graph``; the saved arrays stay. Any
    other pass only reads the graph, and drops the saved arrays when ``retain_graph`` is False.

    Returns the gradients of the leaves, of tensors marked ``retain_grad()`` and of ``keep``,
    and the set of those whose buffer the pass allocated itself (safe to hand out uncopied).
    A junction's sum is accumulated in place once the pass owns its buffer. The cyclic
    garbage collector is paused during the pass (see ``tinygraph.performance``).
    """
    with pause_gc():
        if nodes is None:
            nodes = reverse_topological(root)
        free = not (retain_graph or accumulate)  # backward() keeps the arrays for tg.grad & co
        grads, owned = _propagate(root, seed, nodes, free, accumulate, set(keep), recorder)
        if accumulate and not retain_graph:
            for node in nodes:  # only once the pass has succeeded
                node.consumed = True
        return grads, owned


class _Pass:
    """A backward pass in progress: the gradient sums so far (``grads``), the tensors whose
    buffer it made (``owned``: safe to add into), the tensors whose sums it keeps, its
    recorder, and whether anomaly checks are on."""

    __slots__ = ("anomaly", "grads", "keep", "owned", "recorder")

    def __init__(self, grads: dict[Tensor, np.ndarray], keep: set[Tensor],
                 recorder: Recorder | None) -> None:
        self.grads = grads
        self.owned: set[Tensor] = set()
        self.keep = keep
        self.recorder = recorder
        self.anomaly = STATE.detect_anomaly


_RUNNING: list[_Pass] = []  # the passes in progress, innermost last


def _propagate(
    root: Tensor,
    seed: np.ndarray,
    nodes: list[Node],
    free: bool,
    refuse_consumed: bool,
    keep: set[Tensor],
    recorder: Recorder | None,
) -> tuple[dict[Tensor, np.ndarray], set[Tensor]]:
    """One pass: the sweep of ``nodes`` from dL/droot = ``seed``, then the recorder's finish."""
    state = _Pass({root: seed}, keep, recorder)
    _RUNNING.append(state)
    try:
        _sweep(state, nodes, free, refuse_consumed)
    finally:
        _RUNNING.pop()
    if recorder is not None:
        recorder.finish(state.grads)
    return state.grads, state.owned


def continue_pass(root: Tensor, seed: np.ndarray, nodes: list[Node]) -> bool:
    """Back-propagate ``seed`` = dL/droot through ``nodes`` (newest first) inside the pass that
    is running, so every gradient they send is added onto the sums that pass holds, in the
    order the nodes come (``tg.checkpoint``: the recomputed segment continues the sums exactly
    where the plain graph's nodes would). ``root`` must be new to the pass. The nodes' saved
    arrays are dropped as they are passed, and nothing of them is kept once it returns.
    Returns False, doing nothing, when no pass runs.
    """
    if not _RUNNING:
        return False
    state = _RUNNING[-1]
    inner = _Pass(state.grads, state.keep, state.recorder)  # the same sums, its own buffers
    inner.anomaly = state.anomaly
    inner.grads[root] = seed
    _sweep(inner, nodes, True, False)
    # the buffers it made for the pass's tensors are the pass's; the segment's own tensors
    # are not kept (a set of them would hold every recomputed segment until the pass ends)
    state.owned.update(t for t in inner.owned if t in state.grads)
    return True


def _sweep(state: _Pass, nodes: list[Node], free: bool, refuse_consumed: bool) -> None:
    """The sweep: for each node, newest first, take the gradient of its output (final by now:
    every reader of the output was created later, so it already ran), call the op's backward,
    and add what it sends to each input into that input's junction sum."""
    grads, owned, keep, recorder, anomaly = (state.grads, state.owned, state.keep, state.recorder,
                                             state.anomaly)
    take, peek, ndarray = grads.pop, grads.get, np.ndarray  # local names: a lookup per edge saved
    written = bool(nodes) and versions.last_write > nodes[-1].id  # a write since the oldest node?
    for node in nodes:
        if node.freed or (refuse_consumed and node.consumed):
            raise _cannot_pass_through(node)
        out = node._output()
        kept = out._retain or (keep and out in keep)
        grad = peek(out) if kept else take(out, None)
        if grad is None:
            continue  # no gradient reaches this node's output
        if written:
            check_unchanged(node, out)
        if recorder is not None:
            recorder.before_node(node, out, grad)
        inputs = node.inputs
        try:
            sent = node.op.backward(grad)
        except (BackwardError, GraphStateError):
            raise
        except Exception as exc:
            add_note(exc, f"raised in the backward of {node.where()}")
            raise
        if type(sent) is not tuple or len(sent) != len(inputs):
            sent = normalise_sent(node, sent)
        for tensor, g in zip(inputs, sent):
            if g is None or not tensor.requires_grad:
                continue
            data = tensor._data
            if type(g) is not ndarray or g.shape != data.shape or g.dtype is not data.dtype:
                g = _fit(node, g, tensor)
            if anomaly:
                check_backward(node.where(), input_index(node, tensor), grad, densify(g))
            if recorder is not None:
                recorder.sent(node, tensor, densify(g))
            # The junction sum, inline for dense gradients (a call per edge costs ~4% at S1).
            previous = peek(tensor)
            if type(g) is not ndarray:
                _add_indexed(grads, owned, tensor, g)
            elif previous is None:
                grads[tensor] = g  # the first contribution, kept as it is
            elif tensor in owned:
                previous += g  # a buffer this pass made: add in place
            else:
                total = previous + g  # the second: a new buffer, which the pass owns from now on
                grads[tensor] = total if type(total) is ndarray else np.asarray(total)
                owned.add(tensor)
        if free:  # drop the op's saved arrays as soon as its backward has run
            node.free()


def _add_indexed(grads: dict[Tensor, np.ndarray], owned: set[Tensor], tensor: Tensor,
                 g: IndexedGrad) -> None:
    """Add a contribution that is zero outside an index (``x[:, t]``'s backward) into the
    gradient of ``tensor`` at that index, in a buffer the pass owns (made on first need)."""
    previous = grads.get(tensor)
    if previous is None or tensor not in owned:
        buffer = np.zeros(tensor.shape, dtype=tensor.dtype)
        if previous is not None:
            buffer += previous
        grads[tensor] = previous = buffer
        owned.add(tensor)
    g.add_into(previous)


def _cannot_pass_through(node: Node) -> GraphStateError:
    """Why no pass may go through ``node``: its arrays were freed, or backward() consumed it."""
    if node.freed:
        return GraphStateError(
            f"backward through {node.where()}: its saved arrays were freed by an earlier "
            "pass with retain_graph=False; run the forward pass again"
        )
    return GraphStateError(
        f"backward through {node.where()}: an earlier backward() already went through "
        "this node and added its gradients; pass retain_graph=True to that backward() "
        "to back-propagate through the graph again, or detach() a state carried over "
        "from an earlier chunk (truncated BPTT). tg.grad, tg.trace_backward and tg.draw "
        "can still read the graph"
    )


def normalise_sent(node: Node, sent: object) -> Sequence[np.ndarray | None]:
    """Accept a list or a bare array for a one-input op; name the op on anything else."""
    count = len(node.inputs)
    if isinstance(sent, np.ndarray) and count == 1:
        return (sent,)
    if isinstance(sent, (tuple, list)) and len(sent) == count:
        return tuple(sent)
    got = f"{len(sent)} gradients" if isinstance(sent, (tuple, list)) else type(sent).__name__
    raise BackwardError(
        f"backward of {node.where()} returned {got} for {count} input(s); return a tuple "
        "with one ndarray (or None) per input"
    )


def _fit(node: Node, grad: Any, tensor: Tensor) -> np.ndarray | IndexedGrad:
    """The gradient a backward returned for ``tensor``, in the tensor's shape and dtype.

    A list or a number becomes an ndarray; a broadcast gradient is summed back to shape (only
    over the axes the forward broadcast); a float gradient is cast to the tensor's float dtype
    (a float32 leaf gets a float32 gradient, as in PyTorch). An ``IndexedGrad`` is checked and
    passed on. Anything else is a BackwardError naming the op that got it wrong.
    """
    data = tensor._data
    if type(grad) is IndexedGrad:
        if grad.shape != data.shape:
            raise BackwardError(
                f"backward of {node.where()} returned an IndexedGrad of shape {grad.shape} for "
                f"{describe(tensor)}, which has shape {data.shape}"
            )
        if grad.values.dtype.kind not in NUMERIC_KINDS:
            _refuse_dtype(node, grad.values, tensor)
        return grad
    if type(grad) is not np.ndarray:
        array = np.asarray(grad)
        if array.dtype.kind not in NUMERIC_KINDS:
            what = "complex " if array.dtype.kind == "c" else ""
            raise BackwardError(
                f"backward of {node.where()} returned a {what}{type(grad).__name__} as the "
                f"gradient of {describe(tensor)}; return a real ndarray of shape "
                f"{data.shape} (or None)"
            )
        grad = array
    if grad.dtype is not data.dtype:
        if grad.dtype.kind not in NUMERIC_KINDS:
            _refuse_dtype(node, grad, tensor)
        grad = grad.astype(data.dtype)
    if grad.shape == data.shape:
        return grad
    if node.op.broadcasts:
        try:
            return sum_to(grad, data.shape)
        except ValueError:
            pass
    index = input_index(node, tensor)
    hint = ("; only axes that the forward broadcast may be summed" if node.op.broadcasts else "")
    raise BackwardError(
        f"backward of {node.where()} returned a gradient of shape {grad.shape} for input "
        f"{index} ({describe(tensor)}), which has shape {data.shape}{hint}"
    )


def input_index(node: Node, tensor: Tensor) -> int:
    """The position of ``tensor`` among ``node``'s inputs (by identity: never ``==``)."""
    return next(i for i, t in enumerate(node.inputs) if t is tensor)


def _refuse_dtype(node: Node, grad: np.ndarray, tensor: Tensor) -> None:
    index = input_index(node, tensor)
    raise BackwardError(
        f"backward of {node.where()} returned a gradient of dtype {grad.dtype} for input "
        f"{index} ({describe(tensor)}), which is {tensor.dtype}; gradients must be real"
    )


def check_unchanged(node: Node, out: Tensor) -> None:
    """Refuse to run ``node``'s backward when an array it saved was written in place after the
    node was recorded (see ``tinygraph.versions``): its gradient would use the new values."""
    op = node.op
    saved = op.inputs
    if saved is not None:
        for index, (tensor, array) in enumerate(zip(node.inputs, saved)):
            view = tensor._view
            if view is not None and view._stamp.last > node.id and tensor._data is array:
                raise _changed_in_place(node, tensor, f"input {index}")
    view = out._view
    if (op.saves_output and view is not None and view._stamp.last > node.id
            and out._data is op.output):
        raise _changed_in_place(node, out, "output")


def _changed_in_place(node: Node, tensor: Tensor, role: str) -> GraphStateError:
    return GraphStateError(
        f"backward through {node.where()}: its {role} ({describe(tensor, with_shape=True)}) "
        "was changed in place after the forward pass used it, so its gradient "
        "would use the new values. Change .data only after backward(), rebind it instead of "
        "writing into it (x.data = x.data + 1, not x.data += 1), or run the forward pass again"
    )


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False) -> None:
    """Fill ``.grad`` of every requires-grad leaf that ``root`` depends on: ``.grad += dL/dleaf``.

    ``grad`` seeds dL/droot (1.0 by default for a one-entry ``root``). Gradients accumulate
    across calls, as in PyTorch; reset with ``zero_grad()`` or ``tensor.grad = None``.

    As in PyTorch, a second ``backward()`` through the same nodes is refused (it would add the
    same gradients again) unless the first one passed ``retain_graph=True``. Unlike PyTorch,
    the saved arrays stay, so ``tg.grad``, ``tg.trace_backward``, ``tg.draw(view="backward")``
    and ``tg.gradcheck_nodes`` can still read the graph; it is freed with the last reference
    to its output (most saved arrays are the tensors' own data, so keeping them costs little).
    """
    seed = make_seed(root, grad)
    grads, owned = run_backward(root, seed, retain_graph=retain_graph, accumulate=True)
    for tensor, g in grads.items():
        if tensor.producer is not None and not tensor._retain:
            continue
        if tensor.grad is None:
            tensor.grad = g if tensor in owned else np.array(g)
        else:
            tensor.grad = tensor.grad + g


def grad(
    output: Tensor,
    inputs: Sequence[Tensor],
    grad_output: Any = None,
    retain_graph: bool = True,
) -> list[np.ndarray]:
    """d output / d input for each input, as new arrays; no ``.grad`` is touched.

    An input that ``output`` does not depend on gets zeros (as in JAX). It only reads the graph:
    it works after ``backward()`` and can be repeated. ``retain_graph=False`` drops the saved
    arrays afterwards, after which no pass can go through the graph.
    """
    inputs = list(inputs)
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor):
            raise GraphStateError(f"grad: input {i} is a {type(tensor).__name__}, not a Tensor")
        if not tensor.requires_grad:
            raise GraphStateError(f"grad: input {i} ({describe(tensor)}) does not require grad")
    seed = make_seed(output, grad_output)
    if not inputs:
        return []
    grads, owned = run_backward(output, seed, retain_graph=retain_graph, keep=inputs)
    result = []
    given: set[int] = set()
    for tensor in inputs:
        g = grads.get(tensor)
        if g is None:
            result.append(np.zeros_like(tensor._data))
        else:
            shared = tensor not in owned or id(tensor) in given  # never hand out one buffer twice
            result.append(np.array(g) if shared else g)
            given.add(id(tensor))
    return result


def nodes_made_after(roots: Iterable[Tensor], start: int = -1) -> list[Node]:
    """Every node made after clock value ``start`` (-1: every node) that one of ``roots``
    depends on, newest first (the backward's walk; ``tg.compile``'s plan and
    ``tg.checkpoint``'s segment use several roots and a cut-off in time); an explicit stack, no
    recursion."""
    seen: set[Node] = set()
    stack = []
    for root in roots:
        node = root.producer
        if node is not None and node.id > start and node not in seen:
            seen.add(node)
            stack.append(node)
    nodes = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        for tensor in node.inputs:
            parent = tensor.producer
            if parent is not None and parent.id > start and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    nodes.sort(key=_BY_ID, reverse=True)
    return nodes
