"""checkpoint_every in rnn.RNN, rnn.tbptt and rnn.train: the plain gradients, bit for bit, and less memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import rnn
import tinygraph as tg
from tinygraph.backward import reverse_topological

B, T, D, H, V = 3, 11, 2, 4, 3


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def elman_stack(every: Any) -> rnn.RNN:
    return rnn.RNN(D, H, num_layers=2, nonlinearity=["tanh", "relu"], rng=0, learn_h0=True,
                   checkpoint_every=every)


def lstm_stack(every: Any) -> rnn.RNN:
    return rnn.RNN(cell=[rnn.LSTMCell(D, H, rng=1), rnn.LSTMCell(H, H, rng=2)],
                   checkpoint_every=every)


def gru_stack(every: Any) -> rnn.RNN:
    return rnn.RNN(cell=[rnn.GRUCell(D, H, rng=3), rnn.GRUCell(H, H, rng=4)],
                   checkpoint_every=every)


def hoisted_stack(every: Any) -> rnn.RNN:
    return rnn.RNN(D, H, num_layers=2, rng=5, hoist_inputs=True, checkpoint_every=every)


STACKS = {"elman": elman_stack, "lstm": lstm_stack, "gru": gru_stack, "hoisted": hoisted_stack}


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((B, T, D))
    ys = rng.integers(0, V, size=(B, T))
    lengths = [T, 7, 4]
    mask = (np.arange(T)[None, :] < np.array(lengths)[:, None]).astype(float)
    return xs, ys, mask


def gradients(make: Callable[[Any], rnn.RNN], every: Any, masked: bool,
              x_needs_grad: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
    """The loss of a many-to-many readout over the stack and every parameter's (and the input's)
    gradient, after one backward()."""
    xs, ys, mask = data()
    net = make(every)
    readout = rnn.Linear(H, V, rng=9)
    x = tg.Tensor(xs, requires_grad=x_needs_grad, name="xs")
    hs, h_last = net(x, mask=mask if masked else None)
    loss = rnn.sequence_cross_entropy([readout(h) for h in hs], ys,
                                      mask=mask if masked else None)
    loss = loss + (h_last[0] * h_last[0]).sum()
    segments = [n for n in reverse_topological(loss) if n.op.name == "checkpoint"]
    assert bool(segments) == (every is not None)
    loss.backward()
    tensors = [*net.parameters(), *readout.parameters()] + ([x] if x_needs_grad else [])
    return loss.data, [t.grad for t in tensors]


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("every", [1, 3, "sqrt", T])
@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
def test_a_checkpointed_stack_has_the_plain_gradients_bit_for_bit(stack: str, every: Any,
                                                                  masked: bool) -> None:
    plain_loss, plain = gradients(STACKS[stack], None, masked)
    loss, checkpointed = gradients(STACKS[stack], every, masked)
    assert same_bits(plain_loss, loss)
    assert len(plain) == len(checkpointed)
    for a, b in zip(plain, checkpointed):
        assert a is not None and same_bits(a, b)


def test_float32_and_constant_inputs():
    def run(every: Any) -> list[np.ndarray]:
        net = rnn.RNN(D, H, rng=0, dtype=np.float32, checkpoint_every=every)
        hs, _ = net(data()[0])
        sum((h * h).sum() for h in hs).backward()
        return [p.grad for p in net.parameters()]

    for a, b in zip(run(None), run(4)):
        assert a.dtype == np.float32 and same_bits(a, b)


def test_the_graph_keeps_one_node_per_segment_and_the_states():
    xs = data()[0]
    net = rnn.RNN(D, H, rng=0, checkpoint_every="sqrt")
    hs, _ = net(np.concatenate([xs] * 6, axis=1))  # T = 66: segments of ⌈√66⌉ = 9 steps
    loss = sum((h * h).sum() for h in hs)
    report = tg.saved_bytes(loss)
    nodes = [row.node for row in report.nodes if row.node.op.name == "checkpoint"]
    assert [n.op.describe() for n in nodes[:2]] == ["checkpoint[t=0..8]", "checkpoint[t=9..17]"]
    assert len(nodes) == 8  # 7 of 9 steps and one of 3
    assert "tanh" not in report.by_op and "matmul" not in report.by_op
    plain_net = rnn.RNN(D, H, rng=0)
    plain_hs, _ = plain_net(np.concatenate([xs] * 6, axis=1))
    plain = tg.saved_bytes(sum((h * h).sum() for h in plain_hs))
    assert report.activations < plain.activations / 2


def test_train_checkpoints_the_networks_its_loss_function_runs():
    xs, ys, _ = data(1)

    def train(every: Any) -> tuple[list[float], list[np.ndarray]]:
        net = rnn.RNN(D, H, rng=0)
        readout = rnn.Linear(H, V, rng=1)
        seen = []

        def loss_fn(batch: tuple[np.ndarray, np.ndarray]) -> tg.Tensor:
            hs, _ = net(batch[0])
            seen.append(hs[0].producer.op.name)
            return rnn.sequence_cross_entropy([readout(h) for h in hs], batch[1])

        opt = rnn.SGD([*net.parameters(), *readout.parameters()], lr=0.1)
        history = rnn.train(loss_fn, [(xs, ys)] * 3, opt, epochs=2, progress=False,
                            checkpoint_every=every)
        assert set(seen) == ({"tanh"} if every is None else {"unpack"})
        return history, [p.data for p in opt.params]

    (plain_history, plain), (history, checkpointed) = train(None), train(3)
    assert plain_history == history
    for a, b in zip(plain, checkpointed):
        assert same_bits(a, b)


def tbptt_run(every: Any, k1: int, k2: int, optimizer: bool, net_every: Any = None,
              **options: Any) -> tuple[rnn.TBPTTResult, list[np.ndarray]]:
    xs, ys, _ = data(2)
    net = rnn.RNN(cell=[rnn.LSTMCell(D, H, rng=0)], checkpoint_every=net_every)
    readout = rnn.Linear(H, V, rng=1)
    params = [*net.parameters(), *readout.parameters()]
    opt = rnn.SGD(params, lr=0.05) if optimizer else None

    def step_loss(t: int, h: tg.Tensor) -> tg.Tensor | None:
        if t % 4 == 1:
            return None  # some steps have no loss
        return tg.cross_entropy(readout(h), ys[:, t])

    result = rnn.tbptt(net, xs, step_loss, k1=k1, k2=k2, optimizer=opt, checkpoint_every=every,
                       **options)
    return result, [p.data if optimizer else p.grad for p in params]


@pytest.mark.parametrize("k1, k2", [(T, T), (3, 3), (4, 4), (2, 5), (3, 7), (1, 20)])
@pytest.mark.parametrize("every", [2, "sqrt"])
@pytest.mark.parametrize("optimizer", [False, True], ids=["accumulate", "sgd"])
def test_checkpointed_tbptt_is_plain_tbptt_bit_for_bit(k1: int, k2: int, every: Any,
                                                        optimizer: bool) -> None:
    plain, plain_values = tbptt_run(None, k1, k2, optimizer)
    result, values = tbptt_run(every, k1, k2, optimizer)
    assert plain.losses == result.losses and plain.updates == result.updates
    for a, b in zip(plain_values, values):
        assert same_bits(a, b)
    for a, b in zip(plain.state[0], result.state[0]):
        assert same_bits(a.data, b.data)


def test_tbptt_takes_the_nets_setting_and_checkpoints_its_own_segments():
    plain, plain_grads = tbptt_run(None, T, T, False)
    result, grads = tbptt_run(None, T, T, False, net_every=3)
    assert plain.losses == result.losses
    for a, b in zip(plain_grads, grads):
        assert same_bits(a, b)


def test_dropout_in_the_step_loss_is_replayed_from_the_generators_given():
    xs, ys, _ = data(3)

    def run(every: Any, give: bool) -> list[np.ndarray]:
        net = rnn.RNN(D, H, rng=0)
        readout = rnn.Linear(H, V, rng=1)
        gen = np.random.default_rng(5)

        def step_loss(t: int, h: tg.Tensor) -> tg.Tensor:
            return tg.cross_entropy(readout(rnn.dropout(h, 0.3, rng=gen)), ys[:, t])

        rnn.tbptt(net, xs, step_loss, k1=T, k2=T, checkpoint_every=every,
                  rngs=[gen] if give else ())
        return [p.grad for p in [*net.parameters(), *readout.parameters()]]

    for a, b in zip(run(None, False), run(3, True)):
        assert same_bits(a, b)
    with pytest.raises(tg.GraphStateError, match="recomputing fn gave a different output"):
        run(3, False)


@pytest.mark.parametrize("every", [0, -2, 2.5, True, "half"])
def test_checkpoint_every_is_checked(every: Any) -> None:
    message = (f"rnn.RNN: checkpoint_every must be None, a positive int (steps per segment) or "
               f"'sqrt' (⌈√T⌉ steps), got {every!r}")
    with pytest.raises(rnn.ConfigError) as info:
        rnn.RNN(D, H, checkpoint_every=every)
    assert str(info.value) == message
    with pytest.raises(rnn.ConfigError, match="tbptt: checkpoint_every must be"):
        rnn.tbptt(rnn.RNN(D, H), data()[0], lambda t, h: h.sum(), k1=2, k2=2,
                  checkpoint_every=every)
    with pytest.raises(rnn.ConfigError, match="train: checkpoint_every must be"):
        rnn.train(lambda b: b, [1], rnn.SGD(rnn.RNN(D, H).parameters()), checkpoint_every=every)


def test_a_bidirectional_network_is_not_checkpointed():
    with pytest.raises(rnn.ConfigError, match="bidirectional=True does not take checkpoint_every"):
        rnn.RNN(D, H, bidirectional=True, checkpoint_every=2)
