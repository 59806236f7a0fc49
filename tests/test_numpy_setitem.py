"""``x[index] = v`` on a Tensor: a new version of x, recorded as a setitem node.

The gradients are derived by hand (dx = dy with zeros at index, dv = dy[index] summed over the
broadcast), checked by central differences and against PyTorch; the previous version keeps
its place in the graph (its producer and earlier readers, its values); and the refusals.
"""

from __future__ import annotations

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg


def leaf(values, name: str | None = None) -> tg.Tensor:
    return tg.Tensor(np.array(values, dtype=np.float64), requires_grad=True, name=name)


W = np.arange(12.0).reshape(3, 4) / 10.0


def test_writing_a_row_gives_numpys_values_and_the_hand_derived_gradients():
    a, b = leaf(np.ones((3, 4)), "a"), leaf([1.0, 2.0, 3.0, 4.0], "b")
    y = a * 2.0
    y[1] = b
    np.testing.assert_array_equal(y.data, [[2.0] * 4, [1.0, 2.0, 3.0, 4.0], [2.0] * 4])
    assert y.producer.op.describe() == "setitem[1]"
    (y * W).sum().backward()
    expected_da = 2.0 * W
    expected_da[1] = 0.0  # the overwritten row sends nothing back to a
    np.testing.assert_array_equal(a.grad, expected_da)
    np.testing.assert_array_equal(b.grad, W[1])


def test_a_broadcast_value_at_an_advanced_index_sums_its_gradient():
    a, b = leaf(np.ones((3, 4))), leaf([5.0])
    y = a * 1.0
    y[[0, 2], 1:3] = b
    np.testing.assert_array_equal(y.data[[0, 2], 1:3], 5.0)
    (y * W).sum().backward()
    assert b.grad.tolist() == [W[0, 1] + W[0, 2] + W[2, 1] + W[2, 2]]
    expected_da = W.copy()
    expected_da[[0, 2], 1:3] = 0.0
    np.testing.assert_array_equal(a.grad, expected_da)


@pytest.mark.parametrize("index", [1, (slice(None), 2), [0, 2], (np.array([0, 2]), np.array([3, 1])),
                                   np.array([True, False, True]), (Ellipsis, None, 0)],
                         ids=["int", "column", "list", "pairs", "mask", "ellipsis and None"])
def test_setitem_passes_gradcheck_and_agrees_with_torch(index):
    rng = np.random.default_rng(0)
    a = leaf(rng.standard_normal((3, 4)))
    probe = np.zeros((3, 4))
    v_shape = probe[index].shape
    v = leaf(rng.standard_normal(v_shape))
    w = rng.standard_normal((3, 4))

    def loss() -> tg.Tensor:
        y = tg.tanh(a)
        y[index] = v * 3.0
        return (y * w).sum()

    assert tg.gradcheck(loss, [a, v]).ok
    assert tg.gradcheck_nodes(loss()).ok
    torch = pytest.importorskip("torch")
    ta, tv = torch.tensor(a.data, requires_grad=True), torch.tensor(v.data, requires_grad=True)
    ty = torch.tanh(ta).clone()  # torch writes in place: tanh saved its output (we copy)
    torch_index = tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in index) \
        if isinstance(index, tuple) else (torch.tensor(index) if isinstance(index, np.ndarray) else index)
    ty[torch_index] = tv * 3.0
    (ty * torch.tensor(w)).sum().backward()
    loss().backward()
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(v.grad, tv.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_a_constant_buffer_filled_row_by_row_with_tensors():
    """The learner's pattern: h = np.zeros_like(x); h[t] = ... in a loop."""
    x = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "x")
    h = np.zeros_like(x)
    for t in range(3):
        h[t] = np.tanh(x[t])
    assert h.requires_grad and [n.op.name for n in tg.check.nodes.graph_nodes(h)].count("setitem") == 3
    np.testing.assert_allclose(h.data, np.tanh(x.data))
    (h * W[:, :2]).sum().backward()
    np.testing.assert_allclose(x.grad, W[:, :2] * (1 - np.tanh(x.data) ** 2), rtol=1e-13)


