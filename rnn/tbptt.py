"""Truncated backpropagation through time, BPTT(k2; k1) in the style of Williams & Peng (1990).

The stream x_0 .. x_(T−1) is processed in blocks of k1 steps, [b, b + k1) for b = 0, k1, 2·k1,
..., the last block [b, T) shorter when k1 does not divide T. For each block the gradient

    g_b = Σ_{s = b}^{e−1} ∂L_s/∂θ,   back-propagated only to the state entering step c,
    c = max(0, b − (k2 − k1)),       e = min(b + k1, T),

is computed: every block, the last one included, looks back exactly k2 − k1 steps before its
own first step. The state entering step c is a detached constant (a leaf) and steps c .. e−1
are unrolled from it; for a full block c = e − k2, the usual cut k2 steps before the update.
Then the optimizer (if any) takes one step with g_b. The hidden state is carried forward
detached, so memory stays O(k2) however long the stream.

* k1 = k2 = k: the chunked scheme for any T. Each chunk [b, b + k) starts from the previous
  chunk's final state as a constant and back-propagates through itself only; a last, shorter
  chunk does too (it never re-runs steps of the chunk before it).
* k2 > k1: each update looks further back than the block it learns from; the window's steps
  before the block are recomputed with the current parameters from the stored state at c
  (that state was computed once, with the parameters in force when the stream first reached
  it).
* k2 >= T: no truncation. Every block back-propagates to step 0 (for a last, shorter block
  this overrides the rule above), so without an optimizer (``optimizer=None``) the blocks'
  gradients, which accumulate in ``.grad``, add up to exactly the full BPTT gradient of Σ_s L_s.

Worked example: RNN(1, 1) with W_xh = .5, W_hh = .9, b_h = .1, xs = [1, −1, .5, 2], L_t = h_t,
k1 = k2 = 3. The chunks are [0, 3) and [3, 4), the second from h_2 held constant:
dL/dW_hh = 1.08369, what a PyTorch loop that detaches h at the start of each chunk gives.

k2 < k1 is refused: the earliest losses of a block would then lie before the cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.checkpointed import Every, check_every, flatten, named, segment_length, segments, unflatten
from rnn.checks import check_one_direction, check_positive, check_scalar_loss, check_size
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
    checkpoint_every: Every = None,
    rngs: Sequence[np.random.Generator] = (),
) -> TBPTTResult:
    """Run truncated BPTT over one stream (B, T, D) (see the module docstring for the math).

    Args:
        net: the recurrent stack.
        xs: the inputs, any form ``net`` accepts.
        step_loss: ``step_loss(t, h_t)`` returns the scalar loss L_t of step t from the top
            layer's h_t (a Tensor), or None when step t has no loss.
        k1: steps between updates; k2: steps back-propagated (k2 >= k1); ints >= 1.
        optimizer: updated after every block; None only accumulates ``.grad``.
        h0: initial states as for ``net(xs, h0)``.
        clip_norm: if given (a finite number > 0), clip the global gradient norm of the
            optimizer's parameters before each update; it needs an optimizer.
        checkpoint_every: None (the net's own setting), or cut each window into segments of k
            steps (``"sqrt"``: ⌈√window⌉), each a ``tg.checkpoint`` holding its steps and their
            losses: a window keeps about 2√k2 steps' worth of arrays instead of k2, for about
            one more forward pass; the gradients are the plain ones, bit for bit. With an
            optimizer, the tensors step_loss reads must be the net's or the optimizer's
            parameters; without one they are found by recording each segment once.
        rngs: numpy Generators step_loss draws from (e.g. for ``rnn.dropout``), replayed when
            a segment is recomputed (numpy's global generator always is).
    """
    if not isinstance(net, RNN):
        raise tg.DTypeError(f"tbptt: net must be an rnn.RNN, got a {type(net).__name__}")
    check_one_direction(net, "tbptt")
    if not callable(step_loss):
        raise tg.DTypeError(
            f"tbptt: step_loss must be a function step_loss(t, h_t) -> scalar Tensor or None, "
            f"got a {type(step_loss).__name__}"
        )
    k1, k2 = check_size(k1, "k1", "tbptt"), check_size(k2, "k2", "tbptt")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise tg.DTypeError(
            f"tbptt: optimizer must be an rnn optimizer (rnn.SGD, rnn.Adam) or None, got a "
            f"{type(optimizer).__name__}"
        )
    if clip_norm is not None:
        clip_norm = check_positive(clip_norm, "clip_norm", "tbptt")
        if optimizer is None:
            raise ConfigError(
                "tbptt: clip_norm needs an optimizer (it clips the gradient before each update); "
                "with optimizer=None the gradients only accumulate in .grad"
            )
    if k2 < k1:
        raise ConfigError(
            f"tbptt: k2={k2} < k1={k1}: the first {k1 - k2} losses of every block would lie "
            "before the truncation point; use k2 >= k1"
        )
    every = check_every(checkpoint_every, "tbptt") if checkpoint_every is not None else (
        net.checkpoint_every)
    inputs = InputSequence(xs, net.input_size, where="tbptt", dtype=net.dtype)
    T = inputs.length
    starts = {_window_start(b, k1, k2, T) for b in range(0, T, k1)} | {T}  # states ever read
    stored: dict[int, list[State]] = {}  # detached state entering step s, for s in starts
    params = None if optimizer is None else [*net.parameters(), *optimizer.params,
                                             *inputs.needing_grad()]
    result = TBPTTResult()
    for block_start in range(0, T, k1):
        end = min(block_start + k1, T)
        start = _window_start(block_start, k1, k2, T)
        # freshly built at step 0, so that a learned h0 is in this window's graph
        current = net.initial_states(inputs.batch_size, h0) if start == 0 else stored[start]
        window = Window(net, inputs, step_loss, block_start)
        length = segment_length(every, end - start)
        total = None
        for lo, hi in segments(start, end, length, sorted(starts)):
            if length is None:
                current, total = window.run(lo, hi, current, total)
            else:
                current, total = window.checkpointed(lo, hi, current, total, params, rngs)
            if hi in starts and hi not in stored:
                stored[hi] = [detach_state(state) for state in current]
        next_start = _window_start(end, k1, k2, T)
        for s in [s for s in stored if s < next_start]:
            del stored[s]
        if total is None:
            continue
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


class Window:
    """The steps of one update's window: the unroll from a state, with the block's step losses
    summed as they come, ((L_b + L_(b+1)) + L_(b+2)) + ..."""

    def __init__(self, net: RNN, inputs: InputSequence, step_loss: StepLoss, block_start: int):
        self.net, self.inputs, self.step_loss, self.block_start = net, inputs, step_loss, block_start

    def run(self, lo: int, hi: int, current: list[State], total: tg.Tensor | None) -> tuple[
            list[State], tg.Tensor | None]:
        """Steps lo..hi−1 from the states ``current``; the states after them and the total."""
        for s in range(lo, hi):
            hs, current = self.net.forward_states([self.inputs.step(s)], current, t0=s,
                                                  checkpoint=False)
            if s >= self.block_start:
                with tg.scope(t=s):
                    loss = self.step_loss(s, hs[0])
                if loss is not None:
                    loss = check_scalar_loss(loss, f"tbptt: step_loss({s}, h)",
                                             "or None when step t has no loss")
                    total = loss if total is None else total + loss
        return current, total

    def checkpointed(self, lo: int, hi: int, current: list[State], total: tg.Tensor | None,
                     params: list[tg.Tensor] | None, rngs: Sequence[np.random.Generator]) -> tuple[
            list[State], tg.Tensor | None]:
        """``run`` as one tg.checkpoint: it reads the states (and the total so far) and
        returns the states after the steps (and the new total)."""
        flat, layout = flatten(current)
        count = len(flat)

        def steps(*given: tg.Tensor) -> tuple[tg.Tensor, ...]:
            leaving, new_total = self.run(lo, hi, unflatten(given[:count], layout),
                                          given[count] if len(given) > count else None)
            return (*flatten(leaving)[0], *(() if new_total is None else (new_total,)))

        args = flat if total is None else [*flat, total]
        with tg.scope(t=hi - 1):  # drawn in the column of the segment's last step
            out = tg.checkpoint(named(steps, lo, hi - 1), *args, params=params, rngs=rngs)
        new_total = out[count] if len(out) > count else None
        return unflatten(out[:count], layout), new_total


def _window_start(block_start: int, k1: int, k2: int, T: int) -> int:
    """c = max(0, b − (k2 − k1)), the step whose entering state is the block's cut (0 when
    k2 >= T: no truncation)."""
    return 0 if k2 >= T else max(0, block_start - (k2 - k1))



