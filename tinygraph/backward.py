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

from tinygraph.anomaly import check_backward
from tinygraph.broadcast import sum_to
from tinygraph.gc_pause import pause_gc
from tinygraph.errors import BackwardError, GraphStateError, ShapeError, add_note
from tinygraph.indexed_grad import IndexedGrad
from tinygraph.node import Node
from tinygraph.scope import STATE
from tinygraph.tensor import NUMERIC_KINDS, Tensor, as_array

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
    start = root.producer
    if start is None:
        return []
    seen = {start}
    stack = [start]
    nodes = []
    while stack:
        node = stack.pop()
        nodes.append(node)
        for tensor in node.inputs:
            parent = tensor.producer
            if parent is not None and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    nodes.sort(key=_BY_ID, reverse=True)
    return nodes


def make_seed(root: Tensor, grad: Any) -> np.ndarray:
    """dL/dL: 1.0 for a one-entry output, else the given ``grad`` of the output's shape."""
    if not root.requires_grad:
        raise GraphStateError(
            f"backward: {_describe(root)} does not require grad, so no graph was recorded for "
            "it (made from constants only, or inside tg.no_grad()?)"
        )
    if grad is None:
        if root.data.size != 1:
            raise GraphStateError(
                f"backward: {_describe(root)} has shape {root.shape}, not a scalar; pass the "
                "gradient of the output, e.g. out.backward(np.ones(out.shape)), or reduce it "
                "first with out.sum()"
            )
        return np.ones_like(root.data)
    seed = as_array(grad)
    if seed.dtype.kind in "fiub" and root.data.dtype.kind == "f":
        seed = seed.astype(root.data.dtype, copy=False)
    if seed.shape != root.shape:
        raise ShapeError(
            f"backward: the seed has shape {seed.shape} but {_describe(root)} has shape {root.shape}"
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
    garbage collector is paused during the pass (see ``tinygraph.gc_pause``).
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


def _propagate(
    root: Tensor,
    seed: np.ndarray,
    nodes: list[Node],
    free: bool,
    refuse_consumed: bool,
    keep: set[Tensor],
    recorder: Recorder | None,
) -> tuple[dict[Tensor, np.ndarray], set[Tensor]]:
    grads: dict[Tensor, np.ndarray] = {root: seed}
    owned: set[Tensor] = set()
    take, peek, ndarray = grads.pop, grads.get, np.ndarray
    anomaly = STATE.detect_anomaly
    for node in nodes:
        if node.freed:
            raise GraphStateError(
                f"backward through {node.where()}: its saved arrays were freed by an earlier "
                "pass with retain_graph=False; run the forward pass again"
            )
        if refuse_consumed and node.consumed:
            raise GraphStateError(
                f"backward through {node.where()}: an earlier backward() already went through "
                "this node and added its gradients; pass retain_graph=True to that backward() "
                "to back-propagate through the graph again, or detach() a state carried over "
                "from an earlier chunk (truncated BPTT). tg.grad, tg.trace_backward and tg.draw "
                "can still read the graph"
            )
        out = node._output()
        grad = take(out, None) if not (out._retain or (keep and out in keep)) else peek(out)
        if grad is None:
            continue
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
            if type(g) is not ndarray:
                if type(g) is IndexedGrad:
                    _add_indexed(node, g, tensor, grads, owned, recorder, anomaly, grad)
                    continue
                g = _as_gradient(node, g, tensor)
            if g.shape != tensor.data.shape:
                g = _fit(node, g, tensor)
            if anomaly:
                check_backward(node.where(), node.inputs.index(tensor), grad, g)
            if recorder is not None:
                recorder.sent(node, tensor, g)
            previous = peek(tensor)
            if previous is None:
                grads[tensor] = g
            elif tensor in owned:
                previous += g  # in place: the pass owns this buffer
            else:
                total = previous + g  # a new buffer: the pass owns it from now on
                grads[tensor] = total if type(total) is ndarray else np.asarray(total)
                owned.add(tensor)
        if free:  # drop the op's saved arrays as soon as its backward has run
            node.free()
    if recorder is not None:
        recorder.finish(grads)
    return grads, owned


def _as_gradient(node: Node, g: object, tensor: Tensor) -> np.ndarray:
    """A gradient returned as a list or a number, as an ndarray; anything else names the op."""
    array = np.asarray(g)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise BackwardError(
            f"backward of {node.where()} returned a {type(g).__name__} as the gradient of "
            f"{_describe(tensor)}; return an ndarray of shape {tensor.data.shape} (or None)"
        )
    return array


def _add_indexed(
    node: Node,
    g: IndexedGrad,
    tensor: Tensor,
    grads: dict[Tensor, np.ndarray],
    owned: set[Tensor],
    recorder: Recorder | None,
    anomaly: bool,
    received: np.ndarray,
) -> None:
    """Add a gradient that is zero outside an index into the tensor's buffer, in place."""
    if g.shape != tensor.data.shape:
        raise BackwardError(
            f"backward of {node.where()} returned an IndexedGrad of shape {g.shape} for "
            f"{_describe(tensor)}, which has shape {tensor.data.shape}"
        )
    if anomaly:
        check_backward(node.where(), node.inputs.index(tensor), received, g.values)
    if recorder is not None:
        recorder.sent(node, tensor, g.dense())
    buffer = grads.get(tensor)
    if buffer is None or tensor not in owned:
        fresh = np.zeros(tensor.data.shape, dtype=np.result_type(tensor.data, g.values))
        if buffer is not None:
            fresh += buffer
        grads[tensor] = buffer = fresh
        owned.add(tensor)
    g.add_into(buffer)


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


def _fit(node: Node, grad: np.ndarray, tensor: Tensor) -> np.ndarray:
    """Sum a broadcast gradient back to the input's shape, or name the op that got it wrong."""
    if node.op.broadcasts:
        try:
            return sum_to(grad, tensor.data.shape)
        except ValueError:
            pass
    index = next(i for i, t in enumerate(node.inputs) if t is tensor)
    raise BackwardError(
        f"backward of {node.where()} returned a gradient of shape {grad.shape} for input "
        f"{index} ({_describe(tensor)}), which has shape {tensor.data.shape}"
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
            raise GraphStateError(f"grad: input {i} ({_describe(tensor)}) does not require grad")
    seed = make_seed(output, grad_output)
    if not inputs:
        return []
    grads, owned = run_backward(output, seed, retain_graph=retain_graph, keep=inputs)
    result = []
    given: set[int] = set()
    for tensor in inputs:
        g = grads.get(tensor)
        if g is None:
            result.append(np.zeros_like(tensor.data))
        else:
            shared = tensor not in owned or id(tensor) in given  # never hand out one buffer twice
            result.append(np.array(g) if shared else g)
            given.add(id(tensor))
    return result


def _describe(tensor: Tensor) -> str:
    if tensor.name:
        return f"tensor {tensor.name!r}"
    if tensor.producer is not None:
        return f"the output of {tensor.producer.where()}"
    return f"a tensor of shape {tensor.shape}"