def test_the_previous_version_keeps_its_producer_its_readers_and_its_values():
    a = leaf([1.0, 2.0, 3.0], "a")
    y = a * 2.0
    y.name = "y"
    doubled = y * 10.0  # reads y before the write
    producer = y.producer
    y[0] = 0.0
    before = y.producer.inputs[0]
    assert before is not y and before.name == "y" == y.name
    assert before.producer is producer and producer.output is before
    assert doubled.producer.inputs[0] is before
    assert [n.op.name for n in before.consumers] == ["mul", "setitem"]
    np.testing.assert_array_equal(before.data, [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(doubled.data, [20.0, 40.0, 60.0])  # not a numpy view
    (doubled.sum() + y.sum()).backward()
    np.testing.assert_array_equal(a.grad, [20.0, 22.0, 22.0])


def test_writing_what_is_computed_from_x_itself():
    a = leaf([1.0, 5.0])
    x = a * 1.0
    x[1] = x[0] * 3.0
    np.testing.assert_array_equal(x.data, [1.0, 3.0])
    x.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 0.0])


def test_the_picture_and_the_trace_show_the_setitem_node():
    a, b = leaf([1.0, 2.0], "a"), leaf(3.0, "b")
    with tg.scope(t=1):
        y = a * 2.0
        y.name = "y"
        y[0] = b
    loss = y.sum()
    text = tg.to_dot(loss)
    assert "setitem[0]" in text
    trace = tg.trace_backward(loss)
    assert "setitem[0]" in str(trace) and y.producer.scope == {"t": 1}


def test_a_parameter_is_refused_while_recording_and_updated_under_no_grad():
    w = leaf([1.0, 2.0], "w")
    expect(tg.GraphStateError, lambda: w.__setitem__(0, 5.0), "setitem[0]", "'w'", "leaf that requires grad",
           "x.data[index] = v", "tg.no_grad()")
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    loss = (w * 3.0).sum()
    with tg.no_grad():
        w[0] = 5.0
    assert w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.data, [5.0, 2.0])
    loss.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_a_computed_tensor_under_no_grad_becomes_a_constant_and_the_graph_keeps_the_old_version():
    a = leaf([1.0, 2.0])
    y = a * 2.0
    loss = (y * 3.0).sum()
    with tg.no_grad():
        y[0] = 100.0
    assert y.is_leaf and not y.requires_grad
    np.testing.assert_array_equal(y.data, [100.0, 4.0])
    loss.backward()
    np.testing.assert_array_equal(a.grad, [6.0, 6.0])


def test_a_constant_names_a_new_array_and_an_old_reference_keeps_the_old_values():
    c = tg.Tensor(np.zeros(3))
    old = c.data
    c[1] = 7.0
    np.testing.assert_array_equal(c.data, [0.0, 7.0, 0.0])
    np.testing.assert_array_equal(old, 0.0)
    assert c.producer is None and not c.requires_grad


def test_a_tensor_index_is_used_by_value_and_copied():
    a = leaf(np.zeros(4))
    index = tg.Tensor(np.array([0, 3]))
    y = a * 1.0
    y[index] = leaf([1.0, 2.0])
    index.data[:] = 1
    np.testing.assert_array_equal(y.data, [1.0, 0.0, 0.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 1.0, 0.0])


def test_a_repeated_position_is_refused():
    y = leaf(np.zeros(3)) * 1.0
    expect(tg.ShapeError, lambda: y.__setitem__([0, 0], leaf([1.0, 2.0])), "setitem[array(2,)]",
           "more than once")


def test_an_integer_tensor_that_would_need_a_gradient_is_refused():
    counts = tg.Tensor(np.zeros(3, dtype=np.int64))
    expect(tg.DTypeError, lambda: counts.__setitem__(0, leaf(1.5)), "setitem[0]", "int64", "truncate")


def test_shapes_that_do_not_fit_are_a_shape_error_naming_setitem_and_scope():
    y = leaf(np.zeros((2, 3))) * 1.0
    with tg.scope(t=3, layer=1):
        expect(tg.ShapeError, lambda: y.__setitem__(0, leaf([1.0, 2.0])), "setitem[0] (t=3, layer=1)",
               "(2, 3), (2,)")


def test_forward_mode_goes_through_setitem():
    a, b = leaf([1.0, 2.0, 3.0]), leaf(4.0)

    def f(a, b):
        y = a * 2.0
        y[1] = b * b
        return y

    _, y_dot = tg.jvp(f, [a, b], [np.array([1.0, 1.0, 1.0]), np.array(1.0)])
    np.testing.assert_array_equal(y_dot, [2.0, 8.0, 2.0])
