"""Forward mode: tangents carried from the inputs to the output, one op at a time (``tg.jvp``).

Reverse mode (``backward``) sends dL/dy from the output back to every input: one pass gives
a whole gradient, a row of the Jacobian. Forward mode sends a direction the other way: given
how the inputs move, ẋ = v, it computes how every tensor moves, and at the end
ẏ = J v, a column of the Jacobian (a Jacobian-vector product, "jvp").

How ``tg.jvp`` does it:

1. Record f's graph once, as for reverse mode, from fresh leaves that share the inputs' data.
2. Walk the nodes in creation order (``node.id`` is a topological order: an op's inputs exist
   before it; no recursion, so a 100,000-step chain is fine). At each node whose inputs move,
   call the op's rule ``jvp(*input_tangents) -> output_tangent``; it reads the state its
   ``backward`` reads (inputs, output, saved attributes). A tensor read by several nodes (a
   junction) simply hands the same tangent to each: forward mode's junctions copy where
   reverse mode's sum.
3. Drop each tangent after its last reader, and the graph when ``jvp`` returns.

Tangents are batched: a leading axis of K directions, so K columns of the Jacobian cost one
walk (``tg.jacobian(mode="forward")`` uses K = x.size). A tangent of None means "does not
move" (a constant, an integer target, a parameter that is not an input): no work is done for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygraph.backward import check_unchanged, graph_nodes
from tinygraph.errors import DTypeError, ForwardModeError, GraphStateError, ShapeError, add_note
from tinygraph.node import Node, Op
from tinygraph.scope import enable_grad
from tinygraph.tensor import NUMERIC_KINDS, Tensor, as_array


def propagate_tangents(root: Tensor, seeds: dict[Tensor, np.ndarray]) -> np.ndarray | None:
    """ẏ for ``root`` given the tangents ``seeds`` (K, *shape) of some tensors of its graph.

    Every other tensor without a producer (constants, parameters that are not seeded) stays
    put. Returns None when ``root`` does not move (it does not depend on any seeded tensor).
    """
    if root in seeds:
        return seeds[root]
    nodes = graph_nodes(root)
    uses = _readers(nodes)
    tangents: dict[Tensor, np.ndarray] = dict(seeds)
    for node in nodes:
        inputs = node.inputs
        given = tuple([tangents.get(t) for t in inputs])
        for tensor in inputs:  # forget a tangent once its last reader has it
            uses[tensor] -= 1
            if uses[tensor] == 0 and tensor not in seeds:
                tangents.pop(tensor, None)
        if all(t is None for t in given):
            continue
        tangents[node._output()] = node_jvp(node, given)
    return tangents.get(root)


def _readers(nodes: list[Node]) -> dict[Tensor, int]:
    """How many input slots of ``nodes`` read each tensor."""
    uses: dict[Tensor, int] = {}
    for node in nodes:
        for tensor in node.inputs:
            uses[tensor] = uses.get(tensor, 0) + 1
    return uses


def node_jvp(node: Node, given: tuple[np.ndarray | None, ...]) -> np.ndarray:
    """ẏ of one node from its inputs' tangents (some not None): the op's rule, run with its
    input arrays at hand, its result checked against (K, *y.shape)."""
    op = node.op
    out = node._output()
    if type(op).jvp is Op.jvp:
        raise ForwardModeError(
            f"forward mode through {node.where()}: {type(op).__name__} has no jvp rule; define "
            f"jvp(self, *tangents) beside its backward (ẏ = Σ_i ∂y/∂x_i · ẋ_i, tangents with a "
            "leading axis of K directions), or use reverse mode (tg.grad)"
        )
    if node.freed:
        raise GraphStateError(
            f"forward mode through {node.where()}: its saved arrays were freed by an earlier "
            "pass with retain_graph=False; run the forward pass again"
        )
    check_unchanged(node, out)
    restore = op.inputs is None  # an op that keeps no inputs gets them back for its rule
    if restore:
        op.inputs = tuple([t._data for t in node.inputs])
    try:
        y_dot = op.jvp(*given)
    except (ForwardModeError, GraphStateError):
        raise
    except Exception as exc:
        add_note(exc, f"raised in the jvp of {node.where()}")
        raise
    finally:
        if restore:
            op.inputs = None
    count = next(t for t in given if t is not None).shape[0]
    return _fit(node, y_dot, (count, *out.shape))


def _fit(node: Node, y_dot: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The rule's result as an array of ``shape`` (K, *y.shape): broadcast up when it is
    smaller (``x + c`` with only c constant), else an error naming the op."""
    if type(y_dot) is not np.ndarray and y_dot is not None:
        y_dot = np.asarray(y_dot)
    if y_dot is None or y_dot.dtype.kind not in NUMERIC_KINDS:
        got = "None" if y_dot is None else f"dtype {y_dot.dtype}"
        raise ForwardModeError(
            f"jvp of {node.where()} returned {got}; return a real ndarray of shape {shape} "
            "(K directions, then the output's shape)"
        )
    if y_dot.shape == shape:
        return y_dot
    try:
        return np.broadcast_to(y_dot, shape).copy()
    except ValueError:
        raise ForwardModeError(
            f"jvp of {node.where()} returned a tangent of shape {y_dot.shape}, but its output "
            f"has shape {shape[1:]}, so {shape} was expected (K = {shape[0]} directions first)"
        ) from None


