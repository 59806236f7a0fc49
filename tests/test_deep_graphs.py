"""Deep graphs: 100,000-step chains and a 10,000-step RNN backpropagate without recursion.

Each test runs under a recursion limit only 150 frames above the test's own depth, so any
recursive walk over the graph (forward recording, backward, trace, freeing the graph) would
fail at once instead of at Python's default of 1,000. Sizes are kept tiny (H = 2, B = 1) so
the whole file runs in a few seconds.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import bptt_reference as ref
import numpy as np
import pytest

import rnn
import tinygraph as tg

STEPS = 100_000


@contextmanager
def shallow_stack(headroom: int = 150) -> Iterator[None]:
    """Allow only ``headroom`` more frames than the caller has now."""
    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def test_a_100000_step_chain_with_a_shared_weight():
    """h_0 = x, h_(k+1) = h_k · w, L = h_n = x wⁿ: dL/dx = wⁿ, dL/dw = n x wⁿ⁻¹ (a junction
    of 100,000 contributions). tg.grad, then backward, then a second backward, refused.
    """
    w0, x0 = 0.99999, 0.5
    w = tg.Tensor(np.array([w0]), requires_grad=True, name="w")
    x = tg.Tensor(np.array([x0]), requires_grad=True, name="x")
    with shallow_stack():
        h = x
        for _ in range(STEPS):
            h = h * w
        loss = h.sum()
        functional = tg.grad(loss, [x, w], retain_graph=True)
        assert x.grad is None and w.grad is None
        loss.backward()
        with pytest.raises(tg.GraphStateError, match="already went through"):
            loss.backward()
        del loss, h  # dropping the last references frees 100,000 nodes: no recursive teardown
        gc.collect()
    want_x, want_w = w0**STEPS, STEPS * x0 * w0 ** (STEPS - 1)
    np.testing.assert_allclose(x.grad, [want_x], rtol=1e-9)
    np.testing.assert_allclose(w.grad, [want_w], rtol=1e-9)
    np.testing.assert_array_equal(functional[0], x.grad)
    np.testing.assert_array_equal(functional[1], w.grad)
    assert want_w > 10 * want_x  # the junction's sum is far from any one contribution


def test_detect_anomaly_names_the_first_overflowing_step_of_a_long_chain():
    x = tg.Tensor(np.array([2.0]), requires_grad=True)
    with shallow_stack(), tg.detect_anomaly(), np.errstate(over="ignore"):
        h = x
        with pytest.raises(tg.NumericsError, match=r"^mul \(t=1022\): forward"):
            for t in range(STEPS):
                with tg.scope(t=t):
                    h = h * 2.0  # h_t = 2^(t+2): 2^1024 overflows at t = 1022


def test_trace_backward_of_a_long_chain():
    x = tg.Tensor(np.array([1.0]), requires_grad=True)
    with shallow_stack():
        h = x
        for _ in range(20_000):
            h = tg.tanh(h)
        steps = tg.trace_backward(h.sum())
    assert len(steps) >= 20_000


def test_a_10000_step_rnn_matches_the_numpy_bptt():
    B, T, D, H, V = 1, 10_000, 1, 2, 2
    net = rnn.RNN(D, H, num_layers=1, nonlinearity="tanh", rng=0)
    readout = rnn.Linear(H, V, rng=1)
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(B, T, D))
    y = rng.integers(0, V, size=B)
    with shallow_stack():
        hs, h_last = net(xs)
        loss = rnn.last_step_cross_entropy(readout(h_last[-1]), y)
        loss.backward()
    params = {name: p.data for name, p in {**net.named_parameters(),
                                          **readout.named_parameters()}.items()}
    want_loss, want = ref.bptt(params, xs, y, ["tanh"], many_to_one=True)
    assert loss.item() == pytest.approx(want_loss, abs=1e-10)
    for name, p in {**net.named_parameters(), **readout.named_parameters()}.items():
        np.testing.assert_allclose(p.grad, want[name], rtol=1e-9, atol=1e-12, err_msg=name)
    assert len(hs) == T and np.abs(want["layer0.W_hh"]).max() > 1e-6
