"""Backward semantics: seeds, accumulation, freed graphs, tg.grad, detach, no_grad, fan-out."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.scope import format_scope, scoped_range


def test_fan_out_x_times_x_plus_x():
    x = tg.Tensor(3.0, requires_grad=True)
    (x * x + x).backward()
    assert x.grad == pytest.approx(2 * 3.0 + 1)


def test_a_tensor_read_by_three_nodes_sums_three_contributions():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = tg.tanh(x) + x * 3.0 + tg.exp(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, (1 - np.tanh([1.0, 2.0]) ** 2) + 3.0 + np.exp([1.0, 2.0]))


def test_grad_accumulates_across_calls_and_resets():
    w = tg.Tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, 2 * (2 * w.data))
    w.zero_grad()
    assert w.grad is None
    (w * 5.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [5.0, 5.0])


def test_leaf_grad_is_a_private_copy():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 0.0).backward(seed)
    x.grad *= 10
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_non_scalar_without_seed_is_refused_with_advice():
    y = tg.Tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    with pytest.raises(tg.GraphStateError, match=r"shape \(2, 3\), not a scalar.*out.sum\(\)"):
        y.backward()


def test_non_scalar_with_seed():
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    (x * 2.0).backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))
    with pytest.raises(tg.ShapeError, match=r"seed has shape \(3,\)"):
        (x * 2.0).backward(np.ones(3))


def test_a_second_backward_through_the_same_graph_is_refused_as_in_pytorch():
    x = tg.Tensor(2.0, requires_grad=True)
    with tg.scope(t=3):
        y = tg.tanh(x)
    loss = y * 2.0
    loss.backward()
    with pytest.raises(tg.GraphStateError, match=r"mul: an earlier backward\(\) already.*retain_graph=True"):
        loss.backward()
    with pytest.raises(tg.GraphStateError, match=r"tanh \(t=3\): an earlier backward"):
        (y * 3.0).backward()  # a new root over consumed nodes: refused at the first of them
    assert x.grad == pytest.approx(2.0 * (1 - np.tanh(2.0) ** 2))  # added once, not twice


def test_a_forgotten_detach_between_truncated_chunks_is_an_error_not_a_wrong_gradient():
    W = tg.Tensor(np.array([[0.5]]), requires_grad=True)
    h = tg.Tensor(np.array([[1.0]]))
    for chunk in range(2):
        with tg.scope(t=chunk):
            h = tg.tanh(h @ W)
        if chunk == 0:
            h.sum().backward()
    with pytest.raises(tg.GraphStateError, match=r"tanh \(t=0\).*detach\(\)"):
        h.sum().backward()  # h was not detached: the pass would go through chunk 0 again


def test_retain_graph_allows_a_second_backward_and_the_gradients_add_up():
    x = tg.Tensor(2.0, requires_grad=True)
    loss = tg.tanh(x) * 2.0
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad == pytest.approx(2 * 2.0 * (1 - np.tanh(2.0) ** 2))
    with pytest.raises(tg.GraphStateError, match="already"):
        loss.backward(retain_graph=True)  # the second one consumed it


def test_a_pass_with_retain_graph_false_drops_the_saved_arrays():
    x = tg.Tensor(2.0, requires_grad=True)
    loss = tg.tanh(x) * 2.0
    (g,) = tg.grad(loss, [x], retain_graph=False)
    assert g == pytest.approx(2.0 * (1 - np.tanh(2.0) ** 2))
    assert loss.producer.freed and loss.producer.op.inputs is None
    with pytest.raises(tg.GraphStateError, match=r"mul: its saved arrays were freed"):
        tg.grad(loss, [x])
    with pytest.raises(tg.GraphStateError, match="freed"):
        tg.trace_backward(loss)


def test_backward_then_grad_then_trace_on_one_graph_as_the_api_example_does():
    """API.md's first example: backward, then tg.grad and a backward trace on the same loss."""
    x = tg.Tensor(np.ones((2, 3)), name="x")
    W = tg.Tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True, name="W")
    b = tg.Tensor(np.zeros(4), requires_grad=True, name="b")
    loss = tg.tanh(x @ W + b).sum()
    loss.backward()
    dW, db = tg.grad(loss, [W, b])  # reads the graph that backward() went through
    d_pre = 1 - np.tanh(np.ones((2, 3)) @ W.data) ** 2  # dL/d(x W + b), b = 0
    np.testing.assert_allclose(W.grad, np.ones((3, 2)) @ d_pre, rtol=1e-12)
    np.testing.assert_allclose(b.grad, d_pre.sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(dW, W.grad)
    np.testing.assert_array_equal(db, b.grad)
    assert len(tg.trace_backward(loss)) > 0


def test_tg_grad_leaves_dot_grad_untouched_and_gives_zeros_for_unused():
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0], requires_grad=True)
    loss = (a * a).sum()
    da, db = tg.grad(loss, [a, b])
    np.testing.assert_array_equal(da, [2.0, 4.0])
    np.testing.assert_array_equal(db, [0.0])
    assert a.grad is None and b.grad is None


