"""The plan: a recorded graph as a flat list of steps over numbered slots.

Every tensor of the graph becomes a slot, numbered in creation order; every node a ``Step``
that reads slots and writes one. A slot is one of:

* an input: the array of the compiled function's argument ``position``, new at every call;
* a leaf: a Tensor the function read but did not make from its inputs (a parameter, or a
  constant such as a zero h_0 or the 2.0 of ``2.0 * x``); its array is read through the Tensor
  at every call, so an optimizer that rebinds ``p.data`` is seen by the next replay. A constant
  the function made itself is never rebound, so it keeps its first call's value;
* the output of a step.

``wants_grad`` is what a plain call would have recorded: a leaf that requires grad, an input
whose Tensor requires grad, and every slot computed from one. A step whose output wants no
gradient runs forward only. Each step owns a copy of its recorded op (``copy.copy``): a replay
reuses it, and its ``forward`` sets, at every call, the state its ``backward`` reads (the
inputs, the output, the saved arrays), as a fresh op of a plain call would get it. The recorded
graph keeps its own ops untouched, so it can still be drawn, traced and checked.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from tinygraph.backward import nodes_made_after
from tinygraph.checkpoint import Checkpoint
from tinygraph.errors import GraphStateError
from tinygraph.node import Node, Op
from tinygraph.replay.arguments import ArgumentTensor, disarm
from tinygraph.tensor import Tensor

INPUT, LEAF, OUTPUT = "input", "leaf", "output"


class Slot:
    """One tensor of the plan: its kind, the recorded tensor, shape, dtype and whether it wants
    a gradient. ``position``: the input's position (inputs), the leaf's (leaves), the step's
    (outputs)."""

    __slots__ = ("dtype", "index", "kind", "position", "shape", "tensor", "wants_grad")

    def __init__(self, index: int, kind: str, tensor: Tensor, position: int, wants_grad: bool) -> None:
        self.index = index
        self.kind = kind
        self.tensor = tensor
        self.position = position
        self.shape = tensor._data.shape
        self.dtype = tensor._data.dtype
        self.wants_grad = wants_grad

    def __repr__(self) -> str:
        return f"Slot({self.index}, {self.kind}, {self.shape})"


class Step:
    """One recorded node: ``op`` (the plan's own copy), the slots it reads and writes, and
    ``backward``: whether its backward runs (its output wants a gradient and one reaches it)."""

    __slots__ = ("backward", "inputs", "node", "op", "output")

    def __init__(self, node: Node, op: Op, inputs: tuple[Slot, ...], output: Slot) -> None:
        self.node = node
        self.op = op
        self.inputs = inputs
        self.output = output
        self.backward = False


class Plan:
    """The steps in creation order, the slots, the leaves and the outputs of one recording."""

    __slots__ = ("inputs", "leaves", "outputs", "slots", "steps")

    def __init__(self) -> None:
        self.slots: list[Slot] = []
        self.steps: list[Step] = []
        self.inputs: list[Slot | None] = []   # by input position (None: the function never read it)
        self.leaves: list[Slot] = []
        self.outputs: list[Slot] = []

    def backward_steps(self) -> list[Step]:
        """The steps whose backward runs, newest first (the order of a backward pass)."""
        return [step for step in reversed(self.steps) if step.backward]

    def gradient_slots(self) -> list[Slot]:
        """The leaves and inputs that receive a gradient, in slot order."""
        return [s for s in self.slots if s.kind != OUTPUT and s.wants_grad]


def build_plan(outputs: Sequence[Tensor], arguments: Sequence[ArgumentTensor],
               wanted: Sequence[bool], seeded: Sequence[bool]) -> Plan:
    """The plan that recomputes ``outputs`` from ``arguments`` (see the module docstring).

    ``wanted[i]``: whether input i's caller Tensor requires grad; ``seeded[j]``: whether output
    j receives a gradient from outside (the loss, or the seeds of ``Compiled.backward``).
    """
    plan = Plan()
    by_tensor: dict[int, Slot] = {}
    positions = {id(t): i for i, t in enumerate(arguments)}
    by_array = {id(t._data): i for i, t in enumerate(arguments)}  # x.detach() shares the array
    plan.inputs = [None] * len(arguments)

    def slot_of(tensor: Tensor) -> Slot:
        found = by_tensor.get(id(tensor))
        if found is not None:
            return found
        position = positions.get(id(tensor), by_array.get(id(tensor._data)))
        if position is not None:
            slot = plan.inputs[position]
            if slot is None:
                slot = plan.inputs[position] = _new_slot(plan, INPUT, arguments[position], position,
                                                         wanted[position])
        else:
            slot = _new_slot(plan, LEAF, tensor, len(plan.leaves), tensor.requires_grad)
            plan.leaves.append(slot)
        by_tensor[id(tensor)] = slot
        return slot

    for node in reversed(nodes_made_after(outputs)):  # every node an output depends on, oldest first
        inputs = tuple(slot_of(t) for t in node.inputs)
        out = node._output()
        op = copy.copy(node.op)
        op.needs_input_grad = tuple(s.wants_grad for s in inputs)
        slot = _new_slot(plan, OUTPUT, out, len(plan.steps), any(op.needs_input_grad))
        by_tensor[id(out)] = slot
        plan.steps.append(Step(node, op, inputs, slot))
        _refuse_unreplayable(node)
    plan.outputs = [slot_of(t) for t in outputs]
    _mark_backward(plan, [s for s, yes in zip(plan.outputs, seeded) if yes])
    return plan


def _new_slot(plan: Plan, kind: str, tensor: Tensor, position: int, wants_grad: bool) -> Slot:
    slot = Slot(len(plan.slots), kind, tensor, position, wants_grad)
    plan.slots.append(slot)
    return slot


def _mark_backward(plan: Plan, seeded: list[Slot]) -> None:
    """Mark the steps a gradient reaches from the seeded outputs (newest first: a step is
    reached when its output wants a gradient and is seeded or read by a reached step)."""
    reached = {s.index for s in seeded if s.wants_grad}
    for step in reversed(plan.steps):
        if step.output.index in reached and step.output.wants_grad:
            step.backward = True
            reached.update(s.index for s, need in zip(step.inputs, step.op.needs_input_grad) if need)


def _refuse_unreplayable(node: Node) -> None:
    """An op class that sets ``replayable = False`` (rnn.dropout: a new random mask at every
    call) cannot be part of a plan, which would repeat its first call; nor can a checkpoint,
    whose backward recomputes its segment inside the eager backward pass (a plan has none, so
    the segment's gradients would be summed on their own: other bits)."""
    if type(node.op) is Checkpoint:
        raise GraphStateError(
            f"compile: {node.where()} cannot be replayed bit for bit: its backward recomputes "
            "its steps inside the eager backward pass, which a plan replaces. Compile without "
            "checkpoints (checkpoint_every=None), or checkpoint without tg.compile"
        )
    if getattr(type(node.op), "replayable", True) is False:
        raise GraphStateError(
            f"compile: {node.where()} cannot be replayed: its op draws new values at every call "
            "(a random mask), and a plan would repeat the first call's. Call the function "
            "without tg.compile (or compile=False), or leave the op out of the compiled part"
        )


def fix_recorded_flags(plan: Plan, arguments: Sequence[ArgumentTensor], wanted: Sequence[bool]) -> None:
    """Give the recorded graph the requires_grad flags a plain call would have recorded (the
    inputs required grad only for the recording), so that it draws and traces as one."""
    for tensor, want in zip(arguments, wanted):
        disarm(tensor, want)
    for step in plan.steps:
        step.node.op.needs_input_grad = step.op.needs_input_grad
        out = step.node._output()
        if out is not None:
            out.requires_grad = step.output.wants_grad
