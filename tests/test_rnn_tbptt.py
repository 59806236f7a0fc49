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


@pytest.mark.parametrize(("k1", "k2", "cut", "uncut"), [(2, 4, 2, 4), (4, 5, 3, 4)])
def test_k2_greater_than_k1_cuts_at_t_minus_k2(k1, k2, cut, uncut):
    net, _, xs, _, params, step_loss = setup(1)
    rnn.zero_grad(params)
    rnn.tbptt(net, xs, step_loss, k1=k1, k2=k2)
    # k1=2, k2=4: updates at t = 2, 4, 6. Windows: [0, 2) with L0 + L1; [0, 4) with L2 + L3;
    # [2, 6) with L4 + L5, the state entering step 2 held constant.
    # k1=4, k2=5: updates at t = 4, 6. Windows [0, 4) with L0..L3; [3, 6) with L4 + L5 (the
    # last block [4, 6) looks back k2 − k1 = 1 step before its first step).
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


# ---------------------------------------------------------------- a last block shorter than k1
def scalar_net() -> rnn.RNN:
    """RNN(1, 1) with W_xh = .5, W_hh = .9, b_h = .1: the worked example of the module doc."""
    net = rnn.RNN(1, 1, rng=0)
    cell = net.layers[0]
    cell.W_xh.data[:], cell.W_hh.data[:], cell.b_h.data[:] = 0.5, 0.9, 0.1
    return net


SCALAR_XS = np.array([[[1.0], [-1.0], [0.5], [2.0]]])  # B=1, T=4, D=1


def test_chunked_scheme_with_a_short_last_chunk_matches_the_worked_example():
    """k1 = k2 = 3, T = 4: chunks [0, 3) and [3, 4), the second from the detached h_2."""
    net = scalar_net()
    rnn.tbptt(net, SCALAR_XS, lambda t, h: h.sum(), k1=3, k2=3)
    assert net.layers[0].W_hh.grad.item() == pytest.approx(1.0836925626720177, abs=1e-12)


def test_chunked_scheme_with_a_short_last_chunk_matches_torch():
    torch = pytest.importorskip("torch")
    net = scalar_net()
    rnn.tbptt(net, SCALAR_XS, lambda t, h: h.sum(), k1=3, k2=3)
    W_xh, W_hh, b_h = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                       for v in (0.5, 0.9, 0.1))
    h = torch.zeros((), dtype=torch.float64)
    for start in (0, 3):
        h = h.detach()  # each chunk back-propagates through itself only
        loss = 0.0
        for t in range(start, min(start + 3, 4)):
            h = torch.tanh(W_xh * SCALAR_XS[0, t, 0] + W_hh * h + b_h)
            loss = loss + h
        loss.backward()
    cell = net.layers[0]
    for ours, theirs in ((cell.W_xh, W_xh), (cell.W_hh, W_hh), (cell.b_h, b_h)):
        assert ours.grad.item() == pytest.approx(theirs.grad.item(), abs=1e-12)


def chunked_by_hand(net, xs, step_loss, params, k):
    """Chunks [0, k), [k, 2k), ..., the last one shorter, each from the previous chunk's final
    state as a constant: the sum of the chunks' gradients."""
    want = [np.zeros_like(p.data) for p in params]
    state = None
    length = xs.shape[1]
    for start in range(0, length, k):
        hs, state = net.forward_states(xs[:, start:start + k], state, t0=start)
        total = sum((step_loss(start + i, h) for i, h in enumerate(hs)), tg.Tensor(0.0))
        for w, g in zip(want, tg.grad(total, params)):
            w += g
        state = [tg.Tensor(s.data) for s in state]
    return want


@pytest.mark.parametrize("k", [4, 5])
@pytest.mark.parametrize("hoist", [False, True])
def test_chunked_scheme_when_T_is_not_a_multiple_of_k(k, hoist):
    net, _, xs, _, params, step_loss = setup(3)
    net.hoist_inputs = hoist
    want = chunked_by_hand(net, xs, step_loss, params, k)
    rnn.zero_grad(params)
    result = rnn.tbptt(net, xs, step_loss, k1=k, k2=k)
    for got, w in zip(grads_of(params), want):
        np.testing.assert_allclose(got, w, rtol=0, atol=1e-12)
    assert result.updates == 2


@pytest.mark.parametrize("hoist", [False, True])
def test_k2_above_k1_with_a_short_last_block_looks_back_k2_minus_k1_steps(hoist):
    """T = 7, k1 = 3, k2 = 5: blocks [0, 3), [3, 6), [6, 7). Each block looks back k2 − k1 = 2
    steps before its first step: windows [0, 3) with L0..L2, [1, 6) with L3..L5, [4, 7) with L6."""
    net = rnn.RNN(D, H, num_layers=2, rng=4, hoist_inputs=hoist)
    readout = rnn.Linear(H, V, rng=5)
    data = np.random.default_rng(6)
    xs = data.normal(size=(B, 7, D))
    y = data.integers(0, V, size=(B, 7))
    params = net.parameters() + readout.parameters()

    def step_loss(t, h):
        return tg.cross_entropy(readout(h), y[:, t])

    want = [np.zeros_like(p.data) for p in params]
    for start, first, end in ((0, 0, 3), (1, 3, 6), (4, 6, 7)):
        _, entering = net.forward_states(xs[:, :start]) if start else (None, None)
        state = None if entering is None else [tg.Tensor(s.data) for s in entering]
        hs, _ = net.forward_states(xs[:, start:end], state, t0=start)
        total = sum((step_loss(t, hs[t - start]) for t in range(first, end)), tg.Tensor(0.0))
        for w, g in zip(want, tg.grad(total, params)):
            w += g
    rnn.zero_grad(params)
    rnn.tbptt(net, xs, step_loss, k1=3, k2=5)
    for got, w in zip(grads_of(params), want):
        np.testing.assert_allclose(got, w, rtol=0, atol=1e-12)