def test_unused_leaf_keeps_grad_none_after_backward():
    a = tg.Tensor(1.0, requires_grad=True)
    b = tg.Tensor(1.0, requires_grad=True)
    (a * 2.0).backward()
    assert a.grad == 2.0 and b.grad is None


def test_grad_of_an_intermediate_tensor():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    loss = (h * h).sum()
    (dh,) = tg.grad(loss, [h])
    np.testing.assert_array_equal(dh, 2 * h.data)


def test_retain_grad_on_a_non_leaf():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3.0).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    assert (x * 1.0).grad is None


def test_detach_and_no_grad_record_nothing():
    x = tg.Tensor([1.0], requires_grad=True)
    d = x.detach()
    assert d.producer is None and not d.requires_grad and np.shares_memory(d.data, x.data)
    with tg.no_grad():
        y = tg.tanh(x) * 2.0
    assert y.producer is None and not y.requires_grad and x.consumers == []
    with pytest.raises(tg.GraphStateError, match="does not require grad"):
        y.backward()


def test_constants_record_nothing():
    c = tg.Tensor([1.0, 2.0]) * 3.0
    assert c.producer is None


def test_scopes_nest_and_merge():
    x = tg.Tensor(1.0, requires_grad=True)
    with tg.scope(layer=1):
        with tg.scope(t=3):
            y = x * 2.0
        with tg.scope(t=4, layer=2):
            z = y + 1.0
    assert y.producer.scope == {"layer": 1, "t": 3}
    assert z.producer.scope == {"layer": 2, "t": 4}
    assert tg.current_scope() == {}


def test_scoped_range_tags_each_step_like_a_scope_and_restores_the_enclosing_tags():
    """tinygraph.scope.scoped_range, the hoisted unroll's cheap per-step scope."""
    x = tg.Tensor(1.0, requires_grad=True)
    made = []
    with tg.scope(layer=1):
        for t in scoped_range(3, start=5, phase="train"):
            y = x * float(t)
            with tg.scope(part="inner"):
                z = y + 1.0
            made.append((t, y.producer.scope, z.producer.scope))
        assert tg.current_scope() == {"layer": 1}
    assert [m[0] for m in made] == [5, 6, 7]
    assert list(made[1][1].items()) == [("layer", 1), ("t", 6), ("phase", "train")]
    assert made[1][2] == {"layer": 1, "phase": "train", "t": 6, "part": "inner"}
    for _ in scoped_range(1, layer=0):  # written t first, as tg.scope(t=t, layer=0) writes it
        assert tg.current_scope() == {"t": 0, "layer": 0}
        assert format_scope(tg.current_scope()) == "t=0, layer=0"
    for t in scoped_range(4, key="k"):
        if t == 1:
            break
    assert tg.current_scope() == {}
    kept = scoped_range(3)
    next(kept)
    kept.close()
    assert tg.current_scope() == {}
    with tg.scope():  # the tags found here come back at its end, whatever happens inside
        kept = scoped_range(3)  # closed while a scope entered after it is still open
        next(kept)
        with tg.scope(phase="eval"):
            kept.close()
            assert tg.current_scope() == {"t": 0, "phase": "eval"}  # not undone by the generator
    assert tg.current_scope() == {}
    with pytest.raises(ZeroDivisionError):
        for t in scoped_range(3):
            1 / (t - 1)  # raises at t = 1, inside the loop body
    assert tg.current_scope() == {}


def test_producer_consumers_and_node_fields():
    x = tg.Tensor([1.0], requires_grad=True, name="x")
    y = tg.tanh(x)
    z = x * y
    node = y.producer
    assert node.op.name == "tanh" and len(node.inputs) == 1 and node.inputs[0] is x  # by identity:
    assert len(node.outputs) == 1 and node.outputs[0] is y  # == on tensors compares their values
    assert x.consumers == [y.producer, z.producer]


def chain(steps: int) -> tuple[tg.Tensor, tg.Tensor]:
    x = tg.Tensor(np.array([0.5]), requires_grad=True)
    h = x
    for _ in range(steps):
        h = h * 0.999 + 0.001
    return x, h.sum()


def test_a_100000_step_chain_backpropagates_without_recursion():
    x, loss = chain(100_000)
    loss.backward()
    np.testing.assert_allclose(x.grad, [0.999**100_000], rtol=1e-9)


def test_node_order_is_deterministic():
    def build() -> list[str]:
        x = tg.Tensor(np.ones((2, 2)), requires_grad=True)
        h = x
        for t in range(3):
            with tg.scope(t=t):
                h = tg.tanh(h @ x + h)
        trace = tg.trace_backward(h.sum())
        return [f"{type(s).__name__}:{getattr(getattr(s, 'node', None), 'op', None)}" for s in trace]

    first = build()
    assert [s.split(":")[0] for s in first] == [s.split(":")[0] for s in build()]
    assert len(first) > 5


