"""Truncated BPTT: what gradient it computes, and that k2 >= T is full BPTT."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg

B, T, D, H, V = 2, 6, 3, 4, 3


def setup(seed: int = 0):
    rng = np.random.default_rng(seed)
    net = rnn.RNN(D, H, num_layers=2, rng=seed)
    readout = rnn.Linear(H, V, rng=seed + 1)
    xs = rng.normal(size=(B, T, D))
    y = rng.integers(0, V, size=(B, T))
    params = net.parameters() + readout.parameters()

    def step_loss(t: int, h: tg.Tensor) -> tg.Tensor:
        return tg.cross_entropy(readout(h), y[:, t])

    return net, readout, xs, y, params, step_loss


def grads_of(params):
    return [np.zeros_like(p.data) if p.grad is None else p.grad.copy() for p in params]


def full_bptt(net, xs, step_loss, params):
    hs, _ = net(xs)
    total = sum((step_loss(t, h) for t, h in enumerate(hs)), tg.Tensor(0.0))
    return tg.grad(total, params), total.item()


@pytest.mark.parametrize("k1", [1, 2, 4, T])
@pytest.mark.parametrize("k2", [T, T + 3])
def test_k2_at_least_T_accumulates_the_full_bptt_gradient(k1, k2):
    net, _, xs, _, params, step_loss = setup()
    want, want_loss = full_bptt(net, xs, step_loss, params)
    rnn.zero_grad(params)
    result = rnn.tbptt(net, xs, step_loss, k1=max(1, min(k1, k2)), k2=k2)
    for got, w in zip(grads_of(params), want):
        np.testing.assert_allclose(got, w, atol=1e-12)
    assert sum(result.losses) == pytest.approx(want_loss, abs=1e-12)
    assert result.updates == -(-T // k1)


def test_small_k2_differs_from_full_bptt_and_equals_the_chunked_scheme():
    net, _, xs, _, params, step_loss = setup()
    full, _ = full_bptt(net, xs, step_loss, params)
    rnn.zero_grad(params)
    rnn.tbptt(net, xs, step_loss, k1=2, k2=2)
    got = grads_of(params)
    assert max(np.abs(g - f).max() for g, f in zip(got, full)) > 1e-3

    # By hand: chunks [0, 2), [2, 4), [4, 6), each starting from the previous chunk's final
    # state as a constant.
    want = [np.zeros_like(p.data) for p in params]
    state = None
    for start in range(0, T, 2):
        hs, state = net.forward_states(xs[:, start:start + 2], state, t0=start)
        total = step_loss(start, hs[0]) + step_loss(start + 1, hs[1])
        for w, g in zip(want, tg.grad(total, params)):
            w += g
        state = [tg.Tensor(s.data) for s in state]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12)


@pytest.mark.parametrize(("k1", "k2", "cut", "uncut"), [(2, 4, 2, 4), (4, 5, 1, 4)])
def test_k2_greater_than_k1_cuts_at_t_minus_k2(k1, k2, cut, uncut):
    net, _, xs, _, params, step_loss = setup(1)
    rnn.zero_grad(params)
    rnn.tbptt(net, xs, step_loss, k1=k1, k2=k2)
    # k1=2, k2=4: updates at t = 2, 4, 6. Windows: [0, 2) with L0 + L1; [0, 4) with L2 + L3;
    # [2, 6) with L4 + L5, the state entering step 2 held constant.
    # k1=4, k2=5: updates at t = 4, 6. Windows [0, 4) with L0..L3; [1, 6) with L4 + L5.
    hs, _ = net(xs)
    first = sum((step_loss(t, hs[t]) for t in range(uncut)), tg.Tensor(0.0))
    want = tg.grad(first, params)
    _, entering = net.forward_states(xs[:, :cut])
    hs2, _ = net.forward_states(xs[:, cut:], [tg.Tensor(s.data) for s in entering], t0=cut)
    last = step_loss(4, hs2[4 - cut]) + step_loss(5, hs2[5 - cut])
    for w, g in zip(want, tg.grad(last, params)):
        w += g
    for g, w in zip(grads_of(params), want):
        np.testing.assert_allclose(g, w, atol=1e-12)


def test_window_steps_keep_their_absolute_time_scope():
    net, _, xs, _, _, _ = setup()
    hs, _ = net.forward_states(xs[:, 4:], t0=4)
    assert hs[0].producer.scope == {"t": 4, "layer": 1}


def test_with_an_optimizer_it_updates_after_every_block():
    net, _, xs, _, params, step_loss = setup(2)
    before = [p.data.copy() for p in params]
    opt = rnn.SGD(params, lr=0.1)
    result = rnn.tbptt(net, xs, step_loss, k1=3, k2=3, optimizer=opt, clip_norm=1.0)
    assert result.updates == 2 and len(result.losses) == 2
    assert all(np.abs(p.data - b).max() > 0 for p, b in zip(params, before))
    assert len(result.state) == 2 and result.state[0].producer is None
    assert result.state[1].shape == (B, H)


def test_k2_below_k1_is_refused():
    net, _, xs, _, _, step_loss = setup()
    with pytest.raises(rnn.ConfigError, match="k2=1 < k1=2"):
        rnn.tbptt(net, xs, step_loss, k1=2, k2=1)
