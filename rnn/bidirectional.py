"""The bidirectional unroll: every layer reads its input sequence forward and backward in time.

As in ``torch.nn.RNN(bidirectional=True)``: layer l has two cells, one run over t = 0 … T−1
(h→_t from h→_(t−1)) and one over t = T−1 … 0 (h←_t from h←_(t+1)); their outputs are
concatenated at every step, H_t = [h→_t, h←_t] (B, 2H), and that sequence is the input of
layer l+1 (and, for the top layer, the network's output). The layers run one after the other
(layer-major): the reverse direction needs the whole input sequence before it starts.

Scopes: the forward cell's nodes carry ``t`` and ``layer``, the reverse cell's also
``direction="reverse"`` (the pictures draw it as a band of its own, whose recurrence brings
gradients "from t−1"); the concatenation feeding layer l+1 carries ``layer=l+1``, the top
one only ``t`` (the two directions meet at the readout).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygraph as tg
from rnn.cell import named
from rnn.sequences import InputSequence, State, carry_unless_all_kept


def cell_tags(layer: int, reverse: bool = False) -> dict[str, Any]:
    """The scope tags of a cell's nodes: ``layer``, and ``direction="reverse"`` for the cell
    that runs backward in time."""
    return {"layer": layer, "direction": "reverse"} if reverse else {"layer": layer}


def bidirectional_unroll(forward: list[Any], reverse: list[Any], inputs: InputSequence,
                         states: list[State], keep: np.ndarray | None,
                         t0: int) -> tuple[list[tg.Tensor], list[State]]:
    """Unroll both directions of every layer; returns (H_t of the top layer for each t, the
    final states [layer 0 forward, layer 0 reverse, layer 1 forward, ...])."""
    T = inputs.length
    below = []
    for t in range(T):
        with tg.scope(t=t0 + t, layer=0):
            below.append(inputs.step(t))
    for idx, (ahead, back) in enumerate(zip(forward, reverse)):
        outputs: dict[str, list[tg.Tensor | None]] = {"forward": [None] * T, "reverse": [None] * T}
        for direction, cell, order in (("forward", ahead, range(T)),
                                       ("reverse", back, range(T - 1, -1, -1))):
            slot = 2 * idx + (direction == "reverse")
            state = states[slot]
            tags = cell_tags(idx, reverse=direction == "reverse")
            for t in order:
                with tg.scope(t=t0 + t, **tags):
                    state = carry_unless_all_kept(cell.step(below[t], state), state, keep, t)
                    outputs[direction][t] = cell.output(state)
            states[slot] = state
        top = idx == len(forward) - 1
        joined = []
        for t in range(T):
            with tg.scope(t=t0 + t, **({} if top else {"layer": idx + 1})):
                joined.append(named(tg.concat([outputs["forward"][t], outputs["reverse"][t]],
                                              axis=1), "H"))
        below = joined
    return below, states
