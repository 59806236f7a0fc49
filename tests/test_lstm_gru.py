"""LSTMCell and GRUCell: hand-worked steps, central differences, torch.nn.LSTM / GRU as oracle."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import central_difference

import rnn
import tinygraph as tg

B, T, D, H = 3, 5, 2, 4


def weighted_loss(net: rnn.RNN, xs: np.ndarray, weights: np.ndarray) -> tg.Tensor:
    """L = Σ_t Σ w_t ⊙ h_t: every step's output matters, with unequal weights."""
    hs, _ = net(xs)
    return sum((h * weights[:, t]).sum() for t, h in enumerate(hs))


def sequence_and_weights(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, D)), rng.standard_normal((B, T, H))


# --- worked steps ------------------------------------------------------------------------------

def zero_weights(cell):
    for p in cell.parameters():
        p.data = np.zeros_like(p.data)
    return cell


def test_lstm_step_with_zero_weights_halves_the_cell_state():
    # all pre-activations 0: i = f = o = σ(0) = 1/2, g = tanh(0) = 0, so c = c_prev/2, h = tanh(c)/2
    cell = zero_weights(rnn.LSTMCell(1, 1))
    c_prev = tg.Tensor([[1.0]], requires_grad=True)
    h, c = cell.step(tg.Tensor([[3.0]]), (tg.Tensor([[0.0]]), c_prev))
    assert c.item() == 0.5
    assert h.item() == pytest.approx(0.5 * np.tanh(0.5), abs=1e-15)
    (dc,) = tg.grad(c, [c_prev])
    assert dc.item() == 0.5  # ∂c_t/∂c_(t−1) = f: no W, no tanh' on the cell-state path
    assert (h.name, c.name) == ("h", "c")


def test_lstm_gate_values_follow_torch_order_i_f_g_o():
    cell = zero_weights(rnn.LSTMCell(1, 1))
    cell.b_ih.data = np.array([0.0, 100.0, 0.5, -100.0])  # i = 1/2, f = 1, g = tanh(.5), o = 0
    h, c = cell.step(tg.Tensor([[0.0]]), (tg.Tensor([[0.0]]), tg.Tensor([[2.0]])))
    assert c.item() == pytest.approx(2.0 + 0.5 * np.tanh(0.5), abs=1e-15)
    assert h.item() == pytest.approx(0.0, abs=1e-40)


def test_gru_step_by_hand():
    # z from b_hh = 0 -> 1/2; r = 1/2; n = tanh(b_in + r (h W_hn + b_hn)) with W_hn = 2, b_hn = 1
    cell = zero_weights(rnn.GRUCell(1, 1))
    cell.W_hh.data = np.array([[0.0, 0.0, 2.0]])
    cell.b_hh.data = np.array([0.0, 0.0, 1.0])
    cell.b_ih.data = np.array([0.0, 0.0, 0.25])
    h_prev = tg.Tensor([[0.5]])
    h = cell.step(tg.Tensor([[7.0]]), h_prev)
    n = np.tanh(0.25 + 0.5 * (2.0 * 0.5 + 1.0))  # r multiplies the bias b_hn too, as in torch
    assert h.item() == pytest.approx(0.5 * n + 0.5 * 0.5, abs=1e-15)


# --- the cells inside rnn.RNN ------------------------------------------------------------------

def test_cells_plug_into_rnn_and_are_renamed_per_layer():
    net = rnn.RNN(cell=[rnn.LSTMCell(D, H, rng=0), rnn.GRUCell(H, 3, rng=1)], num_layers=2)
    hs, h_last = net(np.ones((B, T, D)))
    assert len(hs) == T and hs[-1].shape == (B, 3)
    assert [h.shape for h in h_last] == [(B, H), (B, 3)]
    assert list(net.named_parameters()) == [
        "layer0.W_ih", "layer0.W_hh", "layer0.b_ih", "layer0.b_hh",
        "layer1.W_ih", "layer1.W_hh", "layer1.b_ih", "layer1.b_hh",
    ]
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(D, 4 * H), (H, 4 * H), (4 * H,), (4 * H,), (H, 9), (3, 9), (9,), (9,)]
    assert hs[2].producer.scope == {"t": 2, "layer": 1}


