"""tg.compile on rnn: Elman, LSTM, GRU, stacked, hoisted and masked networks replay with the eager
losses and gradients bit for bit; rnn.tbptt replays its repeating windows and rnn.train its
steps, with the eager parameters after several updates."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg

K, H, B, T = 4, 6, 3, 7


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def eager_then_compiled(loss_fn, step, params, xs, y):
    """The eager loss and its gradients, then the compiled step's loss, each from zeroed
    gradients (the step's gradients are left in ``params``)."""
    for p in params:
        p.grad = None
    eager = loss_fn(xs, y)
    eager.backward()
    expected = [p.grad for p in params]
    for p in params:
        p.grad = None
    return eager, expected, step(xs, y)


def make_net(kind: str) -> rnn.RNN:
    if kind == "lstm":
        return rnn.RNN(cell=rnn.LSTMCell(K, H, rng=1))
    if kind == "gru":
        return rnn.RNN(cell=rnn.GRUCell(K, H, rng=1))
    if kind == "stacked":
        return rnn.RNN(K, H, num_layers=3, nonlinearity=["tanh", "relu", "sigmoid"], rng=1)
    if kind == "hoisted":
        return rnn.RNN(K, H, num_layers=2, hoist_inputs=True, rng=1)
    if kind == "learned h0":
        return rnn.RNN(K, H, learn_h0=True, rng=1)
    return rnn.RNN(K, H, rng=1)


def many_to_many(net: rnn.RNN, readout: rnn.Linear, mask=None):
    """L = Σ_t cross_entropy(o_t, y_t), the targets time-major (T·B,), all tinygraph ops."""

    def loss_fn(xs, y):
        hs, _ = net(xs, mask=mask)
        steps = len(hs)
        return tg.cross_entropy(readout(tg.stack(hs, axis=0).reshape(steps * B, -1)), y)

    return loss_fn


def data(rng, length=T):
    xs = rng.standard_normal((B, length, K))
    return xs, rng.integers(0, K, (length, B)).reshape(-1)


@pytest.mark.parametrize("kind", ["elman", "lstm", "gru", "stacked", "hoisted", "learned h0"])
def test_a_network_replays_with_the_eager_loss_and_gradients(kind):
    net, readout = make_net(kind), rnn.Linear(H, K, rng=2)
    params = net.parameters() + readout.parameters()
    loss_fn = many_to_many(net, readout)
    step = tg.compile(loss_fn)
    rng = np.random.default_rng(3)
    for _ in range(4):
        xs, y = data(rng)
        eager, expected, loss = eager_then_compiled(loss_fn, step, params, xs, y)
        assert loss.item() == eager.item()
        assert all(same_bits(p.grad, g) for p, g in zip(params, expected))
    assert step.recordings == 1 and step.replays == 3


def test_a_masked_batch_replays_for_its_mask():
    mask = np.ones((B, T))
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    net, readout = make_net("elman"), rnn.Linear(H, K, rng=2)
    params = net.parameters() + readout.parameters()
    loss_fn = many_to_many(net, readout, mask=mask)  # a fixed mask: a constant of the plan
    step = tg.compile(loss_fn)
    rng = np.random.default_rng(4)
    for _ in range(3):
        xs, y = data(rng)
        eager, expected, loss = eager_then_compiled(loss_fn, step, params, xs, y)
        assert loss.item() == eager.item()
        assert all(same_bits(p.grad, g) for p, g in zip(params, expected))


def test_a_mask_given_as_an_array_is_refused_and_as_a_tuple_is_static():
    net, readout = make_net("elman"), rnn.Linear(H, K, rng=2)

    def loss_fn(xs, y, mask):
        return many_to_many(net, readout, mask=mask)(xs, y)

    mask = np.ones((B, T))
    mask[0, 5:] = 0
    xs, y = data(np.random.default_rng(5))
    with pytest.raises(tg.GraphStateError, match="read the values of input 2"):
        tg.compile(loss_fn)(xs, y, mask)
    step = tg.compile(loss_fn)
    as_tuple = tuple(map(tuple, mask))
    assert step(xs, y, as_tuple).item() == loss_fn(xs, y, mask).item()
    mask[0, 3:] = 0
    assert step(xs, y, tuple(map(tuple, mask))).item() == loss_fn(xs, y, mask).item()
    assert step.recordings == 2  # each mask its own plan


def test_the_compiled_network_draws_and_traces_from_its_recorded_graph():
    net, readout = make_net("lstm"), rnn.Linear(H, K, rng=2)
    step = tg.compile(many_to_many(net, readout))
    step(*data(np.random.default_rng(6)))
    grads = [p.grad for p in net.parameters()]
    step(*data(np.random.default_rng(7)))
    assert "t=6" in tg.to_dot(step.graph)  # the scope tags of the recorded steps
    trace = tg.trace_backward(step.graph)
    assert all(same_bits(trace.grad_of(p), g) for p, g in zip(net.parameters(), grads))


def tbptt_run(kind: str, replay: bool, k1: int, k2: int, optimizer: bool, length: int = 23,
              checkpoint_every=None):
    rng = np.random.default_rng(8)
    net, readout = make_net(kind), rnn.Linear(H, K, rng=2)
    xs, y = rng.standard_normal((B, length, K)), rng.integers(0, K, (B, length))

    def step_loss(t, h):
        return None if t % 4 == 1 else tg.cross_entropy(readout(h), y[:, t])

    params = net.parameters() + readout.parameters()
    opt = rnn.Adam(params, lr=0.05) if optimizer else None
    result = rnn.tbptt(net, xs, step_loss, k1=k1, k2=k2, optimizer=opt, compile=replay,
                       checkpoint_every=checkpoint_every)
    state = [s for layer in result.state for s in (layer if isinstance(layer, tuple) else (layer,))]
    return result.losses, [p.data for p in params], [p.grad for p in params], [s.data for s in state]


@pytest.mark.parametrize("kind", ["elman", "lstm", "gru", "stacked", "hoisted", "learned h0"])
@pytest.mark.parametrize(("k1", "k2", "optimizer"), [(5, 5, True), (3, 7, True), (4, 6, False)])
def test_truncated_bptt_replayed_equals_eager(kind, k1, k2, optimizer, monkeypatch):
    made = []
    real = tg.compile
    monkeypatch.setattr(tg, "compile", lambda fn, **kw: made.append(real(fn, **kw)) or made[-1])
    eager = tbptt_run(kind, False, k1, k2, optimizer)
    assert made == []
    replayed = tbptt_run(kind, True, k1, k2, optimizer)
    assert replayed[0] == eager[0]
    for got, want in zip(replayed[1:], eager[1:]):
        assert all(same_bits(g, w) for g, w in zip(got, want))
    assert made[0].replays >= 2  # the repeating windows came from a plan


def test_truncated_bptt_runs_a_custom_cell_eagerly(monkeypatch):
    class Custom(rnn.ElmanCell):
        """An Elman cell by another name: its Python is not rnn's own."""

    made = []
    monkeypatch.setattr(tg, "compile", lambda fn, **kw: made.append(fn))
    net = rnn.RNN(cell=Custom(K, H, rng=1))
    xs = np.random.default_rng(9).standard_normal((B, 12, K))
    result = rnn.tbptt(net, xs, lambda t, h: h.sum(), k1=3, k2=3)
    assert result.updates == 4 and made != []  # made, never called: every window eager


def training(replay: bool, kind: str = "elman"):
    net, readout = make_net(kind), rnn.Linear(H, K, rng=2)
    loss_fn = many_to_many(net, readout)

    def batches(epoch):
        rng = np.random.default_rng(epoch)
        return [(lambda xs, y: (xs, y))(*data(rng)) for _ in range(4)]

    opt = rnn.Adam(net.parameters() + readout.parameters(), lr=0.05)
    history = rnn.train(lambda batch: loss_fn(*batch), batches, opt, epochs=3, clip_norm=1.0,
                        progress=False, compile=replay)
    return history, [p.data for p in opt.params]


@pytest.mark.parametrize("kind", ["elman", "hoisted", "gru"])
def test_training_compiled_equals_eager_bit_for_bit(kind):
    eager, compiled = training(False, kind), training(True, kind)
    assert compiled[0] == eager[0]
    assert all(same_bits(a, b) for a, b in zip(compiled[1], eager[1]))


def test_training_compiled_refuses_a_loss_that_reads_its_targets_in_numpy():
    net, readout = make_net("elman"), rnn.Linear(H, K, rng=2)
    xs, y = np.zeros((B, T, K)), np.zeros((B, T), dtype=int)

    def loss_fn(batch):
        hs, _ = net(batch[0])
        return rnn.sequence_cross_entropy([readout(h) for h in hs], batch[1])

    opt = rnn.SGD(net.parameters() + readout.parameters(), lr=0.1)
    assert rnn.train(loss_fn, [(xs, y)], opt, progress=False)  # eagerly: fine
    with pytest.raises(tg.GraphStateError, match="read the values of input 1"):
        rnn.train(loss_fn, [(xs, y)], opt, progress=False, compile=True)


def test_a_float32_network_replays_with_float32_inputs():
    net = rnn.RNN(K, H, hoist_inputs=True, rng=1, dtype=np.float32)
    readout = rnn.Linear(H, K, rng=2, dtype=np.float32)
    params = net.parameters() + readout.parameters()
    loss_fn = many_to_many(net, readout)
    step = tg.compile(loss_fn)
    rng = np.random.default_rng(10)
    for _ in range(3):
        xs, y = data(rng)
        xs = xs.astype(np.float32)
        eager, expected, loss = eager_then_compiled(loss_fn, step, params, xs, y)
        assert loss.dtype == np.float32 and loss.item() == eager.item()
        assert all(p.grad.dtype == np.float32 and same_bits(p.grad, g) for p, g in zip(params, expected))
    with pytest.raises(tg.DTypeError, match="float64 Tensor that requires grad") as info:
        step(xs.astype(np.float64), y)  # a plain call converts them; a recording cannot
    assert "raised while tg.compile recorded" in "".join(getattr(info.value, "__notes__", []))


def test_truncated_bptt_with_checkpoints_runs_eagerly(monkeypatch):
    made = []
    real = tg.compile
    monkeypatch.setattr(tg, "compile", lambda fn, **kw: made.append(real(fn, **kw)) or made[-1])
    for kind in ("elman", "lstm"):
        eager = tbptt_run(kind, False, 4, 6, True, checkpoint_every=2)
        checkpointed = tbptt_run(kind, True, 4, 6, True, checkpoint_every=2)
        assert checkpointed[0] == eager[0]
        assert all(same_bits(g, w) for got, want in zip(checkpointed[1:], eager[1:])
                   for g, w in zip(got, want))
    assert made == []  # no plan: a checkpoint recomputes inside the eager backward pass


def test_a_plan_refuses_a_checkpoint_and_train_refuses_both():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: tg.checkpoint(lambda a: tg.tanh(a @ W), x).sum())
    with pytest.raises(tg.GraphStateError, match="cannot be replayed bit for bit"):
        step(np.ones((4, 3)))
    net = make_net("elman")
    with pytest.raises(tg.ConfigError, match="compile=True with checkpoint_every"):
        rnn.train(lambda b: net(b)[0][-1].sum(), [np.ones((B, T, K))], rnn.SGD(net.parameters()),
                  progress=False, compile=True, checkpoint_every=2)
