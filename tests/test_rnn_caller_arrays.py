"""rnn never keeps an array its caller owns: refilling one before backward() changes nothing.

A learner reuses buffers (one target array refilled for every step, one input array refilled
for every batch). Anything an op saves for its backward must be its own copy, or the gradient
silently becomes that of the refilled values. Each test computes the gradient twice, once
with the buffer left alone and once refilled between the forward and the backward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import rnn
import tinygraph as tg
from rnn.sequences import CarryWhereMasked

B, T, D, H, V = 2, 4, 3, 5, 3


def gradients_with_and_without_refill(
    build: Callable[[], tuple[tg.Tensor, list[tg.Tensor]]], refill: Callable[[], None]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(gradients untouched, gradients after ``refill()`` ran between forward and backward)."""
    loss, params = build()
    clean = [g.copy() for g in tg.grad(loss, params)]
    loss, params = build()
    refill()
    return clean, [g.copy() for g in tg.grad(loss, params)]


def assert_same(clean: list[np.ndarray], refilled: list[np.ndarray]) -> None:
    for a, b in zip(clean, refilled):
        np.testing.assert_array_equal(b, a)


def network(hoist: bool = False) -> tuple[rnn.RNN, rnn.Linear, list[tg.Tensor]]:
    net = rnn.RNN(D, H, num_layers=2, rng=0, hoist_inputs=hoist)
    readout = rnn.Linear(H, V, rng=1)
    return net, readout, net.parameters() + readout.parameters()


def test_sequence_cross_entropy_copies_the_targets():
    net, readout, params = network()
    xs = np.random.default_rng(0).normal(size=(B, T, D))
    targets = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])

    def build():
        hs, _ = net(xs)
        return rnn.sequence_cross_entropy([readout(h) for h in hs], targets), params

    def refill():
        targets[:] = (targets + 1) % V

    assert_same(*gradients_with_and_without_refill(build, refill))


def test_last_step_cross_entropy_copies_the_targets():
    net, readout, params = network()
    xs = np.random.default_rng(1).normal(size=(B, T, D))
    targets = np.array([0, 2])

    def build():
        hs, _ = net(xs)
        return rnn.last_step_cross_entropy(readout(hs[-1]), targets), params

    def refill():
        targets[:] = [1, 1]

    assert_same(*gradients_with_and_without_refill(build, refill))


def test_one_target_buffer_refilled_every_step_inside_tbptt():
    """The reuse that hurts in practice: step_loss writes each step's targets into one buffer."""
    ys = np.random.default_rng(2).integers(0, V, size=(B, T))
    xs = np.random.default_rng(3).normal(size=(B, T, D))

    def run(buffered: bool) -> list[np.ndarray]:
        net, readout, params = network()
        buffer = np.zeros(B, dtype=int)

        def step_loss(t: int, h: tg.Tensor) -> tg.Tensor:
            if not buffered:
                return rnn.last_step_cross_entropy(readout(h), ys[:, t].copy())
            buffer[:] = ys[:, t]
            return rnn.last_step_cross_entropy(readout(h), buffer)

        rnn.tbptt(net, xs, step_loss, k1=T, k2=T)
        return [p.grad.copy() for p in params]

    assert_same(run(False), run(True))


@pytest.mark.parametrize("many", [False, True])
def test_mse_loss_copies_the_targets(many: bool):
    net, readout, params = network()
    xs = np.random.default_rng(4).normal(size=(B, T, D))
    targets = np.random.default_rng(5).normal(size=(B, T, V) if many else (B, V))

    def build():
        hs, _ = net(xs)
        preds = [readout(h) for h in hs] if many else readout(hs[-1])
        return rnn.mse_loss(preds, targets), params

    def refill():
        targets[:] = 7.0

    assert_same(*gradients_with_and_without_refill(build, refill))


