"""Every op's gradient against hand-derived formulas and central differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import central_difference

import tinygraph as tg

RNG = np.random.default_rng(0)


def check(build, *arrays, positive=False, tol=1e-7):
    """Compare tg.grad of sum(build(*tensors) * R) with central differences for every input."""
    arrays = [np.abs(a) + 0.5 if positive else a for a in arrays]
    tensors = [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = build(*tensors)
    weights = RNG.standard_normal(out.shape)

    def f() -> float:
        return float((build(*tensors).data * weights).sum())

    analytic = tg.grad((build(*tensors) * weights).sum(), tensors)
    for tensor, g in zip(tensors, analytic):
        assert g.shape == tensor.shape
        numeric = central_difference(f, tensor.data)
        np.testing.assert_allclose(g, numeric, atol=tol, rtol=0)


def r(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize(
    "shapes",
    [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,))],
)
@pytest.mark.parametrize(
    "fn", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b],
    ids=["add", "sub", "mul", "div"],
)
def test_binary_ops_with_broadcasting(fn, shapes):
    a, b = (r(*s) for s in shapes)
    b = np.where(np.abs(b) < 0.3, 0.7, b)  # keep division away from 0
    check(fn, a, b)


def test_pow_in_base_and_exponent():
    check(lambda a, p: a**p, r(3, 4), r(4), positive=True)
    check(lambda a: a**3, r(2, 5))


@pytest.mark.parametrize(
    "shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
               ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5))],
)
def test_matmul_all_numpy_cases(shapes):
    check(lambda a, b: a @ b, r(*shapes[0]), r(*shapes[1]))


def test_matmul_hand_derived():
    a = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    b = tg.Tensor([[3.0], [4.0]], requires_grad=True)
    (a @ b).backward()  # y = 3 a0 + 4 a1 ... dy/da = b^T, dy/db = a^T
    np.testing.assert_array_equal(a.grad, [[3.0, 4.0]])
    np.testing.assert_array_equal(b.grad, [[1.0], [2.0]])


@pytest.mark.parametrize(
    "fn", [tg.tanh, tg.sigmoid, tg.exp, tg.neg, tg.identity, lambda x: -x],
    ids=["tanh", "sigmoid", "exp", "neg", "identity", "unary-minus"],
)
def test_unary_ops(fn):
    check(fn, r(3, 4))


def test_relu_away_from_the_kink():
    x = r(4, 5)
    x = np.where(np.abs(x) < 0.1, 0.5, x)
    check(tg.relu, x)


def test_log_on_positive_inputs():
    check(tg.log, r(3, 4), positive=True)


def test_hand_derived_nonlinearity_gradients():
    x = tg.Tensor([0.0, 1.0], requires_grad=True)
    tg.tanh(x).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0 - np.tanh(1.0) ** 2])
    x.grad = None
    tg.sigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad, [0.25, np.exp(-1) / (1 + np.exp(-1)) ** 2])
    x.grad = None
    tg.relu(tg.Tensor([-1.0, 2.0]) * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0])


def test_sigmoid_is_stable_at_the_tails():
    y = tg.sigmoid(tg.Tensor([-1000.0, 1000.0])).data
    np.testing.assert_array_equal(y, [0.0, 1.0])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean(axis, keepdims):
    check(lambda x: x.sum(axis=axis, keepdims=keepdims), r(2, 3, 4))
    check(lambda x: x.mean(axis=axis, keepdims=keepdims), r(2, 3, 4))


def test_mean_hand_derived():
    x = tg.Tensor(np.ones((2, 5)), requires_grad=True)
    x.mean().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 5), 0.1))


@pytest.mark.parametrize(
    "index", [1, (slice(None), 2), (slice(0, 2), slice(1, None)), (Ellipsis, None, 0),
              np.array([0, 2, 0]), (np.array([0, 1, 1]), np.array([2, 2, 3]))],
    ids=["int", "column", "slices", "ellipsis-newaxis", "repeated-rows", "repeated-pairs"],
)
def test_indexing(index):
    check(lambda x: x[index], r(3, 4))


def test_repeated_index_gradients_add_up():
    x = tg.Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_transpose_and_reshape():
    check(lambda x: x.T, r(3, 4))
    check(lambda x: x.transpose(1, 2, 0), r(2, 3, 4))
    check(lambda x: x.reshape(4, -1), r(2, 3, 4))
    check(lambda x: x.reshape((6, 4)), r(2, 3, 4))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_and_stack(axis):
    check(lambda a, b, c: tg.concat([a, b, c], axis=axis), r(2, 3), r(2, 3), r(2, 3))
    check(lambda a, b: tg.stack([a, b], axis=axis), r(2, 3), r(2, 3))


def test_concat_of_unequal_widths():
    check(lambda a, b: tg.concat([a, b], axis=1), r(2, 3), r(2, 5))


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax(axis):
    check(lambda x: tg.softmax(x, axis=axis), r(3, 5))
    check(lambda x: tg.log_softmax(x, axis=axis), r(3, 5))


def test_softmax_values_sum_to_one_and_survive_large_logits():
    y = tg.softmax(tg.Tensor([[1000.0, 1000.0, -1000.0]])).data
    np.testing.assert_allclose(y, [[0.5, 0.5, 0.0]])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_cross_entropy(reduction):
    targets = np.array([0, 3, 1])
    check(lambda x: tg.cross_entropy(x, targets, reduction=reduction), r(3, 4))


def test_cross_entropy_hand_derived():
    logits = tg.Tensor(np.zeros((2, 4)), requires_grad=True)
    loss = tg.cross_entropy(logits, [1, 2], reduction="mean")
    assert loss.item() == pytest.approx(np.log(4))
    loss.backward()
    expected = np.full((2, 4), 0.25)
    expected[0, 1] -= 1
    expected[1, 2] -= 1
    np.testing.assert_allclose(logits.grad, expected / 2)


def test_cross_entropy_of_sequences_of_logits():
    targets = np.array([[0, 1], [2, 2]])
    check(lambda x: tg.cross_entropy(x, targets), r(2, 2, 3))


def test_python_sum_and_scalar_arithmetic():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = sum([x * 2.0, 3.0 - x, 1.0 / (x + 1.0), 2.0**x])
    y.sum().backward()
    expected = 2.0 - 1.0 - 1.0 / (np.array([1.0, 2.0]) + 1) ** 2 + np.log(2) * 2.0 ** np.array([1, 2])
    np.testing.assert_allclose(x.grad, expected)


def test_ndarray_on_the_left_defers_to_the_tensor():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, tg.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_transpose_with_negative_axes():
    check(lambda x: x.transpose(0, -1, -2), r(3, 3, 3))
    check(lambda x: x.transpose(-1, 0, 1), r(2, 3, 4))
    check(lambda x: x.transpose(-1, 0), r(2, 3))


def test_python_numbers_keep_a_float32_tensor_float32():
    x = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 2 + 1.5) ** 2 / 3
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, 2 * 3.5 * 2 / 3, rtol=1e-6)


@pytest.mark.parametrize(
    "fn", [tg.tanh, tg.sigmoid, tg.exp, tg.log, tg.relu, tg.neg, tg.identity, lambda x: x * x,
           lambda x: x / 3.0, lambda x: x**2.0, lambda x: x.sum(), lambda x: x.mean()],
)
def test_every_unary_op_on_a_zero_dimensional_tensor(fn):
    check(fn, np.array(0.7))


def test_pow_at_a_zero_base_follows_pytorch():
    a = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    p = tg.Tensor(np.array(2.0), requires_grad=True)
    (a**p).sum().backward()
    assert p.grad == pytest.approx(4.0 * np.log(2.0))
    np.testing.assert_array_equal(a.grad, [0.0, 4.0])
    b = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (b**0).sum().backward()
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])


def test_numpy_float32_scalars_and_seeds_keep_float32():
    x = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert (x - x.data.mean()).dtype == np.float32
    assert (np.float32(2) * x).dtype == np.float32
    assert tg.Tensor(np.float32(1.5)).dtype == np.float32
    assert tg.stack([1.0, x[0], x[1]]).dtype == np.float32
    (x * True).backward([1, 1, 1])
    assert x.grad.dtype == np.float32


def test_transpose_takes_a_sequence_or_none_and_scalars_reduce_over_axis_0():
    x = tg.Tensor(np.arange(6.0).reshape(1, 2, 3))
    assert x.transpose((2, 0, 1)).shape == (3, 1, 2)
    assert x.transpose(None).shape == (3, 2, 1)
    assert tg.Tensor(2.0).sum(axis=0).item() == 2.0
    assert tg.Tensor(2.0).mean(axis=-1).item() == 2.0
