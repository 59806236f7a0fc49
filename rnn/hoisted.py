"""The hoisted unroll: each layer's input projection done once for the whole sequence.

For an Elman layer, x_t W_xh + b_h does not depend on h, so all T of them can be one matmul:
P = X W_xh + b_h with X the (T·B, D) inputs, the way a hand-written numpy BPTT does it. The
recurrence stays one node per op and step: h_t = f(P[t] + h_(t−1) W_hh). P is time-major
(T, B, H), so each P[t] is one contiguous block: numpy adds contiguous blocks several times
faster than the strided columns P[:, t] of a (B, T, H) array, in the forward sum and in the
backward, where the slices' gradients meet at P's junction (an in-place sum). dW_xh = Xᵀ dP is
one matmul instead of T. The layers run one after the other (layer-major): layer l+1 reads the
stacked (T, B, H) outputs of layer l. Values and gradients equal the step-by-step unroll's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygraph as tg
from rnn.sequences import InputSequence, carry_where_masked


def hoisted_unroll(
    layers: list[Any], inputs: InputSequence, states: list[tg.Tensor], keep: np.ndarray | None,
    t0: int,
) -> tuple[list[tg.Tensor], list[tg.Tensor]]:
    """Unroll Elman ``layers`` layer by layer; returns (top layer's h_t list, final states)."""
    T = inputs.length
    below = inputs.time_major()
    hs: list[tg.Tensor] = []
    for idx, cell in enumerate(layers):
        with tg.scope(layer=idx):
            projected = cell.project_inputs(below)
        h = states[idx]
        hs = []
        for t in tg.scoped_range(T, start=t0, layer=idx):
            step = t - t0  # the index into this window; t is the absolute time tag
            new = cell.step_projected(projected[step], h)
            if keep is not None and not keep[:, step].all():
                new = carry_where_masked(new, h, keep[:, step])
            h = new
            hs.append(h)
        states[idx] = h
        if idx + 1 < len(layers):
            with tg.scope(layer=idx + 1):
                below = tg.stack(hs, axis=0)
    return hs, states
