"""The worked examples of SEEDS.md as tests: where the recurrence sits in a stack (item 2) and
the concatenation trick (item 4)."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
import tinygraph as tg

SEQUENCE = [[[1.0, 1.0]], [[2.0, 2.0]], [[3.0, 3.0]]]  # T = 3 steps of (B=1, D=2)


def ones_cell(input_size: int, hidden_size: int, nonlinearity: str = "identity") -> rnn.ElmanCell:
    """h_t = f(x_t W + h_(t−1) V + b) with W, V all ones, b = 0, f = identity by default."""
    cell = rnn.ElmanCell(input_size, hidden_size, nonlinearity=nonlinearity)
    cell.W_xh.data = np.ones((input_size, hidden_size))
    cell.W_hh.data = np.ones((hidden_size, hidden_size))
    cell.b_h.data = np.zeros(hidden_size)
    return cell


def test_seed2_recurrent_relu_recurrent_gives_4_20_64():
    first = rnn.RNN(cell=ones_cell(2, 2))
    second = rnn.RNN(cell=ones_cell(2, 1))
    hs1, _ = first(SEQUENCE)
    assert [h.data.tolist() for h in hs1] == [[[2, 2]], [[8, 8]], [[22, 22]]]
    between = []
    for t, h in enumerate(hs1):
        with tg.scope(t=t, layer=1):
            between.append(tg.relu(h))
    hs2, h_last = second(between)
    assert [h.item() for h in hs2] == [4.0, 20.0, 64.0]
    assert h_last[0].item() == 64.0


def test_seed2_as_one_stack_of_cells():
    net = rnn.RNN(cell=[ones_cell(2, 2), ones_cell(2, 1)])
    hs, h_last = net(np.array(SEQUENCE).transpose(1, 0, 2))  # (B=1, T=3, D=2)
    assert [h.item() for h in hs] == [4.0, 20.0, 64.0]
    assert [h.data.tolist() for h in h_last] == [[[22.0, 22.0]], [[64.0]]]
    # Layer 0 with J = ones(2, 2): h1_t = x_t J + h1_(t−1) J, so sum(h1_t) = 2 sum(x_t) +
    # 2 sum(h1_(t−1)). Layer 1: out = sum(h1_2) + sum(h1_1) + sum(h1_0)
    #   = (8 + 4 + 2) sum(x_0) + (4 + 2) sum(x_1) + 2 sum(x_2): d out/d x_t = 14, 6, 2.
    x = tg.Tensor(np.array(SEQUENCE).transpose(1, 0, 2), requires_grad=True, name="x")
    hs, _ = net(x)
    (dx,) = tg.grad(hs[-1].sum(), [x])
    np.testing.assert_array_equal(dx[0], [[14.0, 14.0], [6.0, 6.0], [2.0, 2.0]])
    assert float((dx * x.data).sum()) == 64.0  # linear in x: out = Σ (d out/d x) x


def test_seed2_with_a_relu_layer_under_an_identity_layer():
    # Layer 0 with f = relu instead of a separate relu: the same numbers here, since every
    # value is positive (the relu inside the recurrence changes nothing for positive h).
    net = rnn.RNN(cell=[ones_cell(2, 2, "relu"), ones_cell(2, 1)])
    hs, h_last = net(SEQUENCE)
    assert [h.item() for h in hs] == [4.0, 20.0, 64.0]
    assert h_last[0].producer.op.name == "relu" and h_last[1].producer.op.name == "identity"


@pytest.mark.parametrize("layers", [1, 2])
def test_fused_and_unfused_give_the_same_values_and_gradients(layers):
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(3, 6, 4))
    y = rng.integers(0, 5, size=(3, 6))
    results = []
    for fused in (False, True):
        net = rnn.RNN(4, 7, num_layers=layers, fused=fused, rng=1)
        readout = rnn.Linear(7, 5, rng=2)
        hs, _ = net(xs)
        loss = rnn.sequence_cross_entropy([readout(h) for h in hs], y)
        loss.backward()
        ops = {n.op.name for n in _nodes(loss)}
        results.append((loss.item(), [h.data for h in hs],
                        [p.grad for p in net.parameters() + readout.parameters()], ops))
    (l0, h0, g0, ops0), (l1, h1, g1, ops1) = results
    assert l0 == pytest.approx(l1, abs=1e-12)
    for a, b in zip(h0, h1):
        np.testing.assert_allclose(a, b, atol=1e-13)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(a, b, atol=1e-12)
    assert "concat" in ops1 and "concat" not in ops0


def _nodes(root: tg.Tensor) -> list[tg.Node]:
    seen, stack = set(), [root.producer]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(t.producer for t in node.inputs)
    return list(seen)
