"""tg.checkpoint: the plain graph's gradients bit for bit, less memory, and the engine's tools through it."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygraph as tg

H, D, B, T = 4, 3, 2, 12


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype, shape and bytes (so -0.0 and 0.0 differ, and NaN payloads count)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


class Chain:
    """h_t = tanh(x_t U + h_(t−1) W + b) over T steps, loss Σ_segments Σ h_end² (one per segment)."""

    def __init__(self, seed: int = 0, dtype: type = np.float64) -> None:
        rng = np.random.default_rng(seed)
        self.W = tg.Tensor((rng.standard_normal((H, H)) * 0.5).astype(dtype), requires_grad=True,
                           name="W")
        self.U = tg.Tensor(rng.standard_normal((D, H)).astype(dtype), requires_grad=True, name="U")
        self.b = tg.Tensor(rng.standard_normal(H).astype(dtype), requires_grad=True, name="b")
        self.X = rng.standard_normal((T, B, D)).astype(dtype)
        self.dtype = dtype

    @property
    def params(self) -> list[tg.Tensor]:
        return [self.W, self.U, self.b]

    def step(self, h: tg.Tensor, t: int) -> tg.Tensor:
        with tg.scope(t=t):
            return tg.tanh(self.X[t] @ self.U + h @ self.W + self.b)

    def segment(self, start: int, stop: int) -> Callable[[tg.Tensor], tg.Tensor]:
        def steps(h: tg.Tensor) -> tg.Tensor:
            for t in range(start, stop):
                h = self.step(h, t)
            return h

        return steps

    def loss(self, k: int, checkpointed: bool, h0: tg.Tensor | None = None,
             **options: Any) -> tg.Tensor:
        h = h0 if h0 is not None else tg.Tensor(np.zeros((B, H), dtype=self.dtype))
        total = None
        for start in range(0, T, k):
            steps = self.segment(start, min(start + k, T))
            h = tg.checkpoint(steps, h, **options) if checkpointed else steps(h)
            term = (h * h).sum()
            total = term if total is None else total + term
        return total

    def grads(self, loss: tg.Tensor, extra: tuple[tg.Tensor, ...] = ()) -> list[np.ndarray]:
        for p in (*self.params, *extra):
            p.grad = None
        loss.backward()
        return [p.grad for p in (*self.params, *extra)]


@pytest.mark.parametrize("k", [1, 3, 5, 12])
@pytest.mark.parametrize("options", [{}, {"params": "given"}], ids=["found", "params="])
def test_checkpointed_gradients_are_the_plain_ones_bit_for_bit(k: int, options: dict) -> None:
    chain = Chain()
    if options:
        options = {"params": chain.params}
    plain = chain.loss(k, checkpointed=False)
    checkpointed = chain.loss(k, checkpointed=True, **options)
    assert same_bits(plain.data, checkpointed.data)
    for a, b in zip(chain.grads(plain), chain.grads(checkpointed)):
        assert same_bits(a, b)


def test_tg_grad_through_checkpoints_is_bit_for_bit_and_repeatable():
    chain = Chain(seed=1)
    h0 = tg.Tensor(np.full((B, H), 0.3), requires_grad=True, name="h0")
    plain = chain.loss(4, False, h0)
    checkpointed = chain.loss(4, True, h0)
    expected = tg.grad(plain, [*chain.params, h0])
    for _ in range(2):  # the graph is only read: a second tg.grad gives the same
        for a, b in zip(expected, tg.grad(checkpointed, [*chain.params, h0])):
            assert same_bits(a, b)
    assert all(p.grad is None for p in chain.params)


def test_float32_stays_float32_and_bit_for_bit():
    chain = Chain(seed=2, dtype=np.float32)
    plain, checkpointed = chain.loss(5, False), chain.loss(5, True)
    assert checkpointed.dtype == np.float32
    for a, b in zip(chain.grads(plain), chain.grads(checkpointed)):
        assert a.dtype == np.float32 and same_bits(a, b)


def test_the_node_reads_the_arguments_and_the_parameters_it_found():
    chain = Chain()
    h0 = tg.Tensor(np.zeros((B, H)), name="h0")  # a constant: only the closure needs grad
    h = tg.checkpoint(chain.segment(0, 3), h0)
    node = h.producer
    assert node.op.name == "checkpoint" and node.op.describe() == "checkpoint[steps]"
    assert [t.name for t in node.inputs] == ["h0", "U", "W", "b"]  # arguments, then first use
    assert h.requires_grad
    assert tg.saved_bytes(h).nodes[0].node is node  # one node: no step of the segment is kept


def test_params_given_records_nothing_inside_and_a_missing_one_is_refused():
    chain = Chain()
    h = tg.checkpoint(chain.segment(0, 3), tg.Tensor(np.zeros((B, H))), params=[chain.W, chain.U])
    assert [t.name for t in h.producer.inputs] == [None, "W", "U"]
    with pytest.raises(tg.GraphStateError, match=(
            r"backward of checkpoint\[steps\]: fn read tensor 'b', which requires grad but is "
            r"neither an argument of tg.checkpoint nor in its params=")):
        h.sum().backward()


def test_a_checkpointed_chain_holds_its_states_not_its_steps():
    chain = Chain()
    plain = tg.saved_bytes(chain.loss(3, False))
    checkpointed = tg.saved_bytes(chain.loss(3, True))
    assert set(plain.parameter_bytes) == {"W [4x4]", "U [3x4]"}  # add keeps no input: b is no saved array
    assert set(checkpointed.parameter_bytes) == {"W [4x4]", "U [3x4]", "b [4]"}  # the node keeps all
    # its 4 segment ends (the inputs are those) and h0; no generator state (fn draws nothing)
    assert checkpointed.by_op["checkpoint"] == 4 * B * H * 8 + B * H * 8
    assert "tanh" not in checkpointed.by_op and plain.by_op["tanh"] == T * B * H * 8
    assert checkpointed.activations < plain.activations / 7


def tuple_segment(chain: Chain, start: int, stop: int) -> Callable[..., tuple[tg.Tensor, ...]]:
    """Steps start..stop−1 returning (h_end, Σ_t Σ h_t², h_end): a tuple with a repeat."""
    def steps(h: tg.Tensor) -> tuple[tg.Tensor, tg.Tensor, tg.Tensor]:
        total = None
        for t in range(start, stop):
            h = chain.step(h, t)
            term = (h * h).sum().reshape(1)
            total = term if total is None else total + term
        return h, total, h

    return steps


def test_a_tuple_comes_back_as_views_of_one_output_and_the_gradients_are_bit_for_bit():
    chain = Chain(seed=3)

    def run(checkpointed: bool) -> tg.Tensor:
        h = tg.Tensor(np.zeros((B, H)))
        total = None
        for start in range(0, T, 4):
            fn = tuple_segment(chain, start, start + 4)
            h, part, again = tg.checkpoint(fn, h) if checkpointed else fn(h)
            assert again is h
            total = part if total is None else total + part
        return total.sum() + (h * 3.0).sum()

    plain, checkpointed = run(False), run(True)
    assert same_bits(plain.data, checkpointed.data)
    for a, b in zip(chain.grads(plain), chain.grads(checkpointed)):
        assert same_bits(a, b)
    report = tg.saved_bytes(run(True))
    assert report.by_op["unpack"] == 0  # views of the packed output, charged once to it
    assert report.by_op["checkpoint"] == 3 * (B * H + 1) * 8 + B * H * 8


def test_nested_checkpoints_are_bit_for_bit():
    chain = Chain(seed=4)

    def outer(start: int) -> Callable[[tg.Tensor], tg.Tensor]:
        def two_segments(h: tg.Tensor) -> tg.Tensor:
            h = tg.checkpoint(chain.segment(start, start + 3), h)
            return tg.checkpoint(chain.segment(start + 3, start + 6), h)

        return two_segments

    def run(checkpointed: bool) -> tg.Tensor:
        h = tg.Tensor(np.zeros((B, H)))
        for start in (0, 6):
            h = tg.checkpoint(outer(start), h) if checkpointed else outer(start)(h)
        return (h * h).sum()

    with tg.no_grad():  # inside no_grad a checkpoint only runs fn
        assert tg.checkpoint(outer(0), tg.Tensor(np.zeros((B, H)))).producer is None
    plain, checkpointed = run(False), run(True)
    assert [n.op.name for n in checkpointed.producer.inputs[0].producer.inputs[0].producer.inputs[
        0].consumers] == ["checkpoint"]
    for a, b in zip(chain.grads(plain), chain.grads(checkpointed)):
        assert same_bits(a, b)


def test_an_outer_intermediate_read_from_the_closure_gets_its_gradient():
    x = tg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True, name="x")

    def run(checkpointed: bool) -> tg.Tensor:
        z = x * 2.0  # not an argument: fn reads it from its closure

        def fn(y: tg.Tensor) -> tg.Tensor:
            return tg.tanh(y * z) + z

        y = tg.Tensor(np.ones(3))
        out = tg.checkpoint(fn, y) if checkpointed else fn(y)
        return (out * z).sum()

    x.grad = None
    run(False).backward()
    expected = x.grad
    x.grad = None
    run(True).backward()
    assert same_bits(expected, x.grad)


def test_fn_returning_its_argument_passes_the_gradient_through():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tg.checkpoint(lambda a: a, x)
    assert y.producer.op.describe() == "checkpoint"
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_the_trace_shows_the_recomputation_with_its_scopes():
    chain = Chain()
    plain = tg.trace_backward(chain.loss(6, False))
    trace = tg.trace_backward(chain.loss(6, True))
    kinds = [(type(s).__name__, s.node.op.name if hasattr(s, "node") else "") for s in trace]
    first = kinds.index(("NodeStep", "checkpoint"))
    assert kinds[first + 1] == ("NodeStep", "tanh")
    recomputed = [s for s in trace if hasattr(s, "node") and s.node.scope.get("recomputed")]
    assert [s.node.scope for s in recomputed[:2]] == [{"t": 11, "recomputed": True}] * 2
    assert len(recomputed) == len([s for s in plain if hasattr(s, "node")]) - 5  # 5 outer nodes
    assert "t=11, recomputed=True" in str(trace)
    for p in Chain().params:
        name = p.name
        got = next(g for t, g in trace.grads.items() if t.name == name)
        want = next(g for t, g in plain.grads.items() if t.name == name)
        assert same_bits(got, want)
    w_junction = next(j for j in trace.junctions() if j.tensor.name == "W")
    assert len(w_junction.contributions) == T  # one per recomputed step, as in the plain trace


def test_the_checkpoint_node_passes_gradcheck_nodes():
    chain = Chain()
    report = tg.gradcheck_nodes(chain.loss(4, True), mode="full")
    assert report.ok
    assert {row.node.op.name for row in report.rows} >= {"checkpoint"}


def test_anomaly_mode_names_the_recomputed_op_and_its_scope():
    x = tg.Tensor(np.array([0.0, 1.0]), requires_grad=True)

    def fn(a: tg.Tensor) -> tg.Tensor:
        with tg.scope(t=2):
            return a ** 0.5  # forward fine at 0; its gradient 0.5 · 0^(−0.5) is inf

    y = tg.checkpoint(fn, x).sum()
    with tg.detect_anomaly(), pytest.raises(tg.NumericsError, match=(
            r"backward of pow \(t=2, recomputed=True\) produced non-finite values")):
        y.backward()


def test_a_write_into_a_parameter_between_the_passes_is_refused():
    chain = Chain()
    loss = chain.loss(6, True)
    chain.W.data[0, 0] = 5.0
    with pytest.raises(tg.GraphStateError, match=r"backward through checkpoint\[steps\]: its "
                       r"input 2 \(tensor 'W', shape \(4, 4\)\) was changed in place"):
        loss.backward()


def test_a_rebound_parameter_does_not_change_the_recomputation():
    def grads(checkpointed: bool) -> np.ndarray:
        chain = Chain(seed=5)
        loss = chain.loss(6, checkpointed)
        chain.W.data = chain.W.data * 3.0  # rebound, not written: the saved arrays are the old
        return chain.grads(loss)

    for a, b in zip(grads(False), grads(True)):
        assert same_bits(a, b)


def noisy_segment(chain: Chain, draw: Callable[[tuple[int, ...]], np.ndarray]) -> Callable:
    def steps(h: tg.Tensor) -> tg.Tensor:
        for t in range(3):
            h = chain.step(h, t) * draw((B, H))  # a dropout-like random mask inside fn
        return h

    return steps


def test_numpy_global_random_numbers_are_replayed_and_the_stream_goes_on():
    chain = Chain()
    h = tg.checkpoint(noisy_segment(chain, np.random.random_sample), tg.Tensor(np.zeros((B, H))))
    assert tg.saved_bytes(h).by_op["checkpoint"] == B * H * 8 * 2 + 624 * 4  # kept: fn drew

    def run(checkpointed: bool) -> tuple[list[np.ndarray], float]:
        np.random.seed(7)
        fn = noisy_segment(chain, np.random.random_sample)
        h = tg.checkpoint(fn, tg.Tensor(np.zeros((B, H)))) if checkpointed else fn(
            tg.Tensor(np.zeros((B, H))))
        grads = chain.grads((h * h).sum())
        return grads, np.random.random_sample()

    (plain, after_plain), (checkpointed, after) = run(False), run(True)
    assert after == after_plain  # the recomputation consumed no numbers of the stream
    for a, b in zip(plain, checkpointed):
        assert same_bits(a, b)


def test_a_generator_given_in_rngs_is_replayed():
    chain = Chain()

    def run(checkpointed: bool) -> list[np.ndarray]:
        gen = np.random.default_rng(11)
        fn = noisy_segment(chain, gen.random)
        h0 = tg.Tensor(np.zeros((B, H)))
        h = tg.checkpoint(fn, h0, rngs=[gen]) if checkpointed else fn(h0)
        return chain.grads((h * h).sum())

    for a, b in zip(run(False), run(True)):
        assert same_bits(a, b)


def test_a_generator_not_given_is_caught_not_silently_wrong():
    chain = Chain()
    gen = np.random.default_rng(11)
    h = tg.checkpoint(noisy_segment(chain, gen.random), tg.Tensor(np.zeros((B, H))))
    with pytest.raises(tg.GraphStateError, match=(
            r"backward of checkpoint\[steps\]: recomputing fn gave a different output than its "
            r"forward pass \(largest difference .*\); fn must compute the same values")):
        (h * h).sum().backward()


def test_a_second_backward_is_refused_unless_the_first_retained_the_graph():
    chain = Chain()
    loss = chain.loss(6, True)
    loss.backward(retain_graph=True)
    first = chain.W.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(chain.W.grad, 2 * first)
    with pytest.raises(tg.GraphStateError, match="an earlier backward"):
        loss.backward()


def test_tg_grad_retain_graph_false_frees_the_checkpoint_node():
    chain = Chain()
    loss = chain.loss(6, True)
    tg.grad(loss, chain.params, retain_graph=False)
    assert tg.saved_bytes(loss).total == 0
    with pytest.raises(tg.GraphStateError, match="its saved arrays were freed"):
        loss.backward()


def test_what_fn_returns_and_what_is_given_is_checked():
    x = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(tg.DTypeError, match="checkpoint: <lambda> returned float; it must return "
                       "a Tensor or a non-empty tuple of Tensors"):
        tg.checkpoint(lambda a: 1.0, x)
    with pytest.raises(tg.DTypeError, match="a tuple of tensors of dtype float32, float64"):
        tg.checkpoint(lambda a: (a * 2.0, tg.Tensor(np.ones(2, dtype=np.float32))), x)
    with pytest.raises(tg.DTypeError, match=r"checkpoint: params\[0\] is a ndarray, not a Tensor"):
        tg.checkpoint(lambda a: a * 2.0, x, params=[np.ones(2)])
    with pytest.raises(tg.DTypeError, match="checkpoint: fn must be callable, got Tensor"):
        tg.checkpoint(x, x)
    with pytest.raises(tg.DTypeError, match=r"checkpoint: rngs\[0\] is a int, not a numpy"):
        tg.checkpoint(lambda a: a * 2.0, x, rngs=[3])


def test_no_tensor_that_needs_grad_means_no_node():
    y = tg.checkpoint(lambda a: a * 2.0, tg.Tensor(np.ones(2)))
    assert y.producer is None and not y.requires_grad


def test_a_recomputed_segment_is_freed_before_the_next_one_is_recomputed():
    alive: weakref.WeakSet = weakref.WeakSet()

    class Tracked(tg.Op):
        """y = x, remembering (weakly) every instance made."""

        def __init__(self) -> None:
            alive.add(self)

        def forward(self, x: np.ndarray) -> np.ndarray:
            return x * 1.0

        def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
            return (grad,)

    W = tg.Tensor(np.eye(3) * 0.5, requires_grad=True)
    seen: list[int] = []

    def segment(h: tg.Tensor) -> tg.Tensor:
        seen.append(len(alive))
        y = Tracked()(h)
        return tg.tanh(y @ W + y)  # y is a junction: the pass sums into a buffer of its own

    h = tg.Tensor(np.ones((1, 3)))
    for _ in range(8):
        h = tg.checkpoint(segment, h, params=[W])
    seen.clear()
    h.sum().backward()
    assert len(seen) == 8 and max(seen) <= 1  # at most the segment whose backward is running
