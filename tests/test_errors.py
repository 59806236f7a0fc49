"""Errors name the op, the scope and the shapes at fault."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg


def test_matmul_shape_error_names_op_scope_and_shapes():
    a = tg.Tensor(np.ones((4, 3)))
    b = tg.Tensor(np.ones((5, 3)))
    with tg.scope(t=3, layer=1), pytest.raises(tg.ShapeError) as info:
        a @ b
    message = str(info.value)
    assert message.startswith("matmul (t=3, layer=1):")
    assert "(4, 3)" in message and "(5, 3)" in message


def test_broadcast_mismatch_is_a_shape_error():
    with tg.scope(t=0), pytest.raises(tg.ShapeError, match=r"add \(t=0\).*\(2, 3\), \(4,\)"):
        tg.Tensor(np.ones((2, 3))) + tg.Tensor(np.ones(4))


def test_shape_errors_are_value_errors_too():
    assert issubclass(tg.ShapeError, ValueError)
    assert issubclass(tg.DTypeError, TypeError)


def test_requires_grad_on_integers_is_refused():
    with pytest.raises(tg.DTypeError, match="int64"):
        tg.Tensor(np.array([1, 2]), requires_grad=True)


def test_object_and_ragged_data_are_refused():
    with pytest.raises(tg.DTypeError):
        tg.Tensor(np.array(["a", "b"]))
    with pytest.raises(tg.DTypeError, match="ragged"):
        tg.Tensor([[1.0, 2.0], [3.0]])


def test_lists_become_float64_and_int_arrays_stay_int():
    assert tg.Tensor([1, 2]).dtype == np.float64
    assert tg.Tensor(np.array([1, 2])).dtype.kind == "i"


def test_cross_entropy_targets_checked():
    logits = tg.Tensor(np.zeros((2, 3)), requires_grad=True)
    with tg.scope(t=5), pytest.raises(tg.ShapeError, match=r"cross_entropy \(t=5\).*target 3.*3 classes"):
        tg.cross_entropy(logits, [0, 3])
    with pytest.raises(tg.ShapeError, match=r"targets of shape \(2,\)"):
        tg.cross_entropy(logits, [0, 1, 2])
    with pytest.raises(tg.DTypeError, match="integer class indices"):
        tg.cross_entropy(logits, np.array([0.0, 1.0]))


def test_sum_axis_out_of_range():
    with pytest.raises(tg.ShapeError, match=r"sum\(axis=2\).*axis 2 is out of range"):
        tg.Tensor(np.ones((2, 3))).sum(axis=2)


class WrongCount(tg.Op):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return (grad,)


class WrongShape(tg.Op):
    def forward(self, a):
        return a * 2

    def backward(self, grad):
        return (grad.sum(axis=0),)


def test_custom_op_returning_too_few_gradients_is_named():
    a = tg.Tensor(np.ones(2), requires_grad=True)
    with tg.scope(t=2):
        y = WrongCount()(a, a)
    with pytest.raises(tg.BackwardError, match=r"wrongcount \(t=2\) returned 1 gradients for 2"):
        y.sum().backward()


def test_custom_op_returning_a_wrong_shape_is_named():
    a = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    with tg.scope(layer=1):
        y = WrongShape()(a)
    with pytest.raises(tg.BackwardError, match=r"wrongshape \(layer=1\).*\(3,\).*\(2, 3\)"):
        y.sum().backward()


class Cube(tg.Op):
    """y = x³; dx = 3x² dy: the public way to add an op."""

    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        return (3 * x**2 * grad,)


def test_custom_op_works_end_to_end():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    Cube()(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 12.0])
