"""The hoisted unroll: each layer's input projection done once for the whole sequence.

For an Elman layer, x_t W_xh + b_h does not depend on h, so all T of them can be one matmul:
P = X W_xh + b_h with X the (T·B, D) inputs, the way a hand-written numpy BPTT does it. The
recurrence stays one node per op and step: h_t = f(P[t] + h_(t−1) W_hh). P is time-major
(T, B, H), so each P[t] is one contiguous block: numpy adds contiguous blocks several times
faster than the strided columns P[:, t] of a (B, T, H) array, in the forward sum and in the
backward, where the slices' gradients meet at P's junction (an in-place sum). dW_xh = Xᵀ dP is
one matmul instead of T. The layers run one after the other (layer-major): layer l+1 reads the
stacked (T, B, H) outputs of layer l. Values and gradients equal the step-by-step unroll's.
With checkpoints, each layer's loop is cut into segments; P and the stacked outputs stay
(T, B, H) each, so the saving is the per-step arrays of the recurrence.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.checkpointed import named, segments
from rnn.sequences import InputSequence, carry_unless_all_kept


def hoisted_unroll(
    layers: list[Any], inputs: InputSequence, states: list[tg.Tensor], keep: np.ndarray | None,
    t0: int, every: int | None = None,
) -> tuple[list[tg.Tensor], list[tg.Tensor]]:
    """Unroll Elman ``layers`` layer by layer; returns (top layer's h_t list, final states).

    ``every``: checkpoint each layer's time loop in segments of that many steps (each reads
    the layer's projection P and its entering state, and returns its h_t).
    """
    T = inputs.length
    below = inputs.time_major()
    hs: list[tg.Tensor] = []
    for idx, cell in enumerate(layers):
        with tg.scope(layer=idx):
            projected = cell.project_inputs(below)
        h = states[idx]
        hs = []
        for lo, hi in segments(0, T, every):
            steps = named(partial(_steps, cell, idx, keep, t0, lo, hi), t0 + lo, t0 + hi - 1)
            if every is None:
                out = steps(h, projected)
            else:
                with tg.scope(t=t0 + hi - 1, layer=idx):  # in the column of its last step
                    out = tg.checkpoint(steps, h, projected, params=cell.parameters())
            hs.extend(out)
            h = out[-1]
        states[idx] = h
        if idx + 1 < len(layers):
            with tg.scope(layer=idx + 1):
                below = tg.stack(hs, axis=0)
    return hs, states


def _steps(cell: Any, layer: int, keep: np.ndarray | None, t0: int, lo: int, hi: int,
           h: tg.Tensor, projected: tg.Tensor) -> tuple[tg.Tensor, ...]:
    """h_t = f(P[t] + h_(t−1) W_hh) for steps lo..hi−1 of one layer, from h = h_(lo−1)."""
    hs = []
    for t in tg.scoped_range(hi - lo, start=t0 + lo, layer=layer):
        step = t - t0  # the index into this window; t is the absolute time tag
        p_t = projected[step]
        p_t.name = "p"
        h = carry_unless_all_kept(cell.step_projected(p_t, h), h, keep, step)
        hs.append(h)
    return tuple(hs)
