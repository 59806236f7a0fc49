"""Changing ``.data`` in place between the forward and the backward pass is noticed (as PyTorch's
version counters do), never a silently different gradient; rebinding and later writes are fine."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from expect_error import expect


def pair() -> tuple[tg.Tensor, tg.Tensor]:
    a = tg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = tg.Tensor([3.0, 4.0], requires_grad=True, name="b")
    return a, b


def test_writing_into_an_input_a_mul_saved_is_refused_naming_tensor_op_and_scope() -> None:
    a, b = pair()
    with tg.scope(t=2, layer=0):
        y = (a * b).sum()
    b.data[:] = 100
    expect(tg.GraphStateError, y.backward, "mul (t=2, layer=0)", "tensor 'b'", "input 1",
           "changed in place", "x.data = x.data + 1")
    assert a.grad is None  # nothing was accumulated


def test_augmented_assignment_into_a_saved_output_is_refused() -> None:
    x = tg.Tensor([0.5, -0.5], requires_grad=True)
    h = tg.tanh(x)
    loss = (h * 2.0).sum()
    h.data += 1
    expect(tg.GraphStateError, loss.backward, "tanh", "output")


def test_a_sliced_write_is_noticed() -> None:
    a, b = pair()
    y = (a * b).sum()
    b.data[0:1] += 1
    with pytest.raises(tg.GraphStateError):
        y.backward()


@pytest.mark.parametrize("write", [
    lambda d: d.fill(0.0),
    lambda d: d.put([0], [9.0]),
    lambda d: d.__imul__(2.0),
    lambda d: d.__itruediv__(2.0),
    lambda d: d.__ipow__(2.0),
    lambda d: d.sort(),
])
def test_every_in_place_method_is_noticed(write) -> None:
    a, b = pair()
    y = (a * b).sum()
    write(b.data)
    with pytest.raises(tg.GraphStateError):
        y.backward()


def test_tg_grad_and_trace_also_refuse() -> None:
    a, b = pair()
    y = (a * b).sum()
    b.data[1] = 0.0
    with pytest.raises(tg.GraphStateError):
        tg.grad(y, [a])
    with pytest.raises(tg.GraphStateError):
        tg.trace_backward(y)


def test_writing_into_a_detached_copy_is_noticed_too() -> None:
    a, b = pair()
    y = (a * b).sum()
    frozen = b.detach()
    frozen.data[0] = 7.0  # detach() shares memory with b, which mul saved
    with pytest.raises(tg.GraphStateError):
        y.backward()


def test_an_op_that_does_not_read_what_was_written_is_not_refused() -> None:
    a, b = pair()
    s = a + b          # add's backward reads neither its inputs nor its output
    loss = s.sum()
    a.data[:] = 50.0
    s.data += 1.0
    loss.backward()
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])


def test_rebinding_data_keeps_the_gradient_of_the_forward_pass() -> None:
    a, b = pair()
    y = (a * b).sum()
    b.data = np.array([100.0, 100.0])  # a new array: mul still holds the one it used
    y.backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_writes_before_the_forward_pass_and_after_backward_are_fine() -> None:
    w = tg.Tensor([1.0, 1.0], requires_grad=True, name="w")
    x = tg.Tensor([2.0, 3.0])
    for _ in range(3):  # micrograd-style SGD: in-place updates after each backward
        w.data[0] = w.data[0]  # a write before the forward pass
        loss = (w * x).sum()
        loss.backward()
        w.data -= 0.1 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.data, [1.0 - 0.6, 1.0 - 0.9])


def test_gradcheck_perturbs_without_stamping_a_graph_built_before_it() -> None:
    a, b = pair()
    y = (a * b).sum()
    assert tg.gradcheck(lambda: (a * b).sum(), [a, b]).ok
    y.backward()
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_data_is_an_ndarray_that_prints_as_one() -> None:
    a, _ = pair()
    assert isinstance(a.data, np.ndarray)
    assert repr(a.data) == "array([1., 2.])"
    assert a.numpy() is a.data
    assert type(a.data * 2).__name__ in ("ndarray", "DataView")
    np.testing.assert_array_equal(np.asarray(a.data), [1.0, 2.0])


def test_a_pickled_data_view_is_a_plain_array() -> None:
    import pickle

    a, _ = pair()
    again = pickle.loads(pickle.dumps(a.data))
    assert type(again) is np.ndarray
    np.testing.assert_array_equal(again, [1.0, 2.0])
