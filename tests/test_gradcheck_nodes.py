"""tg.gradcheck_nodes: each node checked on its own; a planted wrong op is named with its scope."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from planted_ops import PlantedTanh
from tinygraph.check.nodes import graph_nodes
from tinygraph.ops.softmax import CrossEntropy


def unrolled_loss(planted_at: int | None, steps: int = 5) -> tuple[tg.Tensor, list[tg.Tensor]]:
    """A two-layer tanh recurrence over ``steps`` steps; the planted op replaces one tanh."""
    rng = np.random.default_rng(0)
    W_xh = tg.Tensor(rng.standard_normal((3, 4)) * 0.5, requires_grad=True, name="W_xh")
    W_hh = tg.Tensor(rng.standard_normal((4, 4)) * 0.5, requires_grad=True, name="W_hh")
    b = tg.Tensor(np.zeros(4), requires_grad=True, name="b")
    xs = rng.standard_normal((steps, 2, 3))
    h = [tg.Tensor(np.zeros((2, 4))), tg.Tensor(np.zeros((2, 4)))]
    for t in range(steps):
        inp: tg.Tensor = tg.Tensor(xs[t])
        for layer in range(2):
            with tg.scope(t=t, layer=layer):
                pre = (inp @ W_xh if layer == 0 else inp @ W_hh) + h[layer] @ W_hh + b
                planted = (t, layer) == (planted_at, 1)
                h[layer] = PlantedTanh()(pre) if planted else tg.tanh(pre)
            inp = h[layer]
    return (h[1] * h[1]).sum(), [W_xh, W_hh, b]


def test_planted_op_is_the_first_failing_node_with_its_scope() -> None:
    loss, _ = unrolled_loss(planted_at=3)
    for mode in ("full", "directional"):
        report = tg.gradcheck_nodes(loss, mode=mode)
        assert not report.ok
        assert report.first_failing_node.where() == "planted_tanh (t=3, layer=1)"
        assert [row.where for row in report.failures] == ["planted_tanh (t=3, layer=1)"]
        text = str(report)
        assert "first disagreeing node: planted_tanh (t=3, layer=1)" in text
    full = tg.gradcheck_nodes(loss)
    (row,) = full.failures
    assert row.comparison.worst_index == (0, 1)
    assert row.comparison.max_abs_error == pytest.approx(1e-2, rel=1e-6)


def test_correct_graph_passes_and_survives_the_check() -> None:
    loss, params = unrolled_loss(planted_at=None)
    before = tg.grad(loss, params, retain_graph=True)
    report = tg.gradcheck_nodes(loss)
    assert report.ok and report.first_failing_node is None
    assert report.nodes_checked == len(graph_nodes(loss))
    # 5 steps × 2 layers × (2 matmul, 2 add, 1 tanh) + mul + sum
    assert report.nodes_checked == 5 * 2 * 5 + 2
    after = tg.grad(loss, params)
    for a, b in zip(before, after):
        assert np.array_equal(a, b)


def test_op_state_restored_including_attributes_a_forward_sets() -> None:
    logits = tg.Tensor(np.random.default_rng(2).standard_normal((3, 5)), requires_grad=True)
    targets = np.array([0, 4, 2])
    loss = tg.cross_entropy(logits, targets, reduction="mean")
    op = loss.producer.op
    assert isinstance(op, CrossEntropy)
    state = op.state()
    report = tg.gradcheck_nodes(loss)
    assert report.ok
    assert [row.input_index for row in report.rows] == [0]  # integer targets skipped
    assert op.state().keys() == state.keys()
    assert all(op.state()[key] is value for key, value in state.items())


def test_broadcasting_reduction_applied_before_comparing() -> None:
    rng = np.random.default_rng(3)
    a = tg.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    b = tg.Tensor(rng.standard_normal((3, 1)), requires_grad=True)
    loss = (a * b + b).sum()
    report = tg.gradcheck_nodes(loss)
    assert report.ok
    assert {row.comparison.shape for row in report.rows} == {(2, 3, 4), (3, 1)}


def test_freed_graph_is_a_clear_error() -> None:
    loss, _ = unrolled_loss(planted_at=None, steps=1)
    loss.backward()
    assert tg.gradcheck_nodes(loss).ok  # backward() leaves the graph readable
    tg.grad(loss, [p for p in loss.producer.inputs if p.requires_grad], retain_graph=False)
    with pytest.raises(tg.GraphStateError, match=r"saved arrays of .* were freed"):
        tg.gradcheck_nodes(loss)


def test_wrong_gradient_shape_is_a_failing_row() -> None:
    class SumRows(tg.Op):
        name = "sum_rows"

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x.sum(axis=1)

        def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad,)  # forgot to broadcast back to (2, 3)

    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    with tg.scope(t=0):
        y = SumRows()(x)
    report = tg.gradcheck_nodes(y.sum())
    assert report.first_failing_node.where() == "sum_rows (t=0)"
    assert report.first_failure.comparison.verdict == "FAIL (backward gave shape (2,))"


def test_long_chain_is_walked_without_recursion() -> None:
    x = tg.Tensor(np.array([0.3]), requires_grad=True)
    h = x
    for t in range(3000):
        with tg.scope(t=t):
            h = tg.tanh(h * 0.9 + 0.1)
    report = tg.gradcheck_nodes(h.sum(), mode="directional", directions=1)
    assert report.ok and report.nodes_checked == 3 * 3000 + 1


def test_errors() -> None:
    with pytest.raises(tg.DTypeError, match=r"loss must be a tg\.Tensor"):
        tg.gradcheck_nodes(np.ones(2))
    with pytest.raises(tg.GraphStateError, match="no producer"):
        tg.gradcheck_nodes(tg.Tensor(np.ones(2), requires_grad=True))
    loss, _ = unrolled_loss(planted_at=3, steps=4)
    with pytest.raises(tg.NumericsError, match="planted_tanh \\(t=3, layer=1\\)"):
        tg.gradcheck_nodes(loss, raise_on_fail=True)
