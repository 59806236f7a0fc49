"""BPTT on the engine equals the hand-written numpy BPTT (tests/bptt_reference.py) and torch."""

from __future__ import annotations

import bptt_reference as ref
import numpy as np
import pytest

import rnn
import tinygraph as tg

B, T, D, H, V = 3, 5, 4, 6, 3


def build(layers: int, nonlinearity, seed: int = 0, learn_h0: bool = False):
    net = rnn.RNN(D, H, num_layers=layers, nonlinearity=nonlinearity, rng=seed,
                  learn_h0=learn_h0)
    readout = rnn.Linear(H, V, rng=seed + 100)
    return net, readout


def data(seed: int = 1):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(B, T, D))
    return xs, rng.integers(0, V, size=(B, T)), rng.integers(0, V, size=B)


def engine_loss(net, readout, xs, y_seq, y_last, many_to_one):
    hs, h_last = net(xs)
    if many_to_one:
        return rnn.last_step_cross_entropy(readout(h_last[-1]), y_last)
    return rnn.sequence_cross_entropy([readout(h) for h in hs], y_seq)


def named(net, readout):
    return {**net.named_parameters(), **readout.named_parameters()}


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("many_to_one", [False, True])
def test_gradients_equal_numpy_bptt(layers, nonlinearity, many_to_one):
    net, readout = build(layers, nonlinearity)
    xs, y_seq, y_last = data()
    loss = engine_loss(net, readout, xs, y_seq, y_last, many_to_one)
    loss.backward()
    params = {k: p.data for k, p in named(net, readout).items()}
    want_loss, want = ref.bptt(params, xs, y_last if many_to_one else y_seq,
                               [nonlinearity] * layers, many_to_one=many_to_one)
    assert loss.item() == pytest.approx(want_loss, abs=1e-10)
    for name, p in named(net, readout).items():
        np.testing.assert_allclose(p.grad, want[name], rtol=0, atol=1e-10, err_msg=name)
    assert np.abs(want["layer0.W_hh"]).max() > 1e-3  # the test can fail: gradients are not 0


def test_mixed_nonlinearities_per_layer_and_learned_h0():
    kinds = ["tanh", "relu", "sigmoid"]
    net, readout = build(3, kinds, seed=3, learn_h0=True)
    for layer in net.layers:
        layer.h0.data = np.random.default_rng(7).normal(size=H) * 0.5
    xs, y_seq, _ = data(2)
    hs, _ = net(xs)
    rnn.sequence_cross_entropy([readout(h) for h in hs], y_seq).backward()
    params = {k: p.data for k, p in named(net, readout).items() if not k.endswith("h0")}
    h0 = [np.tile(layer.h0.data, (B, 1)) for layer in net.layers]
    _, want = ref.bptt(params, xs, y_seq, kinds, h0=h0)
    for name in params:
        np.testing.assert_allclose(named(net, readout)[name].grad, want[name], atol=1e-10)
    for k, layer in enumerate(net.layers):
        assert layer.h0.name == f"layer{k}.h0"
        np.testing.assert_allclose(layer.h0.grad, want[f"h0.layer{k}"].sum(axis=0), atol=1e-10)


def test_hidden_states_match_reference_forward():
    net, _ = build(2, "tanh")
    xs, _, _ = data()
    hs, h_last = net(xs)
    params = {k: p.data for k, p in net.named_parameters().items()}
    cache = ref.forward(params, xs, ["tanh", "tanh"])
    for t in range(T):
        np.testing.assert_allclose(hs[t].data, cache["h"][1][t + 1], atol=1e-14)
    np.testing.assert_allclose(h_last[0].data, cache["h"][0][T], atol=1e-14)
    assert len(hs) == T and len(h_last) == 2 and hs[0].shape == (B, H)


def test_each_step_is_scoped_and_named():
    net, _ = build(2, "tanh")
    xs, _, _ = data()
    hs, h_last = net(xs)
    assert hs[3].name == "h" and hs[3].producer.scope == {"t": 3, "layer": 1}
    assert h_last[0].producer.scope == {"t": T - 1, "layer": 0}
    pre = h_last[0].producer.inputs[0]                      # x W_xh + h W_hh + b_h
    summed = pre.producer.inputs[0].producer                  # x W_xh + h W_hh
    x_term, h_term = (t.producer for t in summed.inputs)
    assert x_term.inputs[0].name == "x" and x_term.inputs[1].name == "layer0.W_xh"
    assert h_term.inputs[0].name == "h" and h_term.inputs[1].name == "layer0.W_hh"
    assert h_term.inputs[0].producer.scope == {"t": T - 2, "layer": 0}


def test_node_creation_order_is_time_major():
    net, _ = build(2, "tanh")
    xs, _, _ = data()
    hs, _ = net(xs)
    first_of_t1 = hs[1].producer
    last_of_t0 = hs[0].producer
    layer0_t1 = first_of_t1.inputs[0].producer.inputs[0].producer.inputs[0].producer
    assert last_of_t0.id < layer0_t1.id < first_of_t1.id