def test_forget_bias_is_added_to_the_forget_block_only():
    plain, biased = rnn.LSTMCell(D, H, rng=5), rnn.LSTMCell(D, H, rng=5, forget_bias=1.0)
    diff = biased.b_ih.data - plain.b_ih.data
    np.testing.assert_array_equal(diff, np.r_[np.zeros(H), np.ones(H), np.zeros(2 * H)])
    np.testing.assert_array_equal(biased.b_hh.data, plain.b_hh.data)


def test_initialisation_is_uniform_within_one_over_sqrt_h():
    cell = rnn.GRUCell(D, 16, rng=0)
    for p in cell.parameters():
        assert np.abs(p.data).max() <= 0.25
        assert np.abs(p.data).max() > 0.2


def test_cell_state_is_a_junction_in_the_backward_trace():
    net = rnn.RNN(cell=rnn.LSTMCell(D, H, rng=0))
    hs, _ = net(np.ones((1, 3, D)))
    trace = tg.trace_backward(hs[-1].sum())
    c_junctions = [s for s in trace.junctions() if s.tensor.name == "c"]
    # c_0 and c_1 are read by f ⊙ c at the next step and by tanh(c) for their own h
    assert sorted(s.scope["t"] for s in c_junctions) == [0, 1]
    for step in c_junctions:
        ops = sorted(c.source.op.name for c in step.contributions)
        assert len(ops) == 2 and "tanh" in ops
        np.testing.assert_allclose(step.total, sum(c.grad for c in step.contributions), atol=1e-15)


def test_gate_tensors_are_named_for_the_picture():
    cell = rnn.LSTMCell(D, H, rng=0)
    h, _ = cell.step(tg.Tensor(np.ones((1, D))), cell.initial_state(1))
    names, stack = set(), [h.producer]
    while stack:
        node = stack.pop()
        for t in node.inputs:
            if t.name:
                names.add(t.name)
            if t.producer is not None:
                stack.append(t.producer)
    assert {"i", "f", "g", "o", "c", "W_ih", "W_hh", "b_ih", "b_hh"} <= names


@pytest.mark.parametrize("make", [rnn.LSTMCell, rnn.GRUCell])
def test_wrong_shapes_name_cell_scope_and_shapes(make):
    cell = make(D, H)
    state = cell.initial_state(3)
    with tg.scope(t=4, layer=1), pytest.raises(
            tg.ShapeError, match=r"Cell\.step \(t=4, layer=1\): x_t has shape \(3, 5\).*\(B, 2\)"):
        cell.step(tg.Tensor(np.ones((3, 5))), state)
    with pytest.raises(tg.ShapeError, match=r"h_prev has shape \(2, 4\), expected \(3, 4\)"):
        cell.step(tg.Tensor(np.ones((3, D))), cell.initial_state(2))


@pytest.mark.parametrize("make", [rnn.LSTMCell, rnn.GRUCell])
def test_bad_sizes_raise_config_errors(make):
    with pytest.raises(rnn.ConfigError, match="hidden_size must be a positive int, got 0"):
        make(3, 0)


def test_padded_lstm_batch_equals_each_sequence_alone():
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, D)) for n in (4, 2)]
    padded = rnn.pad_sequences(seqs)
    net = rnn.RNN(cell=rnn.LSTMCell(D, H, rng=1))
    _, states = net.forward_states(padded.xs, mask=padded.mask)
    for i, seq in enumerate(seqs):
        _, alone = net.forward_states(seq[None])
        for ours, ref in zip(states[0], alone[0]):
            np.testing.assert_allclose(ours.data[i], ref.data[0], atol=1e-14)


# --- gradients: central differences -----------------------------------------------------------

@pytest.mark.parametrize("make", [rnn.LSTMCell, rnn.GRUCell])
def test_gradients_match_central_differences(make):
    xs, weights = sequence_and_weights(7)
    net = rnn.RNN(cell=make(D, H, rng=2))
    params = net.parameters()
    analytic = tg.grad(weighted_loss(net, xs, weights), params)

    def value() -> float:
        with tg.no_grad():
            return weighted_loss(net, xs, weights).item()

    for p, g in zip(params, analytic):
        numeric = central_difference(value, p.data)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8, err_msg=p.name)


