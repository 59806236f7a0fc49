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

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.checkpointed import Every, check_every, flatten, named, segment_length, segments, unflatten
from rnn.cell import ElmanCell
from rnn.checks import check_flag, check_one_direction, check_positive, check_scalar_loss, check_size
from rnn.errors import ConfigError
from rnn.gru import GRUCell
from rnn.lstm import LSTMCell
from rnn.network import RNN
from rnn.optim import Optimizer, clip_unchecked
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
    compile: bool = True,  # noqa: A002 (tg.compile's name)
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
        compile: replay the network's part of every window whose length repeats from a plan
            (``tg.compile``): the same values and gradients, bit for bit, faster. The losses
            stay eager: ``step_loss`` runs at every step as usual, on a leaf holding h_t, and
            its dL/dh_t seeds the plan's backward. Only for networks of rnn's own cells
            (Elman, LSTM, GRU), whose steps read no values in Python, and without checkpoints
            (a checkpoint recomputes its steps inside the eager backward pass); False runs
            every window eagerly.
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
    windows = [(b, _window_start(b, k1, k2, T), min(b + k1, T)) for b in range(0, T, k1)]
    starts = {start for _, start, _ in windows} | {T}  # states ever read
    next_starts = [start for _, start, _ in windows[1:]] + [T]
    stored: dict[int, list[State]] = {}  # detached state entering step s, for s in starts
    params = None if optimizer is None else [*net.parameters(), *optimizer.params,
                                             *inputs.needing_grad()]
    result = TBPTTResult()
    replayed = (_ReplayedWindows(net, h0, inputs.batch_size, windows)
                if check_flag(compile, "compile", "tbptt") and every is None else None)
    for (block_start, start, end), next_start in zip(windows, next_starts):
        window = Window(net, inputs, step_loss, block_start)
        backward = None
        if replayed is not None and replayed.repeats(start, end):
            total, backward = replayed.run(window, stored, starts, start, end)
        else:
            # freshly built at step 0, so that a learned h0 is in this window's graph
            current = net.initial_states(inputs.batch_size, h0) if start == 0 else stored[start]
            length = segment_length(every, end - start)
            total = None
            cuts = starts.intersection(range(start + 1, end))  # O(window), where starts is O(T/k1)
            for lo, hi in segments(start, end, length, cuts):
                if length is None:
                    current, total = window.run(lo, hi, current, total)
                else:
                    current, total = window.checkpointed(lo, hi, current, total, params, rngs)
                if hi in starts and hi not in stored:
                    stored[hi] = [detach_state(state) for state in current]
        for s in [s for s in stored if s < next_start]:  # no later window starts before it
            del stored[s]
        if total is None:
            continue
        if optimizer is not None:
            optimizer.zero_grad()
        total.backward()
        if backward is not None:
            backward()  # the network's part, from the plan, seeded with dL/dh_t
        if optimizer is not None:
            if clip_norm is not None:
                clip_unchecked(optimizer.params, clip_norm)
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
                total = self.score(s, hs[0], total)
        return current, total

    def score(self, s: int, h: tg.Tensor, total: tg.Tensor | None) -> tg.Tensor | None:
        """total + L_s, L_s = step_loss(s, h_s) (the total unchanged when L_s is None)."""
        with tg.scope(t=s):
            loss = self.step_loss(s, h)
        if loss is None:
            return total
        loss = check_scalar_loss(loss, f"tbptt: step_loss({s}, h)", "or None when step t has no loss")
        return loss if total is None else total + loss

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


class _ReplayedWindows:
    """The network's part of the windows whose (length, starts at 0) repeats, as one
    ``tg.compile`` of ``window(steps, states)``: steps c..e−1 unrolled from the stored state
    (or from the initial state at c = 0), returning every h_t and every state after a step.

    The window's losses are scored eagerly on leaves holding h_t; their backward fills
    dL/dh_t, which ``Compiled.backward`` adds last into h_t's junction, where the eager graph
    has it too (the loss at step t is recorded after step t and before step t + 1), so the
    gradients are the eager ones bit for bit (when step_loss reads h_t once).
    """

    def __init__(self, net: RNN, h0: Any, batch_size: int, windows: list[tuple[int, int, int]]
                 ) -> None:
        self.net, self.h0, self.batch_size = net, h0, batch_size
        kinds = Counter((end - start, start == 0) for _, start, end in windows)
        self.repeating = {kind for kind, count in kinds.items() if count > 1}
        if not all(type(cell) in (ElmanCell, LSTMCell, GRUCell) for cell in net.layers):
            self.repeating = set()  # another cell's Python might read values a plan cannot see
        self.t0 = 0
        self.step = tg.compile(self._window)

    def repeats(self, start: int, end: int) -> bool:
        """Whether this window's kind occurs more than once (a plan pays off)."""
        return (end - start, start == 0) in self.repeating

    def _window(self, steps: list[tg.Tensor], states: list[State] | None
                ) -> tuple[list[tg.Tensor], list[list[State]]]:
        current = self.net.initial_states(self.batch_size, self.h0) if states is None else states
        hs, after = [], []
        for j, x in enumerate(steps):
            out, current = self.net.forward_states([x], current, t0=self.t0 + j, checkpoint=False)
            hs.append(out[0])
            after.append(list(current))
        return hs, after

    def run(self, window: Window, stored: dict[int, list[State]], starts: set[int], start: int,
            end: int) -> tuple[tg.Tensor | None, Callable[[], None]]:
        """Replay the window, store the states later windows start from, score the block:
        (the total loss, the plan's backward to run after the total's)."""
        self.t0 = start  # the scope tags of the recorded graph (a replay has none)
        steps = [window.inputs.step(s) for s in range(start, end)]
        hs, after = self.step.forward(steps, None if start == 0 else stored[start])
        leaves: list[tg.Tensor | None] = []
        total = None
        for j, s in enumerate(range(start, end)):
            if s + 1 in starts and s + 1 not in stored:
                stored[s + 1] = after[j]
            leaf = None
            if s >= window.block_start:
                leaf = hs[j].detach()
                leaf.requires_grad = True
                before, total = total, window.score(s, leaf, total)
                leaf = None if total is before else leaf
            leaves.append(leaf)

        def backward() -> None:
            self.step.backward(([None if leaf is None else leaf.grad for leaf in leaves], None))

        return total, backward


def _window_start(block_start: int, k1: int, k2: int, T: int) -> int:
    """c = max(0, b − (k2 − k1)), the step whose entering state is the block's cut (0 when
    k2 >= T: no truncation)."""
    return 0 if k2 >= T else max(0, block_start - (k2 - k1))