def test_slicing_every_step_of_a_sequence_sums_the_slices_in_one_buffer():
    rng = np.random.default_rng(0)
    xs = tg.Tensor(rng.standard_normal((2, 50, 3)), requires_grad=True)
    weights = rng.standard_normal((50, 3))
    loss = sum(((xs[:, t] * weights[t]) ** 2).sum() for t in range(50))
    trace = tg.trace_backward(loss)
    assert len(trace.junction_of(xs).contributions) == 50
    loss.backward()
    np.testing.assert_allclose(xs.grad, 2 * xs.data * weights[None] ** 2, rtol=1e-12)


def test_indexed_gradients_meet_dense_ones_at_a_junction():
    x = tg.Tensor(np.arange(4.0), requires_grad=True)
    loss = (x * 2.0).sum() + x[1:3].sum() + x[np.array([0, 0])].sum() + (x * x).sum()
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2.0 + np.array([2.0, 1.0, 1.0, 0.0]) + 2 * x.data)


class Square(tg.Op):
    def forward(self, x):
        return x * x

    def backward(self, grad):
        return (2 * self.inputs[0] * grad,)


def test_applying_one_op_instance_twice_is_refused_not_silently_wrong():
    a = tg.Tensor([1.0], requires_grad=True)
    b = tg.Tensor([5.0], requires_grad=True)
    square = Square()
    square(a)
    with pytest.raises(tg.GraphStateError, match=r"already applied.*Square\(\)\(x\)"):
        square(b)


def test_python_protocols_len_iter_float_bool_array():
    x = tg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert [r.shape for r in rows] == [(2,)] * 3
    sum(r.sum() for r in rows).backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 2)))
    assert float(tg.Tensor(2.5)) == 2.5
    assert bool(tg.Tensor([1.0])) and not bool(tg.Tensor(0.0))
    with pytest.raises(tg.ShapeError, match="ambiguous"):
        bool(x)
    with pytest.raises(tg.GraphStateError, match="requires grad"):
        np.array(x)  # a numpy function would silently cut the graph
    copy = np.array(x.detach())
    copy[0, 0] = 99.0
    assert x.data[0, 0] == 0.0
    with pytest.raises(TypeError, match="0-d"):
        len(tg.Tensor(1.0))


def test_the_scope_dict_given_by_with_is_a_copy():
    x = tg.Tensor(1.0, requires_grad=True)
    with tg.scope(t=1) as tags:
        y = x * 2.0
    tags["t"] = 99
    assert y.producer.scope == {"t": 1}


def test_grad_with_no_inputs_keeps_the_graph():
    x = tg.Tensor(2.0, requires_grad=True)
    y = x * x
    assert tg.grad(y, []) == []
    y.backward()
    assert x.grad == 4.0


def test_a_refused_reuse_leaves_the_first_application_intact():
    from tinygraph.ops.arith import Mul

    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0, 4.0], requires_grad=True)
    op = Mul()
    y = op(a, b)
    with pytest.raises(tg.GraphStateError, match="already applied"):
        op(b, b)
    with tg.no_grad(), pytest.raises(tg.GraphStateError, match="already applied"):
        op(np.ones(2), np.ones(2))
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_the_index_is_copied_so_the_caller_may_reuse_it():
    x = tg.Tensor(np.arange(4.0), requires_grad=True)
    index = np.array([0, 1])
    y = x[index]
    index[:] = 3
    (y * np.array([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 10.0, 0.0, 0.0])


def test_returned_gradients_never_share_memory():
    W = tg.Tensor(np.ones(3), requires_grad=True)
    loss = (W * W).sum()
    g1, g2 = tg.grad(loss, [W, W], retain_graph=True)
    assert g1 is not g2 and not np.shares_memory(g1, g2)
    seed = np.ones(3)
    x = tg.Tensor(np.zeros(3), requires_grad=True)
    trace = tg.trace_backward(x + 1.0, seed)
    assert not np.shares_memory(trace.grad_of(x), seed)


def test_a_subclass_of_a_built_in_op_gets_its_inputs_in_backward():
    from tinygraph.ops.elementwise import Tanh

    class MyTanh(Tanh):
        def backward(self, grad):
            (x,) = self.inputs
            return (grad * (1 - np.tanh(x) ** 2),)

    x = tg.Tensor([0.5], requires_grad=True)
    MyTanh()(x).sum().backward()
    np.testing.assert_allclose(x.grad, 1 - np.tanh(0.5) ** 2)


def test_consumers_list_each_node_once():
    x = tg.Tensor([1.0], requires_grad=True)
    y = x * x
    assert x.consumers == [y.producer]
