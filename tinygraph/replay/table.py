"""The table replay: the written code's operations, run by one loop over a table of steps.

Python compiles about 12 µs per line, so a plan of tens of thousands of steps would take
seconds to write as code (``codegen``). For such plans the same operations, decided from the
same ``Profile``, are read from a table instead: one row per step (its forward, the slots it
reads and writes, what to store on the op) and one per reached backward step (its backward and,
per input, what to do with the gradient it sends). The numbers are the written code's, bit for
bit; the cost is a few hundred nanoseconds per step of loop instead of tens.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import numpy as np

from tinygraph.backward import _fit, normalise_sent
from tinygraph.indexed_grad import IndexedGrad
from tinygraph.node import _as_output
from tinygraph.replay.codegen import EMPTY, OWNED, SHARED, GuardError, trusted
from tinygraph.replay.interpret import ARRAY, FIT, INDEXED, NONE, Profile, assign
from tinygraph.replay.plan import INPUT, LEAF, Plan, Slot

# what a contribution does to its junction: keep it, add it into a new buffer, add it in place
KEEP, ADD, ADD_IN_PLACE, INDEXED_NEW, INDEXED_SHARED, INDEXED_OWNED = range(6)


class Table:
    """The rows of a plan's replay, and the same ``forward`` / ``backward`` as written code."""

    __slots__ = (
        "assign",
        "backward_rows",
        "forward_rows",
        "inputs",
        "leaves",
        "outputs",
        "seeds",
        "size",
        "source",
    )

    def __init__(self, plan: Plan, converted: dict[int, bool], profile: Profile, seeded: list[Slot]
                 ) -> None:
        self.size = len(plan.slots)
        self.source = None
        self.inputs = [(s.index, s.position) for s in plan.inputs if s is not None]
        self.leaves = [(s.index, s.tensor) for s in plan.leaves]
        self.outputs = itemgetter(*[s.index for s in plan.outputs])
        self.forward_rows = []
        for step in plan.steps:
            op = step.op
            indices = [s.index for s in step.inputs]
            check = 2 if converted[step.output.index] else 0 if trusted(step) else 1
            self.forward_rows.append((op.forward, op, itemgetter(*indices), len(indices) == 1,
                                      op.keeps_inputs, step.backward and op.saves_output, check,
                                      step.output.index))
        state: dict[int, int] = {}
        seed_of = {slot.index: j for j, slot in enumerate(seeded)}
        self.backward_rows = []
        for step in plan.backward_steps():
            out = step.output.index
            seed = seed_of.get(out)
            seed_action = None if seed is None else _action(state, step.output, ARRAY)
            if not profile.reached[out]:
                if seed is not None:
                    self.backward_rows.append((None, out, None, True, 0, (), seed, seed_action))
                continue
            edges = []
            guarded = not trusted(step)
            for i, (slot, need) in enumerate(zip(step.inputs, step.op.needs_input_grad)):
                if not need:
                    continue
                kind = profile.edges[out, i]
                if kind == NONE:
                    if guarded:
                        edges.append((i, slot.index, None, None, None))
                    continue
                fit = step.node.inputs[i] if kind == FIT or (kind == INDEXED and guarded) else None
                check = guarded and kind == ARRAY
                edges.append((i, slot.index, _action(state, slot, kind), fit, check, slot.shape,
                              slot.dtype))
            count = len(step.inputs) if guarded else 0
            self.backward_rows.append((step.op.backward, out, step.node, profile.tuples[out],
                                       count, tuple(edges), seed, seed_action))
        self.seeds = [(j, slot.index, _action(state, slot, ARRAY)) for j, slot in enumerate(seeded)
                      if slot.kind in (INPUT, LEAF)]  # an output that is a leaf: after every step
        self.assign = [(s.index, s.kind == LEAF, s.tensor if s.kind == LEAF else s.position,
                        state[s.index] == OWNED) for s in plan.gradient_slots() if s.index in state]

    def forward(self, inputs: list[np.ndarray]) -> tuple[Any, ...]:
        """Every step's forward, in creation order; returns the outputs' arrays."""
        values: list[Any] = [None] * self.size
        for index, position in self.inputs:
            values[index] = inputs[position]
        for index, tensor in self.leaves:
            values[index] = tensor._data
        for forward, op, get, single, keep, save, check, out in self.forward_rows:
            args = get(values)
            if single:
                if keep:
                    op.inputs = (args,)
                data = forward(args)
            else:
                if keep:
                    op.inputs = args
                data = forward(*args)
            if check and type(data) is not np.ndarray:
                if check == 1:
                    raise GuardError
                data = _as_output(op, data)
            if save:
                op.output = data
            values[out] = data
        out = self.outputs(values)
        return out if type(out) is tuple else (out,)

    def backward(self, seeds: list[np.ndarray], targets: list[Any]) -> None:
        """Every reached step's backward, newest first, the junction sums, then ``.grad``."""
        grads: list[Any] = [None] * self.size
        for backward, out, node, whole, count, edges, seed, seed_action in self.backward_rows:
            if seed is not None:
                _junction(grads, out, seeds[seed], seed_action, None, None)
            if backward is None:
                continue
            grad = grads[out]
            grads[out] = None
            sent = backward(grad)
            if not whole:
                sent = normalise_sent(node, sent)
            elif count and (type(sent) is not tuple or len(sent) != count):
                raise GuardError
            for i, slot, action, fit, check, shape, dtype in edges:
                c = sent[i]
                if action is None:
                    if c is not None:
                        raise GuardError
                    continue
                if fit is not None:
                    c = _fit(node, c, fit)
                elif check and (type(c) is not np.ndarray or c.shape != shape or c.dtype is not dtype):
                    raise GuardError
                if action >= INDEXED_NEW and type(c) is not IndexedGrad:
                    raise GuardError
                _junction(grads, slot, c, action, shape, dtype)
        for j, slot, action in self.seeds:
            _junction(grads, slot, seeds[j], action, None, None)
        for slot, leaf, target, owned in self.assign:
            assign(target if leaf else targets[target], grads[slot], owned)


def _action(state: dict[int, int], slot: Slot, kind: str) -> int:
    """What the next contribution of ``kind`` does to ``slot``'s junction (and its new state)."""
    before = state.get(slot.index, EMPTY)
    if kind in (ARRAY, FIT):
        state[slot.index] = SHARED if before == EMPTY else OWNED
        return (KEEP, ADD, ADD_IN_PLACE)[before]
    state[slot.index] = OWNED
    return (INDEXED_NEW, INDEXED_SHARED, INDEXED_OWNED)[before]


def _junction(grads: list[Any], slot: int, c: Any, action: int, shape: Any, dtype: Any) -> None:
    """One contribution ``c`` into the junction of ``slot`` (shape and dtype: the slot's)."""
    if action == ADD_IN_PLACE:
        grads[slot] += c
    elif action == KEEP:
        grads[slot] = c
    elif action == ADD:
        total = grads[slot] + c
        grads[slot] = total if type(total) is np.ndarray else np.asarray(total)
    else:
        if action == INDEXED_NEW:
            grads[slot] = np.zeros(shape, dtype=dtype)
        elif action == INDEXED_SHARED:
            buffer = np.zeros(shape, dtype=dtype)
            buffer += grads[slot]
            grads[slot] = buffer
        c.add_into(grads[slot])