def jvp(
    f: Callable[..., Tensor],
    inputs: Any,
    tangents: Any,
    *,
    batched: bool = False,
) -> tuple[Tensor, np.ndarray]:
    """Forward mode: f's value and its directional derivative ẏ = J v, J = ∂f/∂x at ``inputs``.

    Args:
        f: a function of the inputs, called ``f(*inputs)``, built from tg ops; it returns a
            Tensor of any shape (as ``jax.jvp`` and ``torch.func.jvp``).
        inputs: a list (or tuple) of the points x_i (Tensors, arrays or numbers); one Tensor or
            ndarray alone is one input. f receives new leaves holding the same data.
        tangents: one direction v_i per input, shaped like it (None: that input does not move).
        batched: with True, every tangent has a leading axis of K directions, (K, *x_i.shape),
            and so does the result, (K, *y.shape): K Jacobian-vector products in one pass.

    Returns:
        ``(output, output_tangent)``: f's result as a Tensor without a graph, and
        ẏ = Σ_i ∂y/∂x_i · v_i as an ndarray of y's shape ((K, *y.shape) when batched).

    f's graph is recorded once and walked in creation order with each op's ``jvp`` rule (see
    the module docstring); an op without one raises ForwardModeError naming it and its scope.
    The graph is gone when jvp returns, but while it runs it is held as for reverse mode.
    """
    single = isinstance(inputs, (Tensor, np.ndarray))
    points = [inputs] if single else _as_list(inputs, "inputs")
    directions = [tangents] if single else _as_list(tangents, "tangents")
    if len(directions) != len(points):
        raise ShapeError(f"jvp: {len(points)} input(s) but {len(directions)} tangent(s); give "
                         "one tangent per input (None for one that does not move)")
    leaves = [leaf_of(x, "jvp", i) for i, x in enumerate(points)]
    seeds = {leaf: _tangent(v, leaf, i, batched) for i, (leaf, v) in enumerate(zip(leaves, directions))
             if v is not None}
    counts = {t.shape[0] for t in seeds.values()}
    if len(counts) > 1:
        raise ShapeError(f"jvp: the batched tangents have different numbers of directions "
                         f"{sorted(counts)}; give every tangent the same K")
    if batched and not counts:
        raise ShapeError("jvp: every tangent is None, so the number of directions K is unknown")
    with enable_grad():
        out = f(*leaves)
    check_output(out, "jvp")
    y_dot = propagate_tangents(out, seeds) if seeds else None
    if y_dot is None:
        y_dot = np.zeros((counts.pop() if counts else 1, *out.shape), dtype=_float(out.dtype))
    value = out.detach()
    return value, (y_dot if batched else y_dot[0])


def check_output(out: Any, who: str) -> None:
    """f's result must be a Tensor: a numpy array made from ``.data`` is outside the graph."""
    if not isinstance(out, Tensor):
        got = ("numpy array (not part of the graph: use tg ops)" if isinstance(out, np.ndarray)
               else type(out).__name__)
        raise DTypeError(f"{who}: f must return a tg.Tensor, got a {got}")


def _as_list(values: Any, what: str) -> list[Any]:
    if not isinstance(values, (list, tuple)):
        raise DTypeError(f"jvp: {what} must be a list or tuple (one entry per input), or one "
                         f"Tensor or ndarray, got a {type(values).__name__}")
    return list(values)


def leaf_of(x: Any, who: str, i: int) -> Tensor:
    """A new float leaf that records, for ``f`` to be called on: a Tensor's data shared (and
    its name kept), anything else converted as ``tg.Tensor`` does."""
    if isinstance(x, Tensor):
        leaf = x.detach()
    else:
        try:
            leaf = Tensor._from_op(as_array(x), False)
        except DTypeError as exc:
            raise DTypeError(f"{who}: input {i}: {str(exc).removeprefix('Tensor: ')}") from None
    if leaf.dtype.kind != "f":
        where = f"input {i}" + (f" ({x.name!r})" if isinstance(x, Tensor) and x.name else "")
        raise DTypeError(f"{who}: {where} has dtype {leaf.dtype}; differentiating needs a float "
                         "input (convert with .astype(np.float64))")
    leaf.requires_grad = True
    return leaf


def _tangent(v: Any, leaf: Tensor, i: int, batched: bool) -> np.ndarray:
    """A direction as an array (K, *x.shape) of x's float dtype."""
    try:
        array = as_array(v)
    except DTypeError as exc:
        raise DTypeError(f"jvp: tangent {i}: {str(exc).removeprefix('Tensor: ')}") from None
    expected = ("K", *leaf.shape) if batched else leaf.shape
    fits = (array.ndim >= 1 and array.shape[1:] == leaf.shape) if batched else array.shape == leaf.shape
    if not fits or (batched and array.shape[0] == 0):
        hint = ("" if batched or array.shape[1:] != leaf.shape
                else "; for K directions at once pass batched=True")
        raise ShapeError(f"jvp: tangent {i} has shape {array.shape} but input {i} has shape "
                         f"{leaf.shape}, so {_shape_text(expected)} was expected{hint}")
    array = array.astype(leaf.dtype, copy=False)
    return array if batched else array[None]


def _shape_text(shape: Sequence[Any]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _float(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.kind == "f" else np.dtype(np.float64)