def test_torch_rnn_oracle():
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    layers = 2
    net, readout = build(layers, "tanh", seed=5)
    xs, y_seq, _ = data(4)
    hs, _ = net(xs)
    rnn.sequence_cross_entropy([readout(h) for h in hs], y_seq).backward()

    model = torch.nn.RNN(D, H, num_layers=layers, nonlinearity="tanh", batch_first=True)
    lin = torch.nn.Linear(H, V)
    with torch.no_grad():
        for k, cell in enumerate(net.layers):
            getattr(model, f"weight_ih_l{k}").copy_(torch.tensor(cell.W_xh.data.T))
            getattr(model, f"weight_hh_l{k}").copy_(torch.tensor(cell.W_hh.data.T))
            getattr(model, f"bias_ih_l{k}").copy_(torch.tensor(cell.b_h.data))
            getattr(model, f"bias_hh_l{k}").zero_()  # two torch biases, one of ours
        lin.weight.copy_(torch.tensor(readout.W.data.T))
        lin.bias.copy_(torch.tensor(readout.b.data))
    out, _ = model(torch.tensor(xs))
    logits = lin(out)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V),
                                             torch.tensor(y_seq).reshape(-1), reduction="sum")
    loss.backward()
    for k, cell in enumerate(net.layers):
        np.testing.assert_allclose(cell.W_xh.grad, getattr(model, f"weight_ih_l{k}").grad.T,
                                   atol=1e-10)
        np.testing.assert_allclose(cell.W_hh.grad, getattr(model, f"weight_hh_l{k}").grad.T,
                                   atol=1e-10)
        np.testing.assert_allclose(cell.b_h.grad, getattr(model, f"bias_ih_l{k}").grad,
                                   atol=1e-10)
        np.testing.assert_allclose(cell.b_h.grad, getattr(model, f"bias_hh_l{k}").grad,
                                   atol=1e-10)
    np.testing.assert_allclose(readout.W.grad, lin.weight.grad.numpy().T, atol=1e-10)


def test_gradcheck_numerical_agrees_on_a_small_stack():
    net, readout = build(2, "tanh", seed=9)
    xs, y_seq, _ = data(9)
    W = net.layers[0].W_hh

    def loss():
        hs, _ = net(xs)
        return rnn.sequence_cross_entropy([readout(h) for h in hs], y_seq)

    (analytic,) = tg.grad(loss(), [W])
    eps = 1e-6
    numeric = np.zeros_like(W.data)
    base = W.data.copy()
    for index in np.ndindex(*W.shape):
        for sign in (1, -1):
            W.data = base.copy()
            W.data[index] += sign * eps
            numeric[index] += sign * loss().item() / (2 * eps)
    W.data = base
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("with_mask", [False, True])
def test_hoisted_inputs_give_the_same_values_and_gradients(layers, with_mask):
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((3, 6, 2))
    mask = np.ones((3, 6))
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    results = []
    for hoist in (False, True):
        net = rnn.RNN(2, 4, num_layers=layers, nonlinearity=["tanh", "relu", "tanh"][:layers],
                      rng=0, hoist_inputs=hoist)
        hs, h_last = net(xs, mask=mask if with_mask else None)
        loss = sum(((h * h).sum() for h in hs), h_last[0].sum())
        grads = tg.grad(loss, net.parameters())
        results.append((loss.item(), [h.data for h in hs], grads))
    (loss_a, hs_a, grads_a), (loss_b, hs_b, grads_b) = results
    assert loss_b == pytest.approx(loss_a, rel=1e-12)
    for a, b in zip(hs_a + grads_a, hs_b + grads_b):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("form", ["tensor", "list"])
def test_hoisted_inputs_pass_the_same_gradient_to_inputs_that_need_one(form):
    """The hoisted unroll lays the inputs out time-major (T, B, D): through a transpose node for
    a (B, T, D) Tensor, through a stack for a list of steps. dL/dx must not change."""
    data = np.random.default_rng(3).standard_normal((2, 5, 3))
    results = []
    for hoist in (False, True):
        if form == "tensor":
            xs = tg.Tensor(data, requires_grad=True)
            leaves = [xs]
        else:
            xs = [tg.Tensor(data[:, t], requires_grad=True) for t in range(5)]
            leaves = xs
        net = rnn.RNN(3, 4, num_layers=2, rng=1, hoist_inputs=hoist)
        hs, _ = net(xs)
        loss = sum((h * h).sum() for h in hs)
        results.append((loss.item(), tg.grad(loss, leaves)))
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert loss_b == pytest.approx(loss_a, rel=1e-12)
    for a, b in zip(grads_a, grads_b):
        assert np.abs(a).max() > 1e-3  # a gradient that is really there
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_hoisting_is_refused_for_fused_cells():
    with pytest.raises(rnn.ConfigError, match="hoist_inputs"):
        rnn.RNN(2, 3, fused=True, hoist_inputs=True)
