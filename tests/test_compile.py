"""tg.compile: a recorded graph replayed from a plan gives the eager values and gradients bit for
bit, records again when the signature changes, refuses what it cannot replay, and can be
checked against plain calls."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import rnn
import tinygraph as tg
from tinygraph.replay import compiled as compiled_module

RNG = np.random.default_rng(0)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


class TwoLayer:
    """y = softmax-cross-entropy(tanh(x W1 + b1) W2 + b2, targets): broadcasting, a junction
    (h is read twice), a scalar constant, integer targets."""

    def __init__(self, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        self.W1 = tg.Tensor(rng.standard_normal((3, 5)), requires_grad=True, name="W1")
        self.b1 = tg.Tensor(rng.standard_normal(5), requires_grad=True, name="b1")
        self.W2 = tg.Tensor(rng.standard_normal((5, 4)), requires_grad=True, name="W2")
        self.params = [self.W1, self.b1, self.W2]

    def loss(self, x, y):
        h = tg.tanh(x @ self.W1 + self.b1)
        return tg.cross_entropy(h @ self.W2 + 0.5 * h.sum(axis=1, keepdims=True), y)


def eager_and_compiled(model, step, x, y):
    """(eager loss, eager grads), (compiled loss, compiled grads), each from zeroed grads."""
    for p in model.params:
        p.grad = None
    eager = model.loss(tg.Tensor(x), y)
    eager.backward()
    expected = [p.grad for p in model.params]
    for p in model.params:
        p.grad = None
    loss = step(x, y)
    return (eager.item(), expected), (loss.item(), [p.grad for p in model.params])


def batch(n: int = 6):
    return RNG.standard_normal((n, 3)), RNG.integers(0, 4, n)


def test_replays_give_the_eager_loss_and_gradients_bit_for_bit_on_new_data():
    model = TwoLayer()
    step = tg.compile(model.loss)
    for _ in range(5):
        (want, grads), (got, found) = eager_and_compiled(model, step, *batch())
        assert got == want
        assert all(same_bits(g, f) for g, f in zip(grads, found))
    assert (step.recordings, step.replays) == (1, 4)
    assert "def forward" in step.source and "def backward" in step.source


def test_a_call_returns_a_leaf_and_adds_into_grad_as_backward_does():
    model = TwoLayer()
    step = tg.compile(model.loss)
    x, y = batch()
    loss = step(x, y)
    assert loss.is_leaf and not loss.requires_grad and loss.shape == ()
    first = [p.grad.copy() for p in model.params]
    step(x, y)  # no zero_grad: accumulates, as two backward() calls would
    assert all(same_bits(p.grad, g + g) for p, g in zip(model.params, first))


def test_a_new_shape_records_again_and_says_so_at_debug_level(caplog):
    model = TwoLayer()
    step = tg.compile(model.loss)
    with caplog.at_level(logging.DEBUG, logger="tinygraph.compile"):
        step(*batch(6))
        step(*batch(6))
        (want, grads), (got, found) = eager_and_compiled(model, step, *batch(7))
    assert got == want and all(same_bits(g, f) for g, f in zip(grads, found))
    assert step.recordings == 2
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "(a new signature): (7, 3) float64, (7,) int64" in messages[1]
    step(*batch(6))  # the first signature's plan is kept
    assert step.recordings == 2


def test_a_parameter_of_another_shape_records_again():
    model = TwoLayer()
    step = tg.compile(model.loss)
    step(*batch())
    step(*batch())
    model.W2.data = RNG.standard_normal((5, 6))  # six classes now
    x, y = batch()
    y[0] = 5
    (want, grads), (got, found) = eager_and_compiled(model, step, x, y)
    assert got == want and all(same_bits(g, f) for g, f in zip(grads, found))
    assert step.recordings == 2


def test_parameters_are_read_through_their_tensors_at_every_call():
    model = TwoLayer()
    step = tg.compile(model.loss)
    opt = rnn.SGD(model.params, lr=0.1)
    x, y = batch()
    losses = []
    for _ in range(4):
        opt.zero_grad()
        losses.append(step(x, y).item())
        opt.step()  # rebinds p.data
    assert losses[0] > losses[1] > losses[2] > losses[3]
    assert model.loss(tg.Tensor(x), y).item() < losses[3]


def test_an_input_tensor_that_requires_grad_gets_its_gradient():
    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: tg.tanh(x @ W).sum())
    for _ in range(3):
        x = tg.Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
        step(x)
        plain = tg.Tensor(x.data, requires_grad=True)
        tg.tanh(plain @ W).sum().backward()
        assert same_bits(x.grad, plain.grad)


def test_the_function_can_return_more_than_the_loss():
    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True, name="W")

    def fn(x):
        h = tg.tanh(x @ W)
        h.name = "h"
        return h.sum(), {"h": h, "x": x}

    step = tg.compile(fn)
    for _ in range(3):
        x = RNG.standard_normal((4, 3))
        loss, extra = step(x)
        assert same_bits(extra["h"].data, np.tanh(x @ W.data)) and extra["h"].name == "h"
        assert same_bits(extra["x"].data, x) and loss.item() == np.tanh(x @ W.data).sum()


def test_forward_and_backward_with_a_seed_equal_eager_backward_with_that_seed():
    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: tg.tanh(x @ W) * 2.0)
    for _ in range(3):
        x, seed = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))
        W.grad = None
        out = step.forward(x)
        step.backward(seed)
        got = W.grad
        W.grad = None
        (tg.tanh(tg.Tensor(x) @ W) * 2.0).backward(seed)
        assert same_bits(out.data, np.tanh(x @ W.data) * 2.0) and same_bits(got, W.grad)


def test_a_call_between_forward_and_backward_cancels_the_backward():
    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: tg.tanh(x @ W).sum())
    step.forward(np.ones((4, 3)))
    step(np.zeros((4, 3)))  # its own plan (a call seeds the loss) and its ops' state
    with pytest.raises(tg.GraphStateError, match="needs a forward"):
        step.backward(np.ones(()))
    W.grad = None
    step.forward(np.ones((4, 3)))
    step.backward(np.ones(()))
    got = W.grad
    W.grad = None
    tg.tanh(tg.Tensor(np.ones((4, 3))) @ W).sum().backward()
    assert same_bits(got, W.grad) and step.recordings == 2


def test_backward_needs_a_forward_and_seeds_of_the_outputs_shapes():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: x @ W)
    with pytest.raises(tg.GraphStateError, match="needs a forward"):
        step.backward(np.ones((4, 2)))
    step.forward(np.ones((4, 3)))
    with pytest.raises(tg.GraphStateError, match=r"shape \(2,\) \(grads\) for an output of shape \(4, 2\)"):
        step.backward(np.ones(2))


def test_control_flow_on_values_is_not_seen_by_a_plan_but_check_catches_it():
    W = tg.Tensor(np.eye(3)[:, :2], requires_grad=True)

    def fn(x):
        h = x @ W
        return h.sum() if h.sum().item() > 0 else (-h).sum()  # a branch on a value

    positive, negative = np.ones((2, 3)), -np.ones((2, 3))
    unchecked = tg.compile(fn)
    unchecked(positive)
    assert unchecked(negative).item() == -4.0  # the plan repeats the first call's branch
    assert fn(tg.Tensor(negative)).item() == 4.0
    checked = tg.compile(fn, check=True)
    checked(positive)
    checked(positive)
    differs = r"replay 2 of .* \(check=1\) differs from a plain call: output 0"
    with pytest.raises(tg.GraphStateError, match=differs):
        checked(negative)


def test_check_every_n_checks_the_first_replay_and_every_nth():
    model = TwoLayer()
    step = tg.compile(model.loss, check=3)
    plain_calls = []
    loss = model.loss

    def counted(x, y):
        plain_calls.append(type(x).__name__)
        return loss(x, y)

    step.fn = counted
    for _ in range(8):
        step(*batch())
    # the recording (an ArgumentTensor), then plain calls at replays 1, 4 and 7
    assert plain_calls == ["ArgumentTensor", "Tensor", "Tensor", "Tensor"]


def test_reading_an_input_value_while_recording_is_refused():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    refused = r"read the values of input 0 \(shape \(4, 3\), float64\)"
    for reads in (lambda x: x.data, np.asarray, lambda x: x.numpy()):
        step = tg.compile(lambda x, reads=reads: (reads(x) is None) + (x @ W).sum())
        with pytest.raises(tg.GraphStateError, match=refused):
            step(np.ones((4, 3)))
    for reads in (lambda s: s.item(), float, bool):
        step = tg.compile(lambda x, s, reads=reads: (x @ W).sum() * (2.0 if reads(s) else 1.0))
        with pytest.raises(tg.GraphStateError, match=r"read the values of input 1 \(shape \(\), float64\)"):
            step(np.ones((4, 3)), np.array(1.0))


def test_an_input_used_as_an_index_or_a_condition_is_refused_not_frozen():
    W = tg.Tensor(np.ones((4, 2)), requires_grad=True)
    for use in (lambda i: W[i].sum(), lambda i: tg.where(i > 0, W, 0.0).sum()):
        step = tg.compile(use)
        with pytest.raises(tg.GraphStateError, match="read the values of input 0"):
            step(np.array([0, 2]))


def test_writing_into_an_input_is_refused_and_into_a_copy_replays():
    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)

    def into_input(x):
        x[0] = 0.0
        return (x @ W).sum()

    def into_copy(x):
        y = tg.copy(x)
        y[0] = 0.0
        return tg.tanh(y @ W).sum()

    with pytest.raises(tg.GraphStateError, match=r"wrote into input 0 \(shape \(4, 3\), float64\)"):
        tg.compile(into_input)(np.ones((4, 3)))
    step = tg.compile(into_copy)
    for _ in range(3):
        x = RNG.standard_normal((4, 3))
        W.grad = None
        got = step(x).item()
        found = W.grad
        W.grad = None
        want = into_copy(tg.Tensor(x))
        want.backward()
        assert got == want.item() and same_bits(found, W.grad)


def test_a_compiled_call_inside_a_recording_is_refused():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    inner = tg.compile(lambda x: (x @ W).sum())
    outer = tg.compile(lambda x: inner(x) * 2.0 + (x @ W).sum())
    with pytest.raises(tg.GraphStateError, match=r"lambda> was called while .*lambda> was being recorded"):
        outer(np.ones((4, 3)))
    inner(np.ones((4, 3)))  # alone, as before
    assert inner.recordings == 1


def test_random_ops_are_refused():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: rnn.dropout(x @ W, 0.5, rng=0).sum())
    with pytest.raises(tg.GraphStateError, match=r"dropout\(p=0.5\) cannot be replayed"):
        step(np.ones((4, 3)))


def test_the_recorded_graph_draws_traces_and_checks():
    model = TwoLayer()
    step = tg.compile(model.loss)
    x, y = batch()
    step(x, y)
    first = [p.grad for p in model.params]
    step(*batch())  # a replay leaves the recorded graph as it was
    dot = tg.to_dot(step.graph)
    assert "tanh" in dot and "cross_entropy" in dot
    trace = tg.trace_backward(step.graph)
    assert all(same_bits(trace.grad_of(p), g) for p, g in zip(model.params, first))
    assert tg.gradcheck_nodes(step.graph).ok
    assert tg.gradcheck(lambda: model.loss(tg.Tensor(x), y), [model.W1]).ok


def test_an_op_that_returns_something_new_falls_back_to_the_reference_replay():
    class Flaky(tg.Op):
        """y = 3x; its backward returns a list from the third call on (the engine accepts it)."""

        calls = 0

        def forward(self, x):
            return 3.0 * x

        def backward(self, grad):
            Flaky.calls += 1
            return [3.0 * grad] if Flaky.calls >= 3 else (3.0 * grad,)

    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: Flaky()(tg.tanh(x @ W)).sum())
    for _ in range(5):
        x = RNG.standard_normal((4, 3))
        W.grad = None
        step(x)
        got = W.grad
        W.grad = None
        Flaky()(tg.tanh(tg.Tensor(x) @ W)).sum().backward()
        assert same_bits(got, W.grad)


def test_an_op_that_writes_into_its_incoming_gradient_gets_a_new_seed_at_every_call():
    class Doubling(tg.Op):
        """y = 2x, whose backward doubles the gradient it is given in place."""

        def forward(self, x):
            return 2.0 * x

        def backward(self, grad):
            grad *= 2.0
            return (grad,)

    W = tg.Tensor(np.ones(3), requires_grad=True)
    step = tg.compile(lambda x: Doubling()((x * W).sum()))
    for _ in range(4):
        W.grad = None
        step(np.ones(3))
        assert same_bits(W.grad, np.full(3, 2.0))


def test_a_long_plan_replays_from_a_table_with_the_same_bits(monkeypatch):
    monkeypatch.setattr(compiled_module, "WRITE_LIMIT", 0)
    model = TwoLayer()
    step = tg.compile(model.loss)
    for _ in range(4):
        (want, grads), (got, found) = eager_and_compiled(model, step, *batch())
        assert got == want and all(same_bits(g, f) for g, f in zip(grads, found))
    assert step.source is None  # a table has no source


def test_a_full_reduction_and_integer_inputs_indexed_by_ops_replay_with_new_values():
    V = tg.Tensor(RNG.standard_normal((3, 4)), requires_grad=True)

    def fn(x, y):
        logits = x @ V
        return tg.cross_entropy(logits[1:], y[1:]) + logits.sum() * 0.0 + (logits * logits).mean()

    step = tg.compile(fn)
    for _ in range(4):
        x, y = RNG.standard_normal((5, 3)), RNG.integers(0, 4, 5)
        V.grad = None
        got = step(x, y).item()
        found = V.grad
        V.grad = None
        want = fn(tg.Tensor(x), tg.Tensor(y))
        want.backward()
        assert got == want.item() and same_bits(found, V.grad)


def test_static_arguments_are_part_of_the_signature():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.compile(lambda x, scale, name="a": (x @ W).sum() * scale)
    x = np.ones((4, 3))
    assert step(x, 2.0).item() == 48.0 and step(x, 3.0).item() == 72.0
    assert step(x, 2.0, name="b").item() == 48.0 and step(x, 2.0).item() == 48.0
    assert step.recordings == 3 and step.replays == 1


def test_anomaly_detection_runs_the_function_at_every_call():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    step = tg.compile(lambda x: tg.log(x @ W).sum())
    step(np.ones((4, 3)))
    with tg.detect_anomaly():
        step(np.ones((4, 3)))
        step(np.ones((4, 3)))
        with np.errstate(invalid="ignore"), pytest.raises(tg.NumericsError, match="log"):
            step(-np.ones((4, 3)))
    assert step.recordings == 3 and step.replays == 0


def test_what_compile_refuses():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True)
    with pytest.raises(tg.DTypeError, match="fn must be a function"):
        tg.compile(3)
    with pytest.raises(tg.ConfigError, match="check must be True, False or a number"):
        tg.compile(lambda x: x, check=0.5)
    with pytest.raises(tg.DTypeError, match=r"must return a Tensor, .* got a float"):
        tg.compile(lambda x: 1.0)(np.ones(2))
    with pytest.raises(tg.GraphStateError, match=r"a Tensor of shape \(4, 2\) .* first"):
        tg.compile(lambda x: x @ W)(np.ones((4, 3)))
    with pytest.raises(tg.GraphStateError, match="does not depend on any Tensor that requires grad"):
        tg.compile(lambda x: x.sum())(np.ones(3))
    with pytest.raises(tg.DTypeError, match="argument 1 is a set"):
        tg.compile(lambda x, s: (x @ W).sum())(np.ones((4, 3)), {1})
    with tg.no_grad(), pytest.raises(tg.GraphStateError, match="gradients are off"):
        tg.compile(lambda x: (x @ W).sum())(np.ones((4, 3)))


EVERY_OP = {
    "arith": lambda x, W: ((x @ W - 0.5 * x[:, :2].sum()) / (1.0 + (x @ W) ** 2) - (-x).mean()).sum(),
    "elementwise": lambda x, W: (tg.sigmoid(x @ W) + tg.relu(x @ W) + tg.exp(-abs(x @ W))
                                 + tg.log(1.0 + tg.square(x @ W)) + tg.sqrt(2.0 + tg.sin(x @ W))
                                 + tg.cos(x @ W)).sum(),
    "minmax": lambda x, W: (tg.maximum(x @ W, 0.1) + tg.minimum(x @ W, W.sum())).sum()
                           + (x @ W).max(axis=1).sum() + (x @ W).min(),
    "select": lambda x, W: (tg.where(np.arange(8).reshape(4, 2) % 3 == 0, x @ W, 2.0 * (x @ W))
                            + tg.clip(x @ W, -0.5, 0.5)).sum(),
    "shape": lambda x, W: (tg.concat([x @ W, x[:, ::-1] @ W], axis=1).T.reshape(2, -1)[1]
                           + tg.stack([x[0], x[2]], axis=1).sum(axis=1).sum()).sum()
                          + sum(p.sum() for p in tg.split(x @ W, 2, axis=0)),
    "indexing": lambda x, W: (x[[0, 0, 3]] @ W).sum() + (x[np.array([[1, 2]]), 1:] @ W[1:]).sum(),
    "softmax": lambda x, W: (tg.softmax(x @ W, axis=0) * tg.log_softmax(x @ W)).sum()
                            + tg.cross_entropy(x @ W, np.array([0, 1, 1, 0]), reduction="mean"),
    "matmul shapes": lambda x, W: (x[0] @ W[:, 0]) + (tg.stack([x, x]) @ W).sum() + (x[0] @ W).sum(),
    "setitem": lambda x, W: _written(x @ W).sum(),
}


def _written(h):
    y = tg.copy(h)
    y[1:3, 0] = tg.tanh(h[0])
    return y * y


@pytest.mark.parametrize("name", list(EVERY_OP))
def test_every_engine_op_replays_bit_for_bit(name):
    fn = EVERY_OP[name]
    W = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True, name="W")
    step = tg.compile(fn)
    for _ in range(4):
        x = RNG.standard_normal((4, 3))
        W.grad = None
        got = step(x, W).item()
        found = W.grad
        W.grad = None
        want = fn(tg.Tensor(x), W)
        want.backward()
        assert got == want.item() and same_bits(found, W.grad)
    assert step.replays == 3
