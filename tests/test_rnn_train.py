"""Optimisers, clipping, the training loop, and a tiny task that must be learnt: echo the
symbol seen 3 steps ago."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import rnn
import tinygraph as tg

LAG, K, H = 3, 4, 16


def param(value, grad):
    p = tg.Tensor(np.array(value, dtype=float), requires_grad=True, name="p")
    p.grad = np.array(grad, dtype=float)
    return p


def test_sgd_with_momentum_by_hand():
    p = param([1.0], [2.0])
    opt = rnn.SGD([p], lr=0.1, momentum=0.9)
    opt.step()  # v = 2, p = 1 − 0.2
    assert p.data[0] == pytest.approx(0.8)
    p.grad = np.array([2.0])
    opt.step()  # v = 0.9·2 + 2 = 3.8, p = 0.8 − 0.38
    assert p.data[0] == pytest.approx(0.42)
    opt.zero_grad()
    assert p.grad is None


def test_adam_first_step_moves_by_lr_times_the_sign():
    p = param([1.0, -1.0, 0.5], [3.0, -0.01, 0.0])
    rnn.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [0.99, -0.99, 0.5], atol=1e-8)


def test_clip_grad_norm_rescales_all_gradients_together():
    a, b = param([0.0], [3.0]), param([0.0], [4.0])
    assert rnn.clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose([a.grad[0], b.grad[0]], [0.6, 0.8])
    assert rnn.clip_grad_norm([a, b], 10.0) == pytest.approx(1.0)
    np.testing.assert_allclose([a.grad[0], b.grad[0]], [0.6, 0.8])


def echo_batch(rng, batch: int, length: int):
    """One-hot symbols; the target at step t is the symbol of step t − 3."""
    symbols = rng.integers(0, K, size=(batch, length))
    targets = np.zeros((batch, length), dtype=int)
    targets[:, LAG:] = symbols[:, :-LAG]
    return np.eye(K)[symbols], targets


def test_echo_three_steps_back_is_learnt():
    rng = np.random.default_rng(0)
    net, readout = rnn.RNN(K, H, rng=1), rnn.Linear(H, K, rng=2)
    T = 10
    counted = np.ones((16, T))
    counted[:, :LAG] = 0  # the first steps have nothing to echo

    def loss_fn(batch):
        xs, y = batch
        hs, _ = net(xs)
        return rnn.sequence_cross_entropy([readout(h) for h in hs], y, mask=counted,
                                          reduction="mean")

    opt = rnn.Adam(net.parameters() + readout.parameters(), lr=0.03)
    history = rnn.train(loss_fn, lambda epoch: [echo_batch(rng, 16, T) for _ in range(10)],
                        opt, epochs=20, clip_norm=5.0, progress=False)
    assert history[0] > 0.8 and history[-1] < 0.05
    xs, y = echo_batch(rng, 64, T)
    hs, _ = net(xs)
    predicted = np.stack([readout(h).data.argmax(axis=1) for h in hs], axis=1)
    assert (predicted[:, LAG:] == y[:, LAG:]).mean() > 0.98


def test_echo_on_one_long_stream_with_truncated_bptt():
    rng = np.random.default_rng(3)
    net, readout = rnn.RNN(K, H, rng=4), rnn.Linear(H, K, rng=5)
    opt = rnn.Adam(net.parameters() + readout.parameters(), lr=0.03)
    xs, y = echo_batch(rng, 8, 600)

    def step_loss(t, h):
        return None if t < LAG else tg.cross_entropy(readout(h), y[:, t], reduction="mean")

    result = rnn.tbptt(net, xs, step_loss, k1=5, k2=8, optimizer=opt, clip_norm=5.0)
    assert result.updates == 120
    assert np.mean(result.losses[:5]) > 5 * 0.8 and np.mean(result.losses[-10:]) < 5 * 0.1


def test_train_prints_one_line_per_epoch_without_tqdm(monkeypatch):
    train_module = importlib.import_module("rnn.training")
    monkeypatch.setattr(train_module, "_progress_bar", lambda epochs: None)
    p = tg.Tensor(np.array([2.0]), requires_grad=True)
    lines = []
    history = rnn.train(lambda batch: (p * p).sum(), [None], rnn.SGD([p], lr=0.25), epochs=2,
                        log=lines.append)
    assert history == [4.0, 1.0]  # p: 2 → 1 (grad 4, lr 0.25), loss 4 then 1
    assert lines == ["epoch 1/2  loss 4.0000", "epoch 2/2  loss 1.0000"]
