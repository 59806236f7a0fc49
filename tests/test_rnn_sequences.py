"""Input forms, validation messages, and variable-length batches (padding + mask)."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg

D, H, V = 3, 5, 4


def make(layers: int = 2, seed: int = 0):
    return rnn.RNN(D, H, num_layers=layers, rng=seed), rnn.Linear(H, V, rng=seed + 1)


def test_array_tensor_and_list_inputs_agree():
    net, _ = make()
    xs = np.random.default_rng(0).normal(size=(2, 4, D))
    from_array, _ = net(xs)
    from_tensor, _ = net(tg.Tensor(xs))
    from_list, _ = net([xs[:, t] for t in range(4)])
    from_tensor_list, _ = net([tg.Tensor(xs[:, t]) for t in range(4)])
    for other in (from_tensor, from_list, from_tensor_list):
        for a, b in zip(from_array, other):
            np.testing.assert_array_equal(a.data, b.data)


def test_input_tensor_with_grad_gets_its_gradient():
    net, _ = make(1)
    x = tg.Tensor(np.random.default_rng(1).normal(size=(2, 3, D)), requires_grad=True)
    hs, _ = net(x)
    hs[-1].sum().backward()
    assert x.grad.shape == (2, 3, D) and np.abs(x.grad[:, 0]).sum() > 0


def test_h0_is_used_and_validated():
    net, _ = make(2)
    xs = np.zeros((2, 1, D))
    h0 = [np.full((2, H), 0.5), np.zeros((2, H))]
    _, h_last = net(xs, h0=h0)
    cell = net.layers[0]
    want = np.tanh(0.5 * np.ones((2, H)) @ cell.W_hh.data + cell.b_h.data)
    np.testing.assert_allclose(h_last[0].data, want, atol=1e-15)
    with pytest.raises(tg.ShapeError, match=r"layer=1.*h0 has shape \(3, 5\), expected \(2, 5\)"):
        net(xs, h0=[np.zeros((2, H)), np.zeros((3, H))])
    with pytest.raises(tg.ShapeError, match="list of 2 states"):
        net(xs, h0=[np.zeros((2, H))])


def test_wrong_width_rank_and_ragged_inputs_are_named():
    net, _ = make()
    with pytest.raises(tg.ShapeError, match=r"layer=0.*\(2, 4\).*D = 3"):
        net(np.zeros((2, 6, 4)))
    with pytest.raises(tg.ShapeError, match=r"rank 2.*xs\[None\]"):
        net(np.zeros((6, D)))
    with pytest.raises(tg.ShapeError, match=r"ragged.*t=2 has shape \(3, 3\).*\(2, 3\)"):
        net([np.zeros((2, D)), np.zeros((2, D)), np.zeros((3, D))])
    with pytest.raises(tg.ShapeError, match="empty"):
        net([])


def test_cell_step_error_names_the_scope():
    cell = rnn.ElmanCell(D, H)
    with tg.scope(t=3, layer=1), pytest.raises(tg.ShapeError, match=r"t=3, layer=1.*\(2, 4\)"):
        cell.step(tg.Tensor(np.zeros((2, 4))), cell.initial_state(2))


def test_unknown_nonlinearity_lists_valid_ones():
    with pytest.raises(rnn.ConfigError, match="'tanh', 'relu', 'sigmoid', 'identity'"):
        rnn.ElmanCell(D, H, nonlinearity="softplus")
    with pytest.raises(rnn.ConfigError, match="2 nonlinearities given for 3 layers"):
        rnn.RNN(D, H, num_layers=3, nonlinearity=["tanh", "relu"])


def test_cell_sizes_must_chain():
    message = "layer 1 has input_size 4 but layer 0 outputs width 5"
    with pytest.raises(rnn.ConfigError, match=message):
        rnn.RNN(cell=[rnn.ElmanCell(D, 5), rnn.ElmanCell(4, 5)])


def test_pad_sequences_and_mask_checks():
    batch = rnn.pad_sequences([np.ones((2, D)), np.ones((4, D))])
    assert batch.xs.shape == (2, 4, D)
    np.testing.assert_array_equal(batch.mask, [[1, 1, 0, 0], [1, 1, 1, 1]])
    np.testing.assert_array_equal(batch.lengths, [2, 4])
    net, _ = make()
    with pytest.raises(tg.ShapeError, match="row 0"):
        net(batch.xs, mask=[[1, 0, 1, 0], [1, 1, 1, 1]])
    with pytest.raises(tg.ShapeError, match="width D = 2"):
        rnn.pad_sequences([np.ones((2, D)), np.ones((4, 2))])


@pytest.mark.parametrize("layers", [1, 2])
def test_variable_length_batch_equals_one_by_one(layers):
    rng = np.random.default_rng(3)
    lengths = [5, 2, 4]
    seqs = [rng.normal(size=(n, D)) for n in lengths]
    targets = [rng.integers(0, V, size=n) for n in lengths]
    classes = rng.integers(0, V, size=len(lengths))
    reg_targets = [rng.normal(size=(n, V)) for n in lengths]

    def losses(net, readout, xs, mask, y_seq, y_cls, y_reg):
        hs, h_last = net(xs, mask=mask)
        logits = [readout(h) for h in hs]
        return (rnn.sequence_cross_entropy(logits, y_seq, mask=mask)
                + rnn.last_step_cross_entropy(readout(h_last[-1]), y_cls)
                + rnn.mse_loss(logits, y_reg, mask=mask, reduction="sum")), hs, h_last

    net, readout = make(layers, seed=4)
    params = net.parameters() + readout.parameters()
    batch = rnn.pad_sequences(seqs)
    T = batch.xs.shape[1]
    y_seq = np.zeros((3, T), dtype=int)
    y_reg = np.zeros((3, T, V))
    for i, n in enumerate(lengths):
        y_seq[i, :n] = targets[i]
        y_reg[i, :n] = reg_targets[i]
    total, hs, h_last = losses(net, readout, batch.xs, batch.mask, y_seq, classes, y_reg)
    grads = tg.grad(total, params)

    want_total = 0.0
    want_grads = [np.zeros_like(p.data) for p in params]
    for i, n in enumerate(lengths):
        alone, hs_i, last_i = losses(net, readout, seqs[i][None], None, targets[i][None],
                                     classes[i:i + 1], reg_targets[i][None])
        want_total += alone.item()
        for g, gi in zip(want_grads, tg.grad(alone, params)):
            g += gi
        for t in range(n):
            np.testing.assert_allclose(hs[t].data[i], hs_i[t].data[0], atol=1e-14)
        for layer in range(layers):
            np.testing.assert_allclose(h_last[layer].data[i], last_i[layer].data[0], atol=1e-14)
    assert total.item() == pytest.approx(want_total, abs=1e-11)
    for g, w in zip(grads, want_grads):
        np.testing.assert_allclose(g, w, atol=1e-11)
    assert hs[3].producer.op.name == "mask_carry" and hs[3].name == "h"


def test_mean_reduction_counts_only_unmasked_steps():
    net, readout = make(1)
    batch = rnn.pad_sequences([np.ones((3, D)), np.ones((1, D))])
    hs, _ = net(batch.xs, mask=batch.mask)
    logits = [readout(h) for h in hs]
    y = np.zeros((2, 3), dtype=int)
    total = rnn.sequence_cross_entropy(logits, y, mask=batch.mask)
    mean = rnn.sequence_cross_entropy(logits, y, mask=batch.mask, reduction="mean")
    assert mean.item() == pytest.approx(total.item() / 4)


def test_mse_many_to_one_by_hand():
    p = tg.Tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    loss = rnn.mse_loss(p, [[0.0, 0.0]], reduction="mean")
    assert loss.item() == 2.5  # (1 + 4) / 2
    loss.backward()
    np.testing.assert_array_equal(p.grad, [[1.0, 2.0]])  # 2 (p − y) / N


def test_mse_sums_by_default_as_the_cross_entropy_losses_do():
    """One default for every loss: the sum (tg.cross_entropy's contract; the seeds' −Σ_t log p)."""
    p = tg.Tensor(np.array([[1.0, 2.0], [0.0, -1.0]]), requires_grad=True)
    loss = rnn.mse_loss(p, np.zeros((2, 2)))
    assert loss.item() == 6.0  # 1 + 4 + 0 + 1
    loss.backward()
    np.testing.assert_array_equal(p.grad, [[2.0, 4.0], [0.0, -2.0]])  # 2 (p − y)
    logits = tg.Tensor(np.zeros((2, 3)))
    y = np.array([0, 1])
    assert rnn.last_step_cross_entropy(logits, y).item() == pytest.approx(2 * np.log(3))
    assert tg.cross_entropy(logits, y).item() == pytest.approx(2 * np.log(3))
    steps = [tg.Tensor(np.ones((2, 2))), tg.Tensor(np.zeros((2, 2)))]
    assert rnn.mse_loss(steps, np.zeros((2, 2, 2))).item() == 4.0  # Σ over steps, rows, entries


class PairStateCell:
    """A toy cell with an LSTM-like (h, c) state: c_t = c_(t−1) + x_t W, h_t = tanh(c_t)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        self.input_size, self.hidden_size = input_size, hidden_size
        data = np.random.default_rng(0).normal(size=(input_size, hidden_size))
        self.W = tg.Tensor(data, requires_grad=True, name="W")

    def named_parameters(self):
        return {"W": self.W}

    def parameters(self):
        return [self.W]

    def initial_state(self, batch_size):
        zeros = np.zeros((batch_size, self.hidden_size))
        return (tg.Tensor(zeros, name="h0"), tg.Tensor(zeros, name="c0"))

    def step(self, x_t, state):
        c = state[1] + x_t @ self.W
        c.name = "c"
        h = tg.tanh(c)
        h.name = "h"
        return (h, c)

    def output(self, state):
        return state[0]


