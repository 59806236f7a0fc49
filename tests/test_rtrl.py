"""rnn.rtrl: real-time recurrent learning gives BPTT's gradient by the opposite route.

* Without an optimizer its accumulated .grad equals full BPTT's gradient of Σ_t L_t to 1e-10
  (float64), for 1 and 2 layers, tanh/relu/sigmoid/identity, B > 1, a learned h0, fused and
  hoisted cells, and steps without a loss.
* One step of its influence update is one batched tg.jvp through the cell.
* Online, with SGD after every step, it matches a hand-written numpy RTRL.
"""

from __future__ import annotations

import numpy as np
import pytest
from expect_error import expect

import rnn
import tinygraph as tg
from rnn.rtrl import Influence

B, T, D, H, V = 3, 7, 2, 4, 3


def problem(num_layers: int, nonlinearity, seed: int = 0, **options):
    net = rnn.RNN(D, H, num_layers=num_layers, nonlinearity=nonlinearity, rng=seed, **options)
    readout = rnn.Linear(H, V, rng=seed + 1)
    data = np.random.default_rng(seed + 2)
    xs = data.standard_normal((B, T, D))
    ys = data.integers(0, V, size=(B, T))

    def step_loss(t: int, h: tg.Tensor) -> tg.Tensor | None:
        if t == 2:
            return None  # a step without a loss
        return tg.cross_entropy(readout(h), ys[:, t])

    return net, readout, xs, step_loss


def bptt_gradients(net, readout, xs, step_loss, **call) -> tuple[list[np.ndarray], list[float]]:
    hs, _ = net(xs, **call)
    losses = [step_loss(t, h) for t, h in enumerate(hs)]
    kept = [loss for loss in losses if loss is not None]
    sum(kept[1:], kept[0]).backward()
    params = net.parameters() + readout.parameters()
    grads = [np.zeros_like(p.data) if p.grad is None else p.grad.copy() for p in params]
    for p in params:
        p.grad = None
    return grads, [float(loss.item()) for loss in kept]


