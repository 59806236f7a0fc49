"""``gradcheck_nodes``: check every node of a built graph on its own, and name the first bad one.

For a node y = op(x_1, ..., x_n) and a random upstream gradient g of y's shape, the op's
backward must return the vector-Jacobian products

    dx_i = gᵀ ∂y/∂x_i,   entry j:  ⟨g, (op(.., x_i + h e_j, ..) − op(.., x_i − h e_j, ..))⟩ / 2h.

Only the node's own forward is re-run, on float64 copies of the arrays it saved, so a wrong
backward is pinned to one op application: "tanh (t=3, layer=1)", not "the loss".
The walk is iterative and in creation order, so a 100,000-step graph is fine (full mode costs
2 forwards per input entry of each node; directional mode 2k per input).

Mode "jvp-vjp" needs no finite differences: for random u (y's shape) and directions v, the
forward rule and the backward rule of one node must satisfy the dot-product test

    ⟨u, J_i v⟩ (op.jvp) = ⟨J_iᵀ u, v⟩ (op.backward),   exact up to rounding,

so a wrong jvp or a wrong backward is named with its op and scope. When the two disagree, a
central difference of the node's forward along v says which of them is the odd one out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from tinygraph.broadcast import sum_to
from tinygraph.backward import graph_nodes, normalise_sent
from tinygraph.indexed_grad import densify
from tinygraph.errors import DTypeError, GraphStateError, add_note
from tinygraph.forward import node_jvp
from tinygraph.check.compare import Comparison, compare, compare_directional, raise_if_failed
from tinygraph.check.report import NodeCheckReport, NodeComparison
from tinygraph.node import Node, Op
from tinygraph.check.numerical import check_settings, directional_derivative, gradient_of_entries
from tinygraph.tensor import Tensor

MODES = ("full", "directional", "jvp-vjp")


def gradcheck_nodes(
    loss: Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    mode: str = "full",
    raise_on_fail: bool = False,
    *,
    directions: int = 3,
    seed: int = 0,
) -> NodeCheckReport:
    """Check each node's backward against numerical derivatives of that node's forward alone.

    For node y = op(x_1..x_n), upstream gradient g ~ N(0, 1) of y's shape (seeded, drawn in
    creation order) and every float input that requires grad, compare op.backward(g)[i]
    (summed back to x_i's shape when the op broadcasts) with the numerical VJP
    Σ_k g_k ∂y_k/∂x_i by central differences (``mode="full"``, every entry) or its projection
    on ``directions`` random directions (``mode="directional"``); or, with ``mode="jvp-vjp"``,
    compare ⟨op.backward(g)[i], v⟩ with ⟨g, op.jvp(v at input i)⟩ for ``directions`` random v
    (the dot-product test: it checks backward against jvp, needs no finite differences, and
    on a failure a central difference names the odd one out). Integer inputs (class
    targets) are skipped. Nothing in the graph changes: each op gets its saved state back, and
    ``loss.backward()`` still works afterwards.

    Args:
        loss: a tensor whose graph's saved arrays are still there (it may have been through
            ``backward()``; not through ``tg.grad(..., retain_graph=False)``).
        eps, atol, rtol: as in ``gradcheck``.
        mode: ``"full"``, ``"directional"`` or ``"jvp-vjp"``.
        raise_on_fail: raise ``NumericsError`` with the report's table when a node fails.
        directions: k per input in directional mode.
        seed: seeds the upstream gradients and directions.

    Returns:
        A :class:`NodeCheckReport`: ``.ok``, ``.first_failing_node``, ``print(report)``.
    """
    if not isinstance(loss, Tensor):
        raise DTypeError(f"gradcheck_nodes: loss must be a tg.Tensor, got {type(loss).__name__}")
    check_settings("gradcheck_nodes", eps, atol, rtol, mode, directions, MODES)
    nodes = graph_nodes(loss)
    if not nodes:
        raise GraphStateError(
            "gradcheck_nodes: loss has no producer, so there is no graph to check (is it a "
            "leaf, or was it computed under tg.no_grad()?)"
        )
    for node in nodes:
        if node.freed:
            raise GraphStateError(
                f"gradcheck_nodes: the saved arrays of {node.where()} were freed by an earlier "
                "pass with retain_graph=False; run the forward pass again"
            )
    rng = np.random.default_rng(seed)
    rows: list[NodeComparison] = []
    for node in nodes:
        rows.extend(_check_node(node, rng, eps, atol, rtol, mode, directions))
    report = NodeCheckReport(tuple(rows), len(nodes), mode, eps, atol, rtol)
    if raise_on_fail:
        raise_if_failed(report)
    return report


def _check_node(node: Node, rng: np.random.Generator, eps: float, atol: float, rtol: float,
                mode: str, directions: int) -> list[NodeComparison]:
    op = node.op
    saved_state = op.state()
    arrays = [np.array(t._data, dtype=np.float64) if t.dtype.kind == "f" else t._data
              for t in node.inputs]
    checked = [i for i, (t, a) in enumerate(zip(node.inputs, arrays))
               if t.requires_grad and a.dtype.kind == "f"]
    try:
        output = _forward(op, arrays)
        g = rng.standard_normal(output.shape)
        op.inputs, op.output = tuple(arrays), output
        sent = _backward(node, g, len(arrays))

        def value() -> float:
            return float(np.vdot(g, _forward(op, arrays)))

        rows = []
        for i in checked:
            if mode == "jvp-vjp":
                comparison = _check_dot_product(node, i, sent[i], arrays, g, value, rng, eps,
                                                atol, rtol, directions)
            else:
                comparison = _check_input(node, i, sent[i], arrays, value, rng, eps, atol, rtol,
                                          mode, directions)
            rows.append(NodeComparison(node, i, comparison))
        return rows
    except Exception as exc:
        add_note(exc, f"gradcheck_nodes: raised while checking {node.where()}")
        raise
    finally:
        for key in set(op.state()) - set(saved_state):
            delattr(op, key)
        op.restore(saved_state)


def _label(node: Node, i: int) -> str:
    tensor = node.inputs[i]
    return f"{i} {tensor.name}" if tensor.name else str(i)


def _dense(node: Node, i: int, analytic: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """The gradient backward sent to input i, in float64 and summed back to its shape."""
    if analytic is None:
        return np.zeros(shape)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != shape and node.op.broadcasts:
        try:
            return sum_to(analytic, shape)
        except ValueError:
            pass
    return analytic


def _wrong_shape(label: str, shape: tuple[int, ...], got: tuple[int, ...]) -> Comparison:
    nan = float("nan")
    return Comparison(label, shape, nan, nan, None, nan, nan, False, f"backward gave shape {got}")


def _check_input(node: Node, i: int, analytic: np.ndarray | None, arrays: list[np.ndarray],
                 value: Any, rng: np.random.Generator, eps: float, atol: float, rtol: float,
                 mode: str, directions: int) -> Comparison:
    label = _label(node, i)
    shape = arrays[i].shape
    analytic = _dense(node, i, analytic, shape)
    if analytic.shape != shape:
        return _wrong_shape(label, shape, analytic.shape)
    if mode == "full":
        numerical = gradient_of_entries(value, arrays[i], eps)
        return compare(label, shape, analytic, numerical, atol, rtol)
    vs = [rng.standard_normal(shape) for _ in range(directions)]
    return compare_directional(label, shape, analytic,
                               lambda v: directional_derivative(value, [arrays[i]], [v], eps),
                               vs, atol, rtol)


def _check_dot_product(node: Node, i: int, analytic: np.ndarray | None, arrays: list[np.ndarray],
                       g: np.ndarray, value: Any, rng: np.random.Generator, eps: float,
                       atol: float, rtol: float, directions: int) -> Comparison:
    """⟨J_iᵀ g, v⟩ from backward against ⟨g, J_i v⟩ from jvp, for ``directions`` random v."""
    label = _label(node, i)
    shape = arrays[i].shape
    vs = rng.standard_normal((directions, *shape))
    tangents: list[np.ndarray | None] = [None] * len(arrays)
    tangents[i] = vs
    moved = node_jvp(node, tuple(tangents))
    forward = np.array([np.vdot(g, y) for y in np.asarray(moved, dtype=np.float64)])
    analytic = _dense(node, i, analytic, shape)
    if analytic.shape != shape:
        return _wrong_shape(label, shape, analytic.shape)
    reverse = np.array([np.vdot(analytic, v) for v in vs])
    comparison = compare(label, shape, reverse, forward, atol, rtol, by_direction=True)
    if comparison.ok or comparison.note:
        return comparison
    numerical = np.array([directional_derivative(value, [arrays[i]], [v], eps) for v in vs])
    odd = "jvp" if np.abs(forward - numerical).max() > np.abs(reverse - numerical).max() else "backward"
    return replace(comparison, note=f"{odd} disagrees with a central difference")


def _forward(op: Op, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Run the op's forward as the engine does: ``op.inputs`` set first."""
    op.inputs = tuple(arrays)
    return np.asarray(op.forward(*arrays), dtype=np.float64)


def _backward(node: Node, g: np.ndarray, count: int) -> list[np.ndarray | None]:
    """The op's backward as the engine reads it: one dense gradient (or None) per input."""
    sent = node.op.backward(g)
    if type(sent) is not tuple or len(sent) != count:
        sent = normalise_sent(node, sent)
    return [densify(s) for s in sent]
