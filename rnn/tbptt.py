"""Truncated backpropagation through time, BPTT(k2; k1) in the style of Williams & Peng (1990).

The stream x_0 .. x_(T−1) is processed in blocks of k1 steps. At the end of each block, at
step t (t = k1, 2·k1, ..., and T for a last partial block), the gradient

    g_t = Σ_{s = t−k1}^{t−1} ∂L_s/∂θ,   back-propagated only to the state entering step t−k2

is computed: the state entering step max(0, t−k2) is a detached constant (a leaf), and the
last k2 steps are unrolled from it. Then the optimizer (if any) takes one step with g_t. The
hidden state is carried forward detached, so memory stays O(k2) however long the stream.

* k1 = k2 = k: the common chunked scheme (each chunk back-propagates through itself only).
* k2 > k1: each update looks further back than the block it learns from; the window's last
  k2 steps are recomputed with the current parameters from the stored state at t−k2 (that
  state was computed once, with the parameters in force when the stream first reached it).
* k2 >= T: no truncation. Without an optimizer (``optimizer=None``) the blocks' gradients just
  accumulate in ``.grad`` and add up to exactly the full BPTT gradient of Σ_s L_s.

k2 < k1 is refused: the earliest losses of a block would then lie before the cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tinygraph as tg
from rnn.errors import ConfigError
from rnn.network import RNN
from rnn.optim import Optimizer, clip_grad_norm
from rnn.sequences import InputSequence, State, detach_state

StepLoss = Callable[[int, tg.Tensor], "tg.Tensor | None"]


@dataclass
class TBPTTResult:
    """What ``tbptt`` did: one loss per update, the update count, the final detached states."""

    losses: list[float] = field(default_factory=list)
    updates: int = 0
    state: list[State] = field(default_factory=list)


def tbptt(
    net: RNN,
    xs: Any,
    step_loss: StepLoss,
    *,
    k1: int,
    k2: int,
    optimizer: Optimizer | None = None,
    h0: Any = None,
    clip_norm: float | None = None,
) -> TBPTTResult:
    """Run truncated BPTT over one stream (B, T, D) (see the module docstring for the math).

    Args:
        net: the recurrent stack.
        xs: the inputs, any form ``net`` accepts.
        step_loss: ``step_loss(t, h_t)`` returns the scalar loss L_t of step t from the top
            layer's h_t (a Tensor), or None when step t has no loss.
        k1: steps between updates; k2: steps back-propagated (k2 >= k1).
        optimizer: updated after every block; None only accumulates ``.grad``.
        h0: initial states as for ``net(xs, h0)``.
        clip_norm: if given, clip the global gradient norm of the optimizer's parameters.
    """
    for label, k in (("k1", k1), ("k2", k2)):
        if not isinstance(k, int) or k < 1:
            raise ConfigError(f"tbptt: {label} must be a positive int, got {k!r}")
    if k2 < k1:
        raise ConfigError(
            f"tbptt: k2={k2} < k1={k1}: the first {k1 - k2} losses of every block would lie "
            "before the truncation point; use k2 >= k1"
        )
    inputs = InputSequence(xs, net.input_size, where="tbptt")
    T = inputs.length
    stored: dict[int, list[State]] = {}  # detached state entering step s
    result = TBPTTResult()
    for block_start in range(0, T, k1):
        end = min(block_start + k1, T)
        start = max(0, end - k2)
        current = _starting_state(net, h0, inputs.batch_size) if start == 0 else stored[start]
        terms = []
        for s in range(start, end):
            hs, current = net.forward_states([inputs.step(s)], current, t0=s)
            if s + 1 not in stored:
                stored[s + 1] = [detach_state(state) for state in current]
            if s >= block_start:
                with tg.scope(t=s):
                    loss = step_loss(s, hs[0])
                if loss is not None:
                    terms.append(loss)
        next_start = max(0, min(end + k1, T) - k2)
        for s in [s for s in stored if s < next_start]:
            del stored[s]
        if not terms:
            continue
        total = sum(terms[1:], terms[0])
        if optimizer is not None:
            optimizer.zero_grad()
        total.backward()
        if optimizer is not None:
            if clip_norm is not None:
                clip_grad_norm(optimizer.params, clip_norm)
            optimizer.step()
        result.losses.append(float(total.item()))
        result.updates += 1
    result.state = stored.get(T, [])
    return result


def _starting_state(net: RNN, h0: Any, batch_size: int) -> list[State]:
    """The initial states, freshly built so that a learned h0 is in this window's graph."""
    if h0 is None:
        return net.initial_states(batch_size)
    return net._initial_states(h0, batch_size)
