"""rnn.RNN(..., bidirectional=True): both directions, concatenated per step, as torch.nn.RNN."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg

B, T, D, H, V = 2, 4, 3, 2, 3


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, D)), rng.integers(0, V, size=(B, T))


def test_outputs_join_both_directions_and_reverse_starts_at_the_end():
    net = rnn.RNN(D, H, num_layers=1, bidirectional=True, rng=0)
    xs, _ = data()
    hs, h_last = net(xs)
    assert len(hs) == T and all(h.shape == (B, 2 * H) for h in hs)
    ahead, back = net.layers[0], net.reverse_layers[0]
    # by hand: forward h_0 = tanh(x_0 W + b); reverse h_(T-1) = tanh(x_(T-1) W' + b') (h_init = 0)
    first = np.tanh(xs[:, 0] @ ahead.W_xh.data + ahead.b_h.data)
    last = np.tanh(xs[:, T - 1] @ back.W_xh.data + back.b_h.data)
    np.testing.assert_allclose(hs[0].data[:, :H], first, rtol=1e-14)
    np.testing.assert_allclose(hs[T - 1].data[:, H:], last, rtol=1e-14)
    # the reverse direction's final state is its state after t = 0: the second half of hs[0]
    assert len(h_last) == 2
    np.testing.assert_array_equal(h_last[0].data, hs[T - 1].data[:, :H])
    np.testing.assert_array_equal(h_last[1].data, hs[0].data[:, H:])


def test_parameters_are_named_per_direction_and_layer_one_reads_both():
    net = rnn.RNN(D, H, num_layers=2, bidirectional=True, rng=0)
    assert list(net.named_parameters()) == [
        f"{prefix}.{name}" for prefix in ("layer0", "layer0_reverse", "layer1", "layer1_reverse")
        for name in ("W_xh", "W_hh", "b_h")]
    assert net.layers[1].W_xh.shape == (2 * H, H) == net.reverse_layers[1].W_xh.shape
    assert "bidirectional=True" in repr(net)


def test_gradients_pass_gradcheck():
    net = rnn.RNN(D, H, num_layers=2, bidirectional=True, rng=3)
    readout = rnn.Linear(2 * H, V, rng=4)
    xs, ys = data(5)

    def loss() -> tg.Tensor:
        hs, _ = net(xs)
        return rnn.sequence_cross_entropy([readout(h) for h in hs], ys)
    report = tg.gradcheck(loss, net.parameters() + readout.parameters())
    assert report.ok, str(report)


def test_a_padded_step_leaves_the_reverse_direction_where_the_sequence_ends():
    """Right padding: the reverse direction of a short sequence starts at its own last step."""
    net = rnn.RNN(D, H, num_layers=1, bidirectional=True, rng=2)
    xs, _ = data(7)
    mask = np.ones((B, T))
    mask[1, 2:] = 0
    hs, _ = net(xs, mask=mask)
    short, _ = net(xs[1:, :2])                     # sample 1 alone, only its 2 real steps
    for t in range(2):
        np.testing.assert_allclose(hs[t].data[1], short[t].data[0], rtol=1e-13)


def test_refused_with_cells_or_hoisting():
    with pytest.raises(rnn.ConfigError, match=r"bidirectional=True builds Elman layers.*cell="):
        rnn.RNN(cell=rnn.GRUCell(D, H), bidirectional=True)
    with pytest.raises(rnn.ConfigError, match="hoist_inputs=True"):
        rnn.RNN(D, H, bidirectional=True, hoist_inputs=True)
    with pytest.raises(tg.ShapeError, match=r"list of 4 states \(one per layer and direction\)"):
        rnn.RNN(D, H, num_layers=2, bidirectional=True)(data()[0], h0=[np.zeros((B, H))] * 2)


def test_matches_torch_bidirectional_rnn():
    torch = pytest.importorskip("torch")
    layers = 2
    net = rnn.RNN(D, H, num_layers=layers, bidirectional=True, rng=8)
    readout = rnn.Linear(2 * H, V, rng=9)
    xs, ys = data(10)
    hs, h_last = net(xs)
    rnn.sequence_cross_entropy([readout(h) for h in hs], ys).backward()

    model = torch.nn.RNN(D, H, num_layers=layers, batch_first=True, bidirectional=True,
                         dtype=torch.float64)
    lin = torch.nn.Linear(2 * H, V, dtype=torch.float64)
    pairs = []
    with torch.no_grad():
        for k in range(layers):
            for suffix, cell in (("", net.layers[k]), ("_reverse", net.reverse_layers[k])):
                names = (f"weight_ih_l{k}{suffix}", f"weight_hh_l{k}{suffix}",
                         f"bias_ih_l{k}{suffix}", f"bias_hh_l{k}{suffix}")
                w_ih, w_hh, b_ih, b_hh = (getattr(model, n) for n in names)
                w_ih.copy_(torch.tensor(cell.W_xh.data.T))
                w_hh.copy_(torch.tensor(cell.W_hh.data.T))
                b_ih.copy_(torch.tensor(cell.b_h.data))
                b_hh.zero_()                       # two torch biases, one of ours
                pairs += [(cell.W_xh, w_ih, True), (cell.W_hh, w_hh, True), (cell.b_h, b_ih, False)]
        lin.weight.copy_(torch.tensor(readout.W.data.T))
        lin.bias.copy_(torch.tensor(readout.b.data))
    out, h_n = model(torch.tensor(xs))
    np.testing.assert_allclose(np.stack([h.data for h in hs], axis=1), out.detach().numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(np.stack([h.data for h in h_last]), h_n.detach().numpy(), atol=1e-12)
    loss = torch.nn.functional.cross_entropy(lin(out).reshape(-1, V),
                                             torch.tensor(ys).reshape(-1), reduction="sum")
    loss.backward()
    for ours, theirs, transposed in pairs:
        expected = theirs.grad.numpy().T if transposed else theirs.grad.numpy()
        np.testing.assert_allclose(ours.grad, expected, atol=1e-10)
