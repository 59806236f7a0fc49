"""The fast replay: a plan written out as two straight-line Python functions.

``forward(inputs)`` calls every step's op forward on local variables, one line per step, and
stores what the op's backward reads (``op.inputs``, ``op.output``); ``backward(seeds, targets)``
calls every reached step's op backward, newest first, and adds what it sends into the
junction sums, then into ``.grad``. Which line each contribution needs (keep the first, add the
second into a new buffer, add the rest in place, add an ``IndexedGrad`` at its index, fit a
broadcast gradient with the engine's ``_fit``) was decided by the reference replay
(``interpret``), whose ``Profile`` the code is written from: the same operations in the same
order, so the same numbers bit for bit, without a loop, a tuple per step, a dict of gradients
or a check per edge. An op of the engine (module ``tinygraph.*``) returns what it returned in
the profile for the same shapes; an op from elsewhere is guarded (its result's type, shape and
dtype are compared with the profile's), and a guard that fails raises ``GuardError``, after
which the call is run by the reference replay instead.

The junction sums of inner tensors (not leaves: their sums may become ``.grad``) go into
buffers the written code owns and reuses at every call: ``np.add(g, c, out=buffer)`` for the
second contribution, a zeroed buffer for the first ``IndexedGrad``. Nothing outside the call
keeps them: a gradient that reaches ``.grad`` without a sum of its own is copied, as eager's
``backward()`` copies a buffer it does not own. Measured: 2-3% at the benchmark's S1, within
the noise at S2 and S4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.backward import _fit, normalise_sent
from tinygraph.broadcast import sum_to
from tinygraph.indexed_grad import IndexedGrad
from tinygraph.node import _as_output
from tinygraph.ops.shape import GetItem, _is_basic
from tinygraph.replay.interpret import ARRAY, FIT, INDEXED, NONE, Profile
from tinygraph.replay.plan import INPUT, LEAF, OUTPUT, Plan, Slot, Step

EMPTY, SHARED, OWNED = 0, 1, 2  # a junction: nothing yet, a buffer it does not own, its own


class GuardError(Exception):
    """A guarded op returned something the profile did not see: run the reference replay."""


def guard_failed() -> None:
    """Raised by a failed guard in the written code."""
    raise GuardError


class Written:
    """The two functions written for a plan, and their source (for a curious reader)."""

    __slots__ = ("backward", "forward", "source")

    def __init__(self, forward: Callable[..., Any], backward: Callable[..., Any], source: str) -> None:
        self.forward = forward
        self.backward = backward
        self.source = source


def trusted(step: Step) -> bool:
    """An op of the engine: for the same shapes and dtypes it returns the same kinds of
    results, so the written code need not check them."""
    return type(step.op).__module__.startswith("tinygraph.")


def write(plan: Plan, converted: dict[int, bool], profile: Profile, seeded: list[Slot]) -> Written:
    """Write and compile the forward and backward functions of ``plan`` (see the module doc):
    ``converted`` and ``profile`` are what the reference forward and backward saw, ``seeded``
    the outputs that get a seed, in the order of the ``seeds`` the backward is given."""
    names: dict[str, Any] = {"ND": np.ndarray, "IG": IndexedGrad, "GUARD": guard_failed,
                             "ZEROS": np.zeros, "ASARRAY": np.asarray, "COPY": np.array, "ADD": np.add,
                             "AS_OUTPUT": _as_output, "FIT": _fit, "SUM_TO": sum_to,
                             "NORMALISE": normalise_sent}
    lines = ["def forward(inputs):"]
    lines += _forward_lines(plan, converted, names)
    lines.append("def backward(seeds, targets):")
    body = _backward_lines(plan, profile, seeded, names)
    lines += body or ["    pass"]
    source = "\n".join(lines) + "\n"
    code = compile(source, "<tg.compile plan>", "exec")
    exec(code, names)  # our own code, written from the plan
    return Written(names["forward"], names["backward"], source)


def _forward_lines(plan: Plan, converted: dict[int, bool], names: dict[str, Any]) -> list[str]:
    lines = []
    for slot in plan.inputs:
        if slot is not None:
            lines.append(f"    v{slot.index} = inputs[{slot.position}]")
    for slot in plan.leaves:
        names[f"L{slot.position}"] = slot.tensor
        lines.append(f"    v{slot.index} = L{slot.position}._data")
    for k, step in enumerate(plan.steps):
        op, out = step.op, step.output.index
        names[f"O{k}"] = op
        names[f"F{k}"] = op.forward
        args = ", ".join(f"v{s.index}" for s in step.inputs)
        if op.keeps_inputs:
            lines.append(f"    O{k}.inputs = ({args}{',' if len(step.inputs) == 1 else ''})")
        lines.append(f"    v{out} = F{k}({args})")
        if converted[out]:
            lines.append(f"    v{out} = AS_OUTPUT(O{k}, v{out})")
        elif not trusted(step):
            lines.append(f"    if type(v{out}) is not ND: GUARD()")
        if step.backward and op.saves_output:
            lines.append(f"    O{k}.output = v{out}")
    outs = ", ".join(f"v{s.index}" for s in plan.outputs)
    lines.append(f"    return ({outs}{',' if len(plan.outputs) == 1 else ''})")
    return lines


def _backward_lines(plan: Plan, profile: Profile, seeded: list[Slot], names: dict[str, Any]
                    ) -> list[str]:
    lines: list[str] = []
    state: dict[int, int] = {}
    seed_of = {slot.index: j for j, slot in enumerate(seeded)}
    step_number = {id(step): k for k, step in enumerate(plan.steps)}

    def contribute(slot: Slot, value: str, kind: str, add_into: str | None) -> None:
        g = f"g{slot.index}"
        before = state.get(slot.index, EMPTY)
        if kind in (ARRAY, FIT):
            if before == EMPTY:
                lines.append(f"    {g} = {value}")
                state[slot.index] = SHARED
            elif before == SHARED:
                if slot.kind == OUTPUT:  # an inner junction: its sum into its own buffer
                    names[f"P{slot.index}"] = np.empty(slot.shape, dtype=slot.dtype)
                    lines.append(f"    {g} = ADD({g}, {value}, out=P{slot.index})")
                else:  # a leaf's: a new array, as its .grad may become
                    total = f"{g} + {value}"
                    lines.append(f"    {g} = ASARRAY({total})" if slot.shape == () else f"    {g} = {total}")
                state[slot.index] = OWNED
            else:
                lines.append(f"    {g} += {value}")
            return
        names[f"S{slot.index}"] = slot.shape
        names[f"D{slot.index}"] = slot.dtype
        if before == EMPTY and slot.kind == OUTPUT:  # an inner junction: its own buffer, zeroed
            names[f"Z{slot.index}"] = np.zeros(slot.shape, dtype=slot.dtype)
            lines.append(f"    {g} = Z{slot.index}; {g}.fill(0)")
        elif before == EMPTY:
            lines.append(f"    {g} = ZEROS(S{slot.index}, D{slot.index})")
        elif before == SHARED:
            lines.append(f"    _b = ZEROS(S{slot.index}, D{slot.index}); _b += {g}; {g} = _b")
        lines.append(f"    {add_into.format(g=g, c=value)}" if add_into else f"    {value}.add_into({g})")
        state[slot.index] = OWNED

    for step in plan.backward_steps():
        k = step_number[id(step)]
        out = step.output
        if out.index in seed_of:
            contribute(out, f"seeds[{seed_of[out.index]}]", ARRAY, None)
        if not profile.reached[out.index]:
            continue
        names[f"B{k}"] = step.op.backward
        names[f"N{k}"] = step.node
        lines.append(f"    s = B{k}(g{out.index})")
        lines.append(f"    del g{out.index}")
        count = len(step.inputs)
        if not profile.tuples[out.index]:
            lines.append(f"    s = NORMALISE(N{k}, s)")
        elif not trusted(step):
            lines.append(f"    if type(s) is not tuple or len(s) != {count}: GUARD()")
        lines.append(f"    {', '.join(f'c{i}' for i in range(count))}{',' if count == 1 else ''} = s")
        for i, (slot, need) in enumerate(zip(step.inputs, step.op.needs_input_grad)):
            if not need:
                continue
            kind = profile.edges[out.index, i]
            guarded = not trusted(step)
            if kind == NONE:
                if guarded:
                    lines.append(f"    if c{i} is not None: GUARD()")
                continue
            if kind == FIT and not guarded and (out.index, i) in profile.summed:
                names[f"S{slot.index}"] = slot.shape  # _fit would only undo the broadcast
                lines.append(f"    c{i} = SUM_TO(c{i}, S{slot.index})")
            elif kind == FIT or (kind == INDEXED and guarded):
                names[f"T{k}_{i}"] = step.node.inputs[i]
                lines.append(f"    c{i} = FIT(N{k}, c{i}, T{k}_{i})")
                if guarded:
                    wanted = "IG" if kind == INDEXED else "ND"
                    lines.append(f"    if type(c{i}) is not {wanted}: GUARD()")
            elif kind == ARRAY and guarded:
                names[f"S{slot.index}"] = slot.shape
                names[f"D{slot.index}"] = slot.dtype
                lines.append(f"    if type(c{i}) is not ND or c{i}.shape != S{slot.index} or "
                             f"c{i}.dtype is not D{slot.index}: GUARD()")
            contribute(slot, f"c{i}", kind, _inline_add_into(step, slot, names, k) if kind == INDEXED
                       else None)
    for j, slot in enumerate(seeded):
        if slot.kind in (INPUT, LEAF):
            contribute(slot, f"seeds[{j}]", ARRAY, None)
    for slot in plan.gradient_slots():
        if slot.index not in state:
            continue
        target = f"L{slot.position}" if slot.kind == LEAF else f"targets[{slot.position}]"
        g = f"g{slot.index}"
        fresh = g if state[slot.index] == OWNED else f"COPY({g})"
        lines += [f"    t = {target}", "    if t.grad is None:", f"        t.grad = {fresh}",
                  "    else:", f"        t.grad = t.grad + {g}"]
    return lines


def _inline_add_into(step: Step, slot: Slot, names: dict[str, Any], k: int) -> str | None:
    """``IndexedGrad.add_into`` written out for a getitem of the engine with a basic index
    that selects a view (buffer[index] += values without a method call), else None."""
    op = step.op
    if type(op) is not GetItem or not _is_basic(op.index):
        return None
    if type(np.zeros(slot.shape)[op.index]) is not np.ndarray:
        return None
    names[f"I{k}"] = op.index
    return f"_w = {{g}}[I{k}]; _w += {{c}}.values"
