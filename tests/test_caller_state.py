"""Ops never keep a caller's array by reference: refilling a buffer before backward() changes
nothing (targets, index lists, arrays given to ops and to Tensor)."""

from __future__ import annotations

import numpy as np

import tinygraph as tg


def test_refilling_one_target_buffer_per_step_keeps_every_step_s_gradient() -> None:
    logits = [tg.Tensor(np.zeros((1, 3)), requires_grad=True, name=f"z{t}") for t in range(2)]
    buffer = np.zeros(1, dtype=np.int64)
    losses = []
    for t, z in enumerate(logits):
        buffer[0] = t  # the caller refills one buffer for each step
        losses.append(tg.cross_entropy(z, buffer))
    sum(losses).backward()
    # dz_t = softmax(0) − onehot(target_t) = 1/3 − [t == c]
    np.testing.assert_allclose(logits[0].grad, [[1 / 3 - 1, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(logits[1].grad, [[1 / 3, 1 / 3 - 1, 1 / 3]])


def test_a_target_tensor_refilled_in_place_does_not_change_the_gradient() -> None:
    z = tg.Tensor(np.zeros((1, 3)), requires_grad=True)
    targets = tg.Tensor(np.array([0]))
    loss = tg.cross_entropy(z, targets)
    targets.data[0] = 2  # cross_entropy took its own copy of the targets
    loss.backward()
    np.testing.assert_allclose(z.grad, [[1 / 3 - 1, 1 / 3, 1 / 3]])


def test_an_index_list_mutated_before_backward_does_not_move_the_gradient() -> None:
    x = tg.Tensor(np.zeros(5), requires_grad=True)
    idx = [0, 0, 1]
    y = x[idx]
    idx[0] = 3
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 1.0, 0.0, 0.0, 0.0])


def test_a_list_inside_a_tuple_index_is_the_op_s_own_copy() -> None:
    x = tg.Tensor(np.zeros((3, 4)), requires_grad=True)
    rows, cols = [0, 2], [1, 3]
    y = x[rows, cols]
    rows[0], cols[1] = 1, 0
    y.sum().backward()
    expected = np.zeros((3, 4))
    expected[0, 1] = expected[2, 3] = 1.0
    np.testing.assert_array_equal(x.grad, expected)
    assert "array(2,)" in y.producer.op.describe()


def test_an_empty_index_list_selects_nothing_as_in_numpy() -> None:
    x = tg.Tensor(np.arange(3.0), requires_grad=True)
    y = x[[]]
    assert y.shape == np.arange(3.0)[[]].shape == (0,)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_a_numpy_array_given_to_an_op_is_copied() -> None:
    W = tg.Tensor(np.ones((2, 1)), requires_grad=True, name="W")
    x_buffer = np.zeros((1, 2))
    total = None
    for t in range(2):
        x_buffer[:] = [t + 1.0, 10.0 * (t + 1)]  # one input buffer, refilled every step
        out = (tg.Tensor(x_buffer) @ W).sum() + (x_buffer @ W).sum()
        total = out if total is None else total + out
    total.backward()
    # d/dW Σ_t 2 x_t W = 2 Σ_t x_tᵀ = 2 [1 + 2, 10 + 20]
    np.testing.assert_allclose(W.grad, [[6.0], [60.0]])


def test_a_sum_axis_list_is_not_kept_by_reference() -> None:
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    axes = [0]
    y = x.sum(axis=axes)
    axes[0] = 1
    assert y.producer.op.describe() == "sum(axis=(0,))"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))


def test_tensor_copies_the_array_it_is_given() -> None:
    source = np.array([1.0, 2.0])
    x = tg.Tensor(source)
    source[0] = 5.0
    assert x.data[0] == 1.0 and not np.shares_memory(x.data, source)