CONFIGS = {
    "1 layer tanh": (1, "tanh", {}),
    "1 layer relu": (1, "relu", {}),
    "2 layers tanh": (2, "tanh", {}),
    "2 layers relu": (2, "relu", {}),
    "2 layers tanh over relu": (2, ["relu", "tanh"], {}),
    "1 layer sigmoid": (1, "sigmoid", {}),
    "2 layers identity": (2, "identity", {}),
    "learned h0": (2, "tanh", {"learn_h0": True}),
    "fused": (2, "tanh", {"fused": True}),
    "hoisted": (2, "relu", {"hoist_inputs": True}),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_rtrl_gives_full_bptts_gradient(name: str) -> None:
    num_layers, nonlinearity, options = CONFIGS[name]
    net, readout, xs, step_loss = problem(num_layers, nonlinearity, **options)
    expected, losses = bptt_gradients(net, readout, xs, step_loss)
    result = rnn.rtrl(net, xs, step_loss)
    params = net.parameters() + readout.parameters()
    for p, g in zip(params, expected):
        assert np.abs(g).max() > 1e-3, p.name  # every parameter really gets a gradient
        np.testing.assert_allclose(p.grad, g, rtol=1e-10, atol=1e-12, err_msg=p.name)
    np.testing.assert_allclose(result.losses, losses, rtol=1e-13)
    assert result.updates == T - 1
    hs, _ = net(xs)
    np.testing.assert_allclose(result.state[-1].data, hs[-1].data, rtol=1e-13)


def test_a_given_h0_is_a_constant_for_both_routes():
    net, readout, xs, step_loss = problem(2, "tanh", learn_h0=True)
    h0 = [np.full((B, H), 0.3), np.full((B, H), -0.2)]
    expected, _ = bptt_gradients(net, readout, xs, step_loss, h0=h0)
    rnn.rtrl(net, xs, step_loss, h0=h0)
    assert net.layers[0].h0.grad is None and net.layers[1].h0.grad is None  # unused, as in BPTT
    for p, g in zip(net.parameters() + readout.parameters(), expected):
        if p.grad is not None:
            np.testing.assert_allclose(p.grad, g, rtol=1e-10, atol=1e-12, err_msg=p.name)


def test_one_influence_step_is_a_batched_jvp_through_the_cell():
    """J_t = jvp of h_t = f(x W_xh + h_(t−1) W_hh + b) with tangents (e_p for each parameter
    entry p, J_(t−1) for h_(t−1)): K = P directions in one pass."""
    net, _, xs, _ = problem(1, "tanh")
    cell = net.layers[0]
    layout = Influence(net)
    P = layout.ends[0]
    rng = np.random.default_rng(5)
    x, h_prev = xs[:, 0], rng.standard_normal((B, H)) * 0.5
    J_prev = rng.standard_normal((B, P, H))
    h = np.tanh(x @ cell.W_xh.data + h_prev @ cell.W_hh.data + cell.b_h.data)
    ours = layout.step(0, cell, x, h_prev, h, J_prev, None)

    eye = np.eye(P)
    tangents = [eye[:, start:start + p.size].reshape(P, *p.shape)
                for p, start in zip(layout.params, layout.starts)]
    tangents.append(J_prev.transpose(1, 0, 2))  # (P, B, H): direction p moves h_prev by J_prev[:, p]

    def step(W_xh: tg.Tensor, W_hh: tg.Tensor, b_h: tg.Tensor, h: tg.Tensor) -> tg.Tensor:
        return tg.tanh(x @ W_xh + h @ W_hh + b_h)

    value, moved = tg.jvp(step, [cell.W_xh, cell.W_hh, cell.b_h, h_prev], tangents, batched=True)
    np.testing.assert_allclose(value.data, h, rtol=1e-15)
    np.testing.assert_allclose(ours, moved.transpose(1, 0, 2), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- online learning, by hand
def numpy_online_rtrl(W_xh, W_hh, b, W_hy, b_y, xs, ys, lr):
    """One tanh layer, softmax readout, SGD after every step, written out with one influence
    tensor per parameter (independent of rnn.rtrl's stacked layout):
        P_xh[b, j, d, k] = ∂h_j/∂W_xh[d, k],  P_hh[b, j, i, k] = ∂h_j/∂W_hh[i, k],  P_b[b, j, k].
    """
    W_xh, W_hh, b, W_hy, b_y = (a.copy() for a in (W_xh, W_hh, b, W_hy, b_y))
    batch, steps, width = xs.shape
    hidden = W_hh.shape[0]
    eye = np.eye(hidden)
    P_xh = np.zeros((batch, hidden, width, hidden))
    P_hh = np.zeros((batch, hidden, hidden, hidden))
    P_b = np.zeros((batch, hidden, hidden))
    h = np.zeros((batch, hidden))
    losses = []
    for t in range(steps):
        x = xs[:, t]
        h_new = np.tanh(x @ W_xh + h @ W_hh + b)
        slope = 1 - h_new**2
        P_xh = slope[:, :, None, None] * (np.einsum("ij,bidk->bjdk", W_hh, P_xh)
                                          + np.einsum("bd,jk->bjdk", x, eye))
        P_hh = slope[:, :, None, None] * (np.einsum("ij,bimk->bjmk", W_hh, P_hh)
                                          + np.einsum("bm,jk->bjmk", h, eye))
        P_b = slope[:, :, None] * (np.einsum("ij,bik->bjk", W_hh, P_b) + eye)
        h = h_new
        logits = h @ W_hy + b_y
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        losses.append(-np.log(p[np.arange(batch), ys[:, t]]).sum())
        d_logits = p.copy()
        d_logits[np.arange(batch), ys[:, t]] -= 1
        dh = d_logits @ W_hy.T
        grads = (np.einsum("bj,bjdk->dk", dh, P_xh), np.einsum("bj,bjmk->mk", dh, P_hh),
                 np.einsum("bj,bjk->k", dh, P_b), h.T @ d_logits, d_logits.sum(axis=0))
        W_xh, W_hh, b, W_hy, b_y = (w - lr * g for w, g in zip((W_xh, W_hh, b, W_hy, b_y), grads))
    return (W_xh, W_hh, b, W_hy, b_y), losses


def test_online_rtrl_with_sgd_matches_a_hand_written_numpy_rtrl():
    net = rnn.RNN(D, H, rng=3)
    readout = rnn.Linear(H, V, rng=4)
    data = np.random.default_rng(5)
    xs, ys = data.standard_normal((B, 12, D)), data.integers(0, V, size=(B, 12))
    cell = net.layers[0]
    start = [p.data.copy() for p in (cell.W_xh, cell.W_hh, cell.b_h, readout.W, readout.b)]
    expected, losses = numpy_online_rtrl(*start, xs, ys, lr=0.1)
    params = net.parameters() + readout.parameters()
    result = rnn.rtrl(net, xs, lambda t, h: tg.cross_entropy(readout(h), ys[:, t]),
                      optimizer=rnn.SGD(params, lr=0.1))
    assert result.updates == 12
    np.testing.assert_allclose(result.losses, losses, rtol=1e-12)
    for p, e, before in zip(params, expected, start):
        assert not np.allclose(p.data, before)  # it did learn
        np.testing.assert_allclose(p.data, e, rtol=1e-11, atol=1e-13, err_msg=p.name)


def test_online_learning_lowers_the_loss_of_a_simple_task():
    """Echo the input of the previous step: online RTRL learns it without any BPTT."""
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((4, 400, 1)) * 0.5
    net = rnn.RNN(1, 6, rng=1)
    readout = rnn.Linear(6, 1, rng=2)
    target = np.concatenate([np.zeros((4, 1, 1)), xs[:, :-1]], axis=1)
    result = rnn.rtrl(net, xs, lambda t, h: rnn.mse_loss(readout(h), target[:, t]),
                      optimizer=rnn.SGD(net.parameters() + readout.parameters(), lr=0.02))
    assert np.mean(result.losses[-50:]) < 0.05 * np.mean(result.losses[:50])


def test_float32_networks_carry_float32_influences():
    data = np.random.default_rng(9)
    xs, ys = data.standard_normal((B, T, D)), data.integers(0, V, size=(B, T))
    grads = {}
    for dtype in (np.float64, np.float32):
        net = rnn.RNN(D, H, rng=0, dtype=dtype)
        readout = rnn.Linear(H, V, rng=1, dtype=dtype)
        result = rnn.rtrl(net, xs.astype(dtype),
                          lambda t, h, readout=readout: tg.cross_entropy(readout(h), ys[:, t]))
        grads[dtype] = net.layers[0].W_hh.grad
        assert result.influence_bytes == B * (D * H + H * H + H) * H * np.dtype(dtype).itemsize
    assert grads[np.float32].dtype == np.float32
    np.testing.assert_allclose(grads[np.float32], grads[np.float64], rtol=1e-4, atol=1e-5)


def test_the_influence_matrices_grow_as_b_p_h():
    net, _, xs, _ = problem(2, "tanh")
    result = rnn.rtrl(net, xs, lambda t, h: None)
    P0 = D * H + H * H + H
    P1 = P0 + H * H + H * H + H
    assert result.influence_bytes == B * (P0 + P1) * H * 8
    assert result.losses == [] and result.updates == 0


BAD = {
    "lstm": (lambda: rnn.rtrl(rnn.RNN(cell=rnn.LSTMCell(2, 3)), np.zeros((1, 2, 2)),
                              lambda t, h: None),
             rnn.ConfigError, "rtrl: layer 0 is a LSTMCell; rtrl carries the influence matrices "
             "of Elman layers only (rnn.ElmanCell, any nonlinearity)"),
    "not a net": (lambda: rnn.rtrl(rnn.ElmanCell(2, 3), np.zeros((1, 2, 2)), lambda t, h: None),
                  tg.DTypeError, "rtrl: net must be an rnn.RNN, got a ElmanCell"),
    "step_loss": (lambda: rnn.rtrl(rnn.RNN(2, 3), np.zeros((1, 2, 2)), None), tg.DTypeError,
                  "rtrl: step_loss must be a function step_loss(t, h_t) -> scalar Tensor or None, "
                  "got a NoneType"),
    "optimizer": (lambda: rnn.rtrl(rnn.RNN(2, 3), np.zeros((1, 2, 2)), lambda t, h: None, "sgd"),
                  tg.DTypeError, "rtrl: optimizer must be an rnn optimizer (rnn.SGD, rnn.Adam) or "
                  "None, got a str"),
    "loss shape": (lambda: rnn.rtrl(rnn.RNN(2, 3), np.zeros((1, 2, 2)), lambda t, h: h),
                   tg.ShapeError, "rtrl: step_loss(0, h) returned a Tensor of shape (1, 3); the "
                   "loss must be a scalar"),
    "input width": (lambda: rnn.rtrl(rnn.RNN(2, 3), np.zeros((1, 2, 5)), lambda t, h: None),
                    tg.ShapeError, "rtrl (layer=0): input steps have shape (1, 5) but layer 0 "
                    "expects width D = 2"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_calls_are_our_errors(name: str) -> None:
    call, error, message = BAD[name]
    expect(error, call, message)