def test_a_cell_with_a_pair_state_plugs_in():
    net = rnn.RNN(cell=[PairStateCell(D, H), PairStateCell(H, 2)])
    assert list(net.named_parameters()) == ["layer0.W", "layer1.W"]
    seqs = [np.ones((3, D)), 2 * np.ones((1, D))]
    batch = rnn.pad_sequences(seqs)
    hs, h_last = net(batch.xs, mask=batch.mask)
    _, states = net.forward_states(batch.xs, mask=batch.mask)
    assert len(hs) == 3 and h_last[1].shape == (2, 2) and len(states[0]) == 2
    for i, seq in enumerate(seqs):
        _, alone = net(seq[None])
        np.testing.assert_allclose(h_last[1].data[i], alone[1].data[0], atol=1e-14)
    result = rnn.tbptt(net, batch.xs, lambda t, h: h.sum(), k1=2, k2=2)
    assert result.updates == 2 and isinstance(result.state[0], tuple)
    assert net.layers[0].W.grad is not None


def test_one_layer_h0_as_a_nested_list():
    net = rnn.RNN(2, 3, rng=0)
    xs = np.ones((1, 2, 2))
    hs_list, _ = net(xs, h0=[[0.1, 0.2, 0.3]])
    hs_array, _ = net(xs, h0=np.array([[0.1, 0.2, 0.3]]))
    np.testing.assert_array_equal(hs_list[-1].data, hs_array[-1].data)