@pytest.mark.parametrize("hoist", [False, True])
@pytest.mark.parametrize("batch", [1, B])
def test_the_network_copies_its_input_array(hoist: bool, batch: int):
    net, _, params = network(hoist)
    xs = np.random.default_rng(6).normal(size=(batch, T, D))

    def build():
        hs, _ = net(xs)
        return sum((h * h).sum() for h in hs), params

    def refill():
        xs[:] = 3.0

    assert_same(*gradients_with_and_without_refill(build, refill))


@pytest.mark.parametrize("hoist", [False, True])
def test_the_network_copies_a_list_of_step_arrays(hoist: bool):
    net, _, params = network(hoist)
    steps = [np.random.default_rng(t).normal(size=(B, D)) for t in range(T)]

    def build():
        hs, _ = net(steps)
        return sum((h * h).sum() for h in hs), params

    def refill():
        for x in steps:
            x[:] = -2.0

    assert_same(*gradients_with_and_without_refill(build, refill))


@pytest.mark.parametrize("hoist", [False, True])
def test_the_network_copies_h0_arrays(hoist: bool):
    net, _, params = network(hoist)
    xs = np.random.default_rng(7).normal(size=(B, T, D))
    h0 = [np.random.default_rng(8).normal(size=(B, H)), np.random.default_rng(9).normal(size=(B, H))]

    def build():
        hs, _ = net(xs, h0=h0)
        return sum((h * h).sum() for h in hs), params

    def refill():
        for h in h0:
            h[:] = 1.0

    assert_same(*gradients_with_and_without_refill(build, refill))


def test_an_lstm_copies_its_h0_and_c0_arrays():
    net = rnn.RNN(cell=rnn.LSTMCell(D, H, rng=0))
    params = net.parameters()
    xs = np.random.default_rng(10).normal(size=(B, T, D))
    h0 = (np.random.default_rng(11).normal(size=(B, H)), np.random.default_rng(12).normal(size=(B, H)))

    def build():
        hs, _ = net(xs, h0=[h0])
        return sum((h * h).sum() for h in hs), params

    def refill():
        h0[0][:] = 1.0
        h0[1][:] = -1.0

    assert_same(*gradients_with_and_without_refill(build, refill))


@pytest.mark.parametrize("hoist", [False, True])
def test_the_network_copies_the_mask(hoist: bool):
    net, _, params = network(hoist)
    batch = rnn.pad_sequences([np.ones((T, D)), np.ones((2, D))])
    mask = batch.mask

    def build():
        hs, _ = net(batch.xs, mask=mask)
        return sum((h * h).sum() for h in hs), params

    def refill():
        mask[:] = 1.0

    assert_same(*gradients_with_and_without_refill(build, refill))


def test_carry_where_masked_copies_its_keep_column():
    new = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    old = tg.Tensor(np.zeros((2, 3)), requires_grad=True)
    keep = np.array([[True], [False]])
    out = CarryWhereMasked(keep)(new, old)
    keep[:] = True
    out.sum().backward()
    np.testing.assert_array_equal(new.grad, [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(old.grad, [[0, 0, 0], [1, 1, 1]])


def test_linear_copies_an_input_array():
    readout = rnn.Linear(H, V, rng=0)
    h = np.random.default_rng(13).normal(size=(B, H))

    def build():
        return (readout(h) ** 2).sum(), readout.parameters()

    def refill():
        h[:] = 0.0

    assert_same(*gradients_with_and_without_refill(build, refill))


@pytest.mark.parametrize("hoist", [False, True])
def test_the_network_copies_a_constant_input_tensor(hoist: bool):
    """The steps x_t of a constant Tensor (B, T, D) are new leaves: they hold a copy, not a view
    of the caller's tensor, which the caller may refill."""
    net, _, params = network(hoist)
    xs = tg.Tensor(np.random.default_rng(14).normal(size=(1, T, D)))

    def build():
        hs, _ = net(xs)
        return sum((h * h).sum() for h in hs), params

    def refill():
        xs.data[:] = 3.0

    assert_same(*gradients_with_and_without_refill(build, refill))