@pytest.mark.parametrize("make", [rnn.LSTMCell, rnn.GRUCell])
def test_input_and_initial_state_gradients_match_central_differences(make):
    xs, weights = sequence_and_weights(8)
    cell = make(D, H, rng=4)
    net = rnn.RNN(cell=cell)
    x = tg.Tensor(xs, requires_grad=True)
    h0 = cell.initial_state(B)
    state = tuple(tg.Tensor(s.data + 0.3, requires_grad=True) for s in h0) if isinstance(
        h0, tuple) else tg.Tensor(h0.data + 0.3, requires_grad=True)
    leaves = [x, *(state if isinstance(state, tuple) else (state,))]

    def loss() -> tg.Tensor:
        hs, _ = net(x, h0=[state])
        return sum((h * weights[:, t]).sum() for t, h in enumerate(hs))

    analytic = tg.grad(loss(), leaves)
    for leaf, g in zip(leaves, analytic):
        numeric = central_difference(lambda: loss().item(), leaf.data)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", [rnn.LSTMCell, rnn.GRUCell])
def test_cells_pass_tg_gradcheck(make):
    xs, weights = sequence_and_weights(9)
    net = rnn.RNN(cell=make(D, H, rng=3))
    report = tg.gradcheck(lambda: weighted_loss(net, xs, weights), net.parameters(),
                          atol=1e-8, rtol=1e-6)
    assert report.ok, str(report)


def test_lstm_backward_drawing_shows_the_gates_and_the_cell_state_junctions():
    net = rnn.RNN(cell=rnn.LSTMCell(D, H, rng=0))
    hs, _ = net(np.ones((1, 3, D)))
    dot = tg.to_dot(hs[-1].sum(), view="both")
    assert dot == tg.to_dot(hs[-1].sum(), view="both")  # deterministic
    for text in ("∂L/∂c", "∂L/∂f", "∂L/∂i", "∂L/∂g", "∂L/∂o", "layer0.W_hh", "t = 2"):
        assert text in dot, text


# --- torch.nn.LSTM / GRU as oracle ------------------------------------------------------------

def torch_twin(cell):
    torch = pytest.importorskip("torch")
    kind = torch.nn.LSTM if isinstance(cell, rnn.LSTMCell) else torch.nn.GRU
    twin = kind(cell.input_size, cell.hidden_size, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # the documented mapping: weight = W.T, biases as they are
        twin.weight_ih_l0.copy_(torch.tensor(cell.W_ih.data.T))
        twin.weight_hh_l0.copy_(torch.tensor(cell.W_hh.data.T))
        twin.bias_ih_l0.copy_(torch.tensor(cell.b_ih.data))
        twin.bias_hh_l0.copy_(torch.tensor(cell.b_hh.data))
    return torch, twin


@pytest.mark.parametrize("make", [rnn.LSTMCell, rnn.GRUCell])
def test_outputs_and_gradients_match_torch(make):
    cell = make(D, H, rng=11)
    torch, twin = torch_twin(cell)
    xs, weights = sequence_and_weights(12)
    net = rnn.RNN(cell=cell)
    x = tg.Tensor(xs, requires_grad=True)
    hs, _ = net(x)
    loss = sum((h * weights[:, t]).sum() for t, h in enumerate(hs))
    ours = tg.grad(loss, [x, *cell.parameters()])

    tx = torch.tensor(xs, requires_grad=True)
    out, _ = twin(tx)
    tloss = (out * torch.tensor(weights)).sum()
    theirs = torch.autograd.grad(tloss, [tx, twin.weight_ih_l0, twin.weight_hh_l0,
                                         twin.bias_ih_l0, twin.bias_hh_l0])
    np.testing.assert_allclose(np.stack([h.data for h in hs], axis=1), out.detach().numpy(),
                               atol=1e-12)
    assert loss.item() == pytest.approx(tloss.item(), abs=1e-10)
    transposed = (False, True, True, False, False)
    for g, tgrad, flip in zip(ours, theirs, transposed):
        expected = tgrad.numpy().T if flip else tgrad.numpy()
        np.testing.assert_allclose(g, expected, atol=1e-10)


def test_lstm_final_cell_state_matches_torch():
    cell = rnn.LSTMCell(D, H, rng=13)
    torch, twin = torch_twin(cell)
    xs, _ = sequence_and_weights(14)
    _, states = rnn.RNN(cell=cell).forward_states(xs)
    _, (h_n, c_n) = twin(torch.tensor(xs))
    np.testing.assert_allclose(states[0][0].data, h_n[0].detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(states[0][1].data, c_n[0].detach().numpy(), atol=1e-12)
