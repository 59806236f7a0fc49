"""A network runs in its parameters' dtype: states, losses, gradients and updates included.

float64 stays the default. Arrays of another dtype (float64 data for a float32 network, ints,
bools) are converted to the network's dtype; a Tensor that requires grad is never converted.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg
from expect_error import expect

B, T, D, H, V = 2, 4, 3, 5, 3
F32 = np.dtype(np.float32)


def data(seed: int = 0, dtype: type = np.float64) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(B, T, D)).astype(dtype)


def test_float32_parameters_and_inputs_give_float32_states():
    """The bug: the default h_0 was float64 zeros, so numpy upcast every state to float64."""
    net = rnn.RNN(D, H, num_layers=2, rng=0)
    for p in net.parameters():
        p.data = p.data.astype(np.float32)
    hs, h_last = net(data(dtype=np.float32))
    assert {h.dtype for h in hs + h_last} == {F32}


@pytest.mark.parametrize("hoist", [False, True])
@pytest.mark.parametrize("learn_h0", [False, True])
def test_a_float32_network_computes_and_learns_in_float32(hoist: bool, learn_h0: bool):
    net = rnn.RNN(D, H, num_layers=2, rng=0, dtype=np.float32, hoist_inputs=hoist, learn_h0=learn_h0)
    readout = rnn.Linear(H, V, rng=1, dtype=np.float32)
    params = net.parameters() + readout.parameters()
    assert net.dtype == F32 and readout.dtype == F32
    assert {p.dtype for p in params} == {F32}
    hs, h_last = net(data(dtype=np.float32))
    loss = rnn.sequence_cross_entropy([readout(h) for h in hs], np.zeros((B, T), dtype=int))
    assert {h.dtype for h in hs + h_last} == {F32} and loss.dtype == F32
    loss.backward()
    assert {p.grad.dtype for p in params} == {F32}
    opt = rnn.Adam(params, lr=0.01)
    opt.step()
    assert {p.dtype for p in params} == {F32}


@pytest.mark.parametrize("hoist", [False, True])
def test_float64_inputs_to_a_float32_network_are_converted_to_float32(hoist: bool):
    net = rnn.RNN(D, H, num_layers=2, rng=0, dtype=np.float32, hoist_inputs=hoist)
    xs = data(1)
    hs, _ = net(xs)
    want, _ = net(xs.astype(np.float32))
    assert hs[-1].dtype == F32
    np.testing.assert_array_equal(hs[-1].data, want[-1].data)
    steps, _ = net([xs[:, t] for t in range(T)])
    np.testing.assert_array_equal(steps[-1].data, want[-1].data)
    ints, _ = net(np.ones((B, T, D), dtype=int))
    assert ints[-1].dtype == F32


def test_a_float32_network_agrees_with_float64_to_float32_rounding():
    net32 = rnn.RNN(D, H, num_layers=2, rng=0, dtype=np.float32)
    net64 = rnn.RNN(D, H, num_layers=2, rng=0)
    for p32, p64 in zip(net32.parameters(), net64.parameters()):
        np.testing.assert_allclose(p32.data, p64.data, rtol=1e-7)  # the same draws, rounded
        p64.data = p32.data.astype(np.float64)
    xs = data(2)
    out32 = sum((h * h).sum() for h in net32(xs)[0])
    out64 = sum((h * h).sum() for h in net64(xs)[0])
    np.testing.assert_allclose(out32.item(), out64.item(), rtol=1e-5)
    for g32, g64 in zip(tg.grad(out32, net32.parameters()), tg.grad(out64, net64.parameters())):
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def test_float64_default_is_unchanged():
    net = rnn.RNN(D, H, rng=0)
    assert net.dtype == np.float64 and net.layers[0].W_hh.dtype == np.float64
    hs, _ = net(data(dtype=np.float32))
    assert hs[-1].dtype == np.float64


def test_h0_arrays_are_converted_to_the_network_dtype():
    net = rnn.RNN(D, H, rng=0, dtype=np.float32)
    hs, h_last = net(data(3), h0=np.ones((B, H)))
    assert hs[0].dtype == F32 and h_last[0].dtype == F32


@pytest.mark.parametrize("make", [
    lambda: rnn.LSTMCell(D, H, rng=0, dtype=np.float32),
    lambda: rnn.GRUCell(D, H, rng=0, dtype=np.float32),
    lambda: rnn.ElmanCell(D, H, rng=0, dtype="float32"),
])
def test_lstm_gru_and_elman_cells_take_a_dtype(make):
    cell = make()
    assert cell.dtype == F32 and {p.dtype for p in cell.parameters()} == {F32}
    net = rnn.RNN(cell=cell)
    assert net.dtype == F32
    hs, h_last = net(data(4))
    assert hs[-1].dtype == F32 and h_last[0].dtype == F32
    (hs[-1] * hs[-1]).sum().backward()
    assert {p.grad.dtype for p in cell.parameters()} == {F32}


def test_a_cell_without_a_dtype_attribute_gives_its_parameters_dtype():
    class Plain:
        """An Elman cell seen through the step interface only (no ``dtype``)."""

        def __init__(self) -> None:
            self.inner = rnn.ElmanCell(D, H, rng=0, dtype=np.float32)
            self.input_size, self.hidden_size = D, H

        def initial_state(self, batch_size: int) -> tg.Tensor:
            return self.inner.initial_state(batch_size)

        def step(self, x_t: tg.Tensor, h: tg.Tensor) -> tg.Tensor:
            return self.inner.step(x_t, h)

        def output(self, state: tg.Tensor) -> tg.Tensor:
            return state

        def parameters(self) -> list[tg.Tensor]:
            return self.inner.parameters()

    net = rnn.RNN(cell=Plain())
    assert net.dtype == F32
    assert net(data(5))[0][-1].dtype == F32


def test_linear_converts_arrays_and_refuses_a_grad_tensor_of_another_dtype():
    readout = rnn.Linear(H, V, rng=0, dtype=np.float32)
    assert readout(np.ones((B, H))).dtype == F32
    assert readout(tg.Tensor(np.ones((B, H)))).dtype == F32
    h = tg.Tensor(np.ones((B, H)), requires_grad=True, name="h")
    expect(tg.DTypeError, lambda: readout(h), "Linear(5, 3)",
           "the input is a float64 Tensor that requires grad", "float32")


def test_a_grad_input_tensor_of_another_dtype_is_refused():
    net = rnn.RNN(D, H, rng=0, dtype=np.float32)
    xs = tg.Tensor(data(6), requires_grad=True)
    expect(tg.DTypeError, lambda: net(xs), "rnn.RNN", "float64 Tensor that requires grad", "float32")
    expect(tg.DTypeError, lambda: net([xs[:, 0]]), "rnn.RNN", "input step t=0", "float64")
    h0 = tg.Tensor(np.zeros((B, H)), requires_grad=True)
    expect(tg.DTypeError, lambda: net(data(6), h0=h0), "rnn.RNN (layer=0)", "h0 is a float64 Tensor")


def test_mse_loss_runs_in_the_predictions_dtype():
    p = tg.Tensor(np.ones((B, V), dtype=np.float32), requires_grad=True)
    loss = rnn.mse_loss(p, np.zeros((B, V)))
    assert loss.dtype == F32
    loss.backward()
    assert p.grad.dtype == F32


@pytest.mark.parametrize("make", [lambda ps: rnn.SGD(ps, lr=0.1, momentum=0.9), lambda ps: rnn.Adam(ps)])
def test_optimizers_keep_a_float32_parameter_float32(make):
    """Even when the gradient arrives in float64, the update and the state stay float32."""
    p = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = make([p])
    for _ in range(2):
        p.grad = np.full(3, 0.5)
        opt.step()
    assert p.dtype == F32


def test_tbptt_on_a_float32_network():
    net = rnn.RNN(D, H, rng=0, dtype=np.float32)
    result = rnn.tbptt(net, data(7), lambda t, h: (h * h).sum(), k1=2, k2=3)
    assert result.state[0].dtype == F32
    assert net.layers[0].W_hh.grad.dtype == F32


@pytest.mark.parametrize("build, fragments", [
    (lambda: rnn.RNN(D, H, dtype=np.int64), ("rnn.RNN", "float dtype", "int64")),
    (lambda: rnn.RNN(D, H, dtype="abc"), ("rnn.RNN", "float dtype", "'abc'")),
    (lambda: rnn.ElmanCell(D, H, dtype=np.complex128), ("ElmanCell", "float dtype", "complex128")),
    (lambda: rnn.LSTMCell(D, H, dtype=None), ("LSTMCell", "float dtype", "None")),
    (lambda: rnn.Linear(H, V, dtype=bool), ("Linear", "float dtype", "bool")),
])
def test_a_dtype_that_is_not_a_float_is_refused(build, fragments):
    expect(tg.DTypeError, build, *fragments)


def test_cells_of_different_dtypes_are_refused():
    cells = [rnn.ElmanCell(D, H, dtype=np.float32), rnn.ElmanCell(H, H)]
    expect(rnn.ConfigError, lambda: rnn.RNN(cell=cells), "rnn.RNN", "layer 0 computes in float32",
           "layer 1 in float64")
    expect(rnn.ConfigError, lambda: rnn.RNN(cell=rnn.GRUCell(D, H, dtype=np.float32), dtype=np.float64),
           "rnn.RNN", "dtype=float64", "float32")
