"""The reference replay: a plan run step by step with the eager engine's own rules.

``forward`` is ``tinygraph.node.apply`` without the Tensor and the Node: each op's forward on
the arrays, a result that is no ndarray made one, ``tg.detect_anomaly`` honoured. ``backward``
is ``tinygraph.backward``'s sweep on slots instead of Tensors: the same order (newest step
first), the same fitting of a returned gradient to its input (``_fit``: broadcasting undone,
dtype cast), the same junction sums (the first contribution kept as it is, the second added
into a new buffer, the rest in place, an ``IndexedGrad`` added at its index), so its results
are the eager ones bit for bit. A seed from outside (``Compiled.backward``) is the last
contribution to its slot's junction: the place of a loss recorded right after the output it
reads and before any later step (truncated BPTT's loss at step t, recorded before step t + 1).

It also notes what each backward returned (``Profile``), from which ``codegen`` writes the
straight-line replay.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.backward import _add_indexed, _fit, normalise_sent
from tinygraph.anomaly import check_backward, check_forward
from tinygraph.errors import BackwardError, GraphStateError, add_note
from tinygraph.indexed_grad import IndexedGrad, densify
from tinygraph.node import _as_output, _forward_failed
from tinygraph.replay.plan import INPUT, LEAF, Plan, Slot, Step
from tinygraph.scope import STATE

NONE, ARRAY, FIT, INDEXED = "none", "array", "fit", "indexed"


class Profile:
    """What one reference replay saw: per step, whether the forward returned an ndarray; per
    backward step, whether a gradient reached it, whether it returned a tuple of the right
    length, and per input the kind of gradient sent (none, array, fit (needed _fit), indexed)."""

    __slots__ = ("converted", "edges", "reached", "summed", "tuples")

    def __init__(self) -> None:
        self.converted: dict[int, bool] = {}
        self.reached: dict[int, bool] = {}
        self.tuples: dict[int, bool] = {}
        self.edges: dict[tuple[int, int], str] = {}
        self.summed: set[tuple[int, int]] = set()  # fitted by undoing a broadcast only


def forward(plan: Plan, arrays: list[np.ndarray], profile: Profile | None = None) -> list[Any]:
    """Every slot's value for the inputs ``arrays``; the ops keep what their backward needs."""
    values: list[Any] = [None] * len(plan.slots)
    for slot in plan.inputs:
        if slot is not None:
            values[slot.index] = arrays[slot.position]
    for slot in plan.leaves:
        values[slot.index] = slot.tensor._data
    anomaly = STATE.detect_anomaly
    for step in plan.steps:
        op = step.op
        ins = tuple([values[s.index] for s in step.inputs])
        op.inputs = ins
        try:
            data = op.forward(*ins)
        except Exception as exc:
            raise forward_failed(step, ins, exc) from None
        converted = type(data) is not np.ndarray
        if converted:
            data = in_scope(step, _as_output, op, data)
        if profile is not None:
            profile.converted[step.output.index] = converted
        if anomaly:
            check_forward(step.node.where(), ins, data)
        op.output = data
        if not op.keeps_inputs:
            op.inputs = None
        values[step.output.index] = data
    return values


def in_scope(step: Step, function: Any, *args: Any) -> Any:
    """``function(*args)`` with the recorded step's scope in force (for its messages)."""
    saved = STATE.tags
    STATE.tags = step.node.scope
    try:
        return function(*args)
    finally:
        STATE.tags = saved


def forward_failed(step: Step, arrays: tuple[np.ndarray, ...], exc: Exception) -> Exception:
    """The error eager's ``apply`` raises for this forward failure, naming the step's scope."""
    error = in_scope(step, _forward_failed, step.op, arrays, exc)
    add_note(error, "raised while tg.compile replayed the recorded graph")
    return error


def backward(plan: Plan, seeds: dict[int, np.ndarray], profile: Profile | None = None
             ) -> tuple[dict[Slot, np.ndarray], set[Slot]]:
    """The gradients of the leaves and inputs that want one, and the set of those whose buffer
    the pass allocated (safe to hand out uncopied), after ``forward``. ``seeds``: slot index ->
    dL/d(slot) from outside."""
    grads: dict[Slot, np.ndarray] = {}
    owned: set[Slot] = set()
    slots = plan.slots
    anomaly = STATE.detect_anomaly
    for step in plan.backward_steps():
        out = step.output
        if out.index in seeds:
            add(grads, owned, out, seeds[out.index])
        grad = grads.pop(out, None)
        if profile is not None:
            profile.reached[out.index] = grad is not None
        if grad is None:
            continue
        node = step.node
        try:
            sent = step.op.backward(grad)
        except (BackwardError, GraphStateError):
            raise
        except Exception as exc:
            add_note(exc, f"raised in the backward of {node.where()} (replayed by tg.compile)")
            raise
        whole = type(sent) is tuple and len(sent) == len(step.inputs)
        if profile is not None:
            profile.tuples[out.index] = whole
        if not whole:
            sent = normalise_sent(node, sent)
        for i, (slot, g, need) in enumerate(zip(step.inputs, sent, step.op.needs_input_grad)):
            if not need:
                continue
            kind = NONE if g is None else INDEXED if type(g) is IndexedGrad else ARRAY
            if g is not None and (type(g) is not np.ndarray or g.shape != slot.shape
                                  or g.dtype is not slot.dtype):
                if profile is not None and type(g) is np.ndarray and g.dtype is slot.dtype:
                    profile.summed.add((out.index, i))
                g = _fit(node, g, node.inputs[i])
                kind = INDEXED if type(g) is IndexedGrad else FIT
            if profile is not None:
                profile.edges[out.index, i] = kind
            if g is None:
                continue
            if anomaly:
                check_backward(node.where(), i, grad, densify(g))
            add(grads, owned, slot, g)
    for index, seed in seeds.items():
        if slots[index].kind in (INPUT, LEAF):
            add(grads, owned, slots[index], seed)
    return {s: grads[s] for s in plan.gradient_slots() if s in grads}, owned


def add(grads: dict[Slot, np.ndarray], owned: set[Slot], slot: Slot, g: Any) -> None:
    """Add one contribution to a junction, as ``tinygraph.backward._propagate`` does."""
    previous = grads.get(slot)
    if type(g) is not np.ndarray:
        _add_indexed(grads, owned, slot, g)  # type: ignore[arg-type]
    elif previous is None:
        grads[slot] = g  # the first contribution, kept as it is
    elif slot in owned:
        previous += g  # a buffer this pass made: add in place
    else:
        total = previous + g  # the second: a new buffer, owned from now on
        grads[slot] = total if type(total) is np.ndarray else np.asarray(total)
        owned.add(slot)


def assign(tensor: Any, g: np.ndarray, owned: bool) -> None:
    """``tensor.grad += g`` as ``backward()`` does it: a buffer the pass did not allocate is
    copied, and an existing gradient is replaced by the sum (never written into)."""
    if tensor.grad is None:
        tensor.grad = g if owned else np.array(g)
    else:
        tensor.grad = tensor.grad + g
