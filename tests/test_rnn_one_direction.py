"""Truncated BPTT and RTRL run the steps in order, so they refuse a bidirectional network (its
reverse direction starts at the last step) instead of silently training only half of it."""

from __future__ import annotations

import numpy as np
import pytest

import rnn
from expect_error import expect


@pytest.mark.parametrize("run", [
    lambda net, xs, loss: rnn.tbptt(net, xs, loss, k1=2, k2=2),
    lambda net, xs, loss: rnn.rtrl(net, xs, loss),
], ids=["tbptt", "rtrl"])
def test_a_bidirectional_network_is_refused(run) -> None:
    net = rnn.RNN(2, 3, bidirectional=True, rng=0)
    xs = np.ones((1, 4, 2))
    calls = []

    def step_loss(t, h):
        calls.append(t)
        return h.sum()

    expect(rnn.ConfigError, lambda: run(net, xs, step_loss), "bidirectional",
           "reverse direction", "full BPTT")
    assert calls == [] and all(p.grad is None for p in net.parameters())
