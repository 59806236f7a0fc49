"""trace_backward: node steps and junction steps of a small unrolled recurrence."""

from __future__ import annotations

import numpy as np

import tinygraph as tg
from tinygraph.trace import JunctionStep, NodeStep


def unroll(T: int = 3):
    """h_t = tanh(w h_(t−1) + x_t), loss = Σ_t h_t (scalar, hand-checkable)."""
    w = tg.Tensor(0.5, requires_grad=True, name="w")
    h = tg.Tensor(0.0, name="h0")
    hs = []
    for t in range(T):
        with tg.scope(t=t):
            h = tg.tanh(w * h + float(t + 1))
            h.name = f"h{t}"
        hs.append(h)
    return w, hs, sum(hs[1:], hs[0])


def test_junction_at_h_sums_the_local_and_the_non_local_gradient():
    _, hs, loss = unroll()
    trace = tg.trace_backward(loss)
    junction = trace.junction_of(hs[1])
    assert isinstance(junction, JunctionStep)
    sources = [c.source.op.name for c in junction.contributions]
    assert sorted(sources) == ["add", "mul"]
    local = next(c for c in junction.contributions if c.source.op.name == "add")
    non_local = next(c for c in junction.contributions if c.source.op.name == "mul")
    assert non_local.scope == {"t": 2}
    # dL/dh1 from the recurrence: dL/dh2 · tanh'(a2) · w with dL/dh2 = 1.
    expected = 1.0 * (1 - hs[2].data ** 2) * 0.5
    np.testing.assert_allclose(non_local.grad, expected)
    np.testing.assert_allclose(local.grad, 1.0)
    np.testing.assert_allclose(junction.total, 1.0 + expected)


def test_junction_of_a_parameter_comes_at_the_end_and_matches_backward():
    w, _, loss = unroll()
    trace = tg.trace_backward(loss)
    last = trace[-1]
    assert isinstance(last, JunctionStep) and last.tensor is w
    assert len(last.contributions) == 3
    assert w.grad is None  # trace_backward does not touch .grad
    loss.backward()
    np.testing.assert_allclose(last.total, w.grad)
    np.testing.assert_allclose(sum(c.grad for c in last.contributions), w.grad)


def test_every_node_runs_once_and_a_junction_precedes_its_producer():
    _, hs, loss = unroll()
    trace = tg.trace_backward(loss)
    node_steps = [s for s in trace if isinstance(s, NodeStep)]
    assert len({id(s.node) for s in node_steps}) == len(node_steps)
    j = next(i for i, s in enumerate(trace) if isinstance(s, JunctionStep) and s.tensor is hs[1])
    assert isinstance(trace[j + 1], NodeStep) and trace[j + 1].node is hs[1].producer


def test_printed_trace_is_a_table_naming_ops_scopes_and_sums():
    _, _, loss = unroll()
    text = str(tg.trace_backward(loss))
    lines = text.splitlines()
    assert lines[0].split() == ["step", "kind", "what", "scope", "grad", "detail"]
    assert any("junction Σ" in line and "h1" in line and "at t=2" in line for line in lines)
    assert "tanh" in text and "t=1" in text
