"""``tg.compile``: record a function's graph once, then replay its forward and backward.

    step = tg.compile(loss_fn)   # loss_fn(*args) returns a scalar loss Tensor (and maybe more)
    loss = step(x, y)            # forward and backward: fills .grad as loss.backward() would

The first call with a new signature (``tinygraph.replay.arguments``) runs ``loss_fn`` as usual
and records its graph; the graph becomes a plan (``tinygraph.replay.plan``). Later calls with
the same signature do not run ``loss_fn`` at all: they replay the plan, calling the recorded
ops' forward and backward on arrays in the recorded order, so values and gradients are the
eager ones bit for bit. The recording call's backward and the first replay's forward run the
reference replay (``interpret``), which notes what every op returned; from then on the plan
runs as straight-line code (``codegen``), or from a table when it is very long (``table``).

What a plan cannot see: Python that depends on values. An ``if`` on a loss, a value read with
``.item()``, a closure over data that changes between calls, a mask turned into Python
control flow: the replay repeats what the first call did. Reading an input's values while
recording is refused (``ArgumentTensor``); the rest is what ``check`` is for: ``check=N`` runs
every N-th replay (the first one included) also as a plain call and compares, bit for bit.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from tinygraph.backward import grad as engine_grad
from tinygraph.errors import ConfigError, DTypeError, GraphStateError, add_note
from tinygraph.performance import pause_gc
from tinygraph.replay import interpret
from tinygraph.replay.arguments import as_argument, describe_key, disarm, flatten, rebuild
from tinygraph.replay.codegen import GuardError, Written, write
from tinygraph.replay.comparison import compare
from tinygraph.replay.results import check_loss, output_tensors, returned, seeds_like
from tinygraph.replay.table import Table
from tinygraph.replay.plan import LEAF, Plan, Slot, build_plan, fix_recorded_flags
from tinygraph.scope import STATE
from tinygraph.tensor import Tensor

LOG = logging.getLogger("tinygraph.compile")
RECORDING: list[str] = []  # the functions being recorded now (a compiled call inside one is refused)


class Recording:
    """One signature's plan: the recorded result, the plan, the profile of a reference forward
    (``converted``), and per set of seeded outputs the profile of a reference backward and the
    code written from both (None once its guards failed: the reference replay only)."""

    __slots__ = ("code", "converted", "graph", "leaf_checks", "loss_pattern", "outputs", "plan",
                 "profiles", "seed", "seeded", "written")

    def __init__(self, graph: Any, outputs: list[Tensor], plan: Plan) -> None:
        self.graph = graph
        self.outputs = outputs
        self.plan = plan
        self.converted: dict[int, bool] | None = None
        self.profiles: dict[tuple[bool, ...], interpret.Profile] = {}
        self.written: dict[tuple[bool, ...], Written | Table | None] = {}
        self.code: Written | Table | None = None  # some written code (the forward is the same in all)
        self.seeded: dict[tuple[bool, ...], list[Slot]] = {}
        self.loss_pattern = tuple(j == 0 for j in range(len(outputs)))
        self.leaf_checks = [(s.tensor, s.shape, s.dtype, s.wants_grad) for s in plan.leaves]
        first = outputs[0]._data
        self.seed = (first.shape, first.dtype)  # dL/dL = 1, a new array at every call (as eager)

    def leaves_unchanged(self) -> bool:
        """Every leaf still has its recorded shape, dtype and requires_grad (an optimizer
        rebinds ``p.data`` to arrays of the same shape; anything else records again)."""
        for tensor, shape, dtype, wants in self.leaf_checks:
            data = tensor._data
            if data.shape != shape or data.dtype is not dtype or tensor.requires_grad is not wants:
                return False
        return True

    def seeded_slots(self, pattern: tuple[bool, ...]) -> list[Slot]:
        """The outputs that get a seed when ``pattern[j]`` says whether output j does."""
        slots = self.seeded.get(pattern)
        if slots is None:
            slots = self.seeded[pattern] = [s for s, yes in zip(self.plan.outputs, pattern) if yes]
        return slots


class Compiled:
    """A function that records its graph once per signature and replays it afterwards.

    Call it as the function: ``step(*args, **kwargs)``; see :func:`compile`.
    """

    def __init__(self, fn: Callable[..., Any], check: bool | int = False, max_plans: int = 8) -> None:
        if not callable(fn):
            raise DTypeError(f"compile: fn must be a function, got a {type(fn).__name__}")
        self.fn = fn
        self.check = _check_every(check)
        self.max_plans = _positive(max_plans, "max_plans")
        self.recordings = 0
        self.replays = 0
        self._plans: dict[Hashable, Recording] = {}
        self._last: Recording | None = None
        self._pending: tuple[Recording, list[Any]] | None = None

    # ----------------------------------------------------------------- public
    @property
    def graph(self) -> Any:
        """What the function returned at the latest recording, its graph attached: draw it
        (``tg.draw(step.graph)``), trace it, check its nodes. None before the first call."""
        return None if self._last is None else self._last.graph

    @property
    def source(self) -> str | None:
        """The Python that the latest plan runs as (written at its first replay), or None."""
        code = None if self._last is None else self._last.code
        return None if code is None else code.source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Forward and backward: returns what the function returns (each Tensor as a new leaf
        holding this call's values) and adds dL/dθ into ``.grad`` of every parameter and every
        input Tensor that requires grad, as ``loss.backward()`` would; L is the function's
        (first) returned Tensor, a scalar."""
        self._pending = None  # a backward() after this call would find other ops' state
        flat = flatten((args, kwargs), "compile", "arguments")
        fast = self._fast_call(*flat)
        if fast is not None:
            return fast
        with pause_gc():
            record, inputs, fresh = self._prepare(args, kwargs, loss=True, flat=flat)
            pattern = record.loss_pattern
            seeds, targets = [np.ones(*record.seed)], _targets(inputs)
            if fresh is not None:  # the recording call: its own values, the reference backward
                self._backward(record, seeds, targets, pattern)
                return fresh
            if self._checking():
                return self._checked_call(record, args, kwargs, inputs, seeds, targets, pattern)
            values = self._forward(record, _arrays(inputs))
            self._backward(record, seeds, targets, pattern)
            return returned(record.graph, record.outputs, values)

    def _fast_call(self, inputs: list[Any], key: Hashable) -> Any:
        """A replay by written code of the call whose flattened arguments are ``inputs`` and
        ``key``, when everything is as before (the common call, with as little Python around
        the plan as can be); None sends the call the long way."""
        record = self._plans.get((key, True))
        if record is None or STATE.detect_anomaly or not STATE.grad_enabled:
            return None
        code = record.written.get(record.loss_pattern)
        if code is None or (self.check and self.replays % self.check == 0) or (
                not record.leaves_unchanged()):
            return None
        arrays = [x._data if isinstance(x, Tensor) else x.copy() for x in inputs]
        collecting = gc.isenabled()
        gc.disable()
        try:
            values = code.forward(arrays)
            code.backward([np.ones(*record.seed)], _targets(inputs))
        except Exception:  # a failed guard, or an error the long way reports as eager does
            return None
        finally:
            if collecting:
                gc.enable()
        self.replays += 1
        self._last = record
        return returned(record.graph, record.outputs, values)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The forward only: what the function returns, each Tensor as a new leaf holding this
        call's values. ``backward(grads)`` may follow, before the next call."""
        with pause_gc():
            record, inputs, fresh = self._prepare(args, kwargs, loss=False)
            self._pending = (record, inputs)
            if fresh is not None:
                return fresh
            values = self._forward(record, _arrays(inputs))
            if self._checking():
                self._compare(record, self._plain_outputs(args, kwargs, inputs), values, [], [])
            return returned(record.graph, record.outputs, values)

    def backward(self, grads: Any) -> None:
        """The backward of the latest ``forward``: ``grads`` has the structure of what the
        function returned, with dL/d(output) (an array, or None: no gradient) in place of each
        Tensor, or None for a whole part of it; dL/dθ is added into ``.grad``. A seed is added
        to its output's junction after the gradients the plan itself sends there, as if the
        loss that read the output had been recorded right after it (truncated BPTT records
        its losses so)."""
        if self._pending is None:
            raise GraphStateError("compile: backward() needs a forward() before it (one per forward)")
        record, inputs = self._pending
        self._pending = None
        seeds_by_output = seeds_like(record.graph, record.outputs, grads)
        pattern = tuple(g is not None for g in seeds_by_output)
        seeds = [g for g in seeds_by_output if g is not None]
        with pause_gc():
            self._backward(record, seeds, _targets(inputs), pattern)

    def __repr__(self) -> str:
        return f"Compiled({self._name()}, recordings={self.recordings}, replays={self.replays})"

    # ----------------------------------------------------------------- recording
    def _prepare(self, args: tuple[Any, ...], kwargs: dict[str, Any], loss: bool,
                 flat: tuple[list[Any], Hashable] | None = None) -> tuple[Recording, list[Any], Any]:
        """The plan for these arguments (recording one when needed), the inputs, and, for a
        recording call, what it returns (None for a replay). ``flat``: the arguments' inputs
        and signature when the caller has already flattened them."""
        if not STATE.grad_enabled:
            raise GraphStateError("compile: gradients are off (inside tg.no_grad()); a compiled "
                                  "function records its graph and replays its backward")
        if RECORDING:
            raise GraphStateError(
                f"compile: {self._name()} was called while {RECORDING[-1]} was being recorded; "
                "what it returns holds no graph, so the outer plan would freeze its values: call "
                "its function (step.fn) inside the compiled one instead"
            )
        inputs, signature = flatten((args, kwargs), "compile", "arguments") if flat is None else flat
        key = (signature, loss)  # a call's plan seeds the loss; forward()'s, every output
        record = self._plans.get(key)
        if record is not None and not STATE.detect_anomaly and record.leaves_unchanged():
            self.replays += 1
            self._last = record
            return record, inputs, None
        if LOG.isEnabledFor(logging.DEBUG):
            why = ("tg.detect_anomaly() is on" if STATE.detect_anomaly else "a new signature"
                   if record is None else "a parameter changed its shape, dtype or requires_grad")
            LOG.debug("compile: recording %s (%s): %s", self._name(), why, describe_key(signature))
        record = self._record(args, kwargs, inputs, loss)
        self._plans.pop(key, None)
        self._plans[key] = record
        while len(self._plans) > self.max_plans:
            self._plans.pop(next(iter(self._plans)))
        self._last = record
        self.recordings += 1
        return record, inputs, returned(record.graph, record.outputs, [t._data for t in record.outputs])

    def _record(self, args: tuple[Any, ...], kwargs: dict[str, Any], inputs: list[Any],
                loss: bool) -> Recording:
        """Run the function on ArgumentTensors and make its graph a plan."""
        arguments = [as_argument(x, i) for i, x in enumerate(inputs)]
        wanted = [isinstance(x, Tensor) and x.requires_grad for x in inputs]
        RECORDING.append(self._name())
        try:
            traced_args, traced_kwargs = rebuild((args, kwargs), arguments)
            result = self.fn(*traced_args, **traced_kwargs)
            outputs = output_tensors(result, self._name())
            if loss:
                check_loss(outputs[0], self._name())
            seeded = [j == 0 for j in range(len(outputs))] if loss else [True] * len(outputs)
            plan = build_plan(outputs, arguments, wanted, seeded)
        except Exception as exc:
            for tensor in arguments:
                disarm(tensor, False)
            if not str(exc).startswith("compile:"):
                add_note(exc, f"raised while tg.compile recorded {self._name()} (its array inputs "
                              "reach it as Tensors that record every op)")
            raise
        finally:
            RECORDING.pop()
        fix_recorded_flags(plan, arguments, wanted)
        if loss and not plan.outputs[0].wants_grad:
            raise GraphStateError(
                f"compile: the loss {self._name()} returned does not depend on any Tensor that "
                "requires grad (no parameter, no input with requires_grad=True), so there is "
                "nothing to differentiate"
            )
        return Recording(result, outputs, plan)

    def _name(self) -> str:
        return getattr(self.fn, "__qualname__", type(self.fn).__name__)

    # ----------------------------------------------------------------- replaying
    def _forward(self, record: Recording, arrays: list[np.ndarray]) -> Sequence[Any]:
        """The outputs' arrays: by the written code once there is some, else (and whenever
        the code fails) by the reference replay, which also profiles a plan's first replay."""
        plan = record.plan
        code = record.code
        if code is not None:
            try:
                return code.forward(arrays)
            except GuardError:  # an op returned what the profile did not see: reference only
                record.written = dict.fromkeys(record.written)
                record.code = None
            except Exception:  # the reference forward below raises the eager error
                pass
        profile = interpret.Profile() if record.converted is None else None
        values = interpret.forward(plan, arrays, profile)
        if profile is not None:
            record.converted = profile.converted
        return [values[s.index] for s in plan.outputs]

    def _backward(self, record: Recording, seeds: list[np.ndarray], targets: list[Any],
                  pattern: tuple[bool, ...]) -> None:
        """The backward from ``seeds`` (one per True of ``pattern``) into ``.grad``."""
        plan = record.plan
        slots = record.seeded_slots(pattern)
        code = record.written.get(pattern)
        profile = record.profiles.get(pattern)
        if code is None and pattern not in record.written and profile is not None and (
                record.converted is not None):
            code = record.written[pattern] = replay_for(plan, record.converted, profile, slots)
            record.code = record.code or code
        if code is not None:
            try:
                code.backward(seeds, targets)
                return
            except GuardError:  # raised before any .grad was touched (those lines come last)
                record.written[pattern] = None
                record.code = next((w for w in record.written.values() if w is not None), None)
            except Exception:  # the reference backward below raises it, naming the node
                pass
        fresh = interpret.Profile() if profile is None else None
        grads, owned = interpret.backward(plan, {s.index: g for s, g in zip(slots, seeds)}, fresh)
        if fresh is not None:
            record.profiles[pattern] = fresh
        for slot, g in grads.items():
            interpret.assign(_target(slot, targets), g, slot in owned)

    # ----------------------------------------------------------------- checking
    def _checking(self) -> bool:
        return bool(self.check) and (self.replays - 1) % self.check == 0

    def _checked_call(self, record: Recording, args: tuple[Any, ...], kwargs: dict[str, Any],
                      inputs: list[Any], seeds: list[np.ndarray], targets: list[Any],
                      pattern: tuple[bool, ...]) -> Any:
        """A replay, and the same call made plainly; any difference is an error."""
        plain = self._plain_outputs(args, kwargs, inputs)
        sources = [_target(s, targets) for s in record.plan.gradient_slots()]
        expected = engine_grad(plain[0], sources) if sources else []
        values = self._forward(record, _arrays(inputs))
        before = [t.grad for t in sources]
        for t in sources:
            t.grad = None
        self._backward(record, seeds, targets, pattern)
        got = [t.grad for t in sources]
        for t, old, new in zip(sources, before, got):
            t.grad = new if old is None or new is None else old + new
        self._compare(record, plain, values, got, expected)
        return returned(record.graph, record.outputs, values)

    def _plain_outputs(self, args: tuple[Any, ...], kwargs: dict[str, Any], inputs: list[Any]
                       ) -> list[Tensor]:
        """The function called plainly on Tensors (a Tensor argument as itself, an array as a
        new constant Tensor; ``inputs``: the arguments' flattened inputs): no plan, no
        ArgumentTensor."""
        plain = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
        plain_args, plain_kwargs = rebuild((args, kwargs), plain)
        return output_tensors(self.fn(*plain_args, **plain_kwargs), self._name())

    def _compare(self, record: Recording, plain: list[Tensor], values: Any, got: list[Any],
                 expected: list[np.ndarray]) -> None:
        where = f"replay {self.replays} of {self._name()} (check={self.check})"
        compare(where, record.outputs, plain, list(values), record.plan.gradient_slots(), got,
                expected)


# --------------------------------------------------------------------- helpers
WRITE_LIMIT = 10_000  # plans of more steps replay from a table: Python compiles ~12 µs per line


def replay_for(plan: Plan, converted: dict[int, bool], profile: interpret.Profile,
               seeded: list[Slot]) -> Written | Table:
    """The fast replay of ``plan``: written code, or a table for a plan too long to compile."""
    if len(plan.steps) > WRITE_LIMIT:
        return Table(plan, converted, profile, seeded)
    return write(plan, converted, profile, seeded)


def _check_every(check: bool | int) -> int:
    if check is True:
        return 1
    if check is False or check is None:
        return 0
    if isinstance(check, int) and check >= 1:
        return check
    raise ConfigError(f"compile: check must be True, False or a number of calls >= 1, got {check!r}")


def _positive(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"compile: {name} must be an int >= 1, got {value!r}")
    return value


def _arrays(inputs: list[Any]) -> list[np.ndarray]:
    """The inputs' arrays for a replay: a Tensor's own array, a copy of an ndarray (as
    ``tg.Tensor`` would copy it: what the call returns never shares the caller's buffer)."""
    return [x._data if isinstance(x, Tensor) else np.array(x) for x in inputs]


def _targets(inputs: list[Any]) -> list[Any]:
    """Where an input's gradient goes: the caller's Tensor (None for an array)."""
    return [x if isinstance(x, Tensor) else None for x in inputs]


def _target(slot: Slot, targets: list[Any]) -> Tensor:
    return slot.tensor if slot.kind == LEAF else targets[slot.position]


def compile(fn: Callable[..., Any], *, check: bool | int = False, max_plans: int = 8) -> Compiled:  # noqa: A001
    """Record ``fn``'s graph once per signature, then replay its forward and backward.

    ``step = tg.compile(fn)``; ``step(*args)`` runs fn(*args), whose first result must be a
    scalar loss L, and adds dL/dθ into ``.grad`` of every parameter θ (and of every input
    Tensor that requires grad), as ``L.backward()`` would; it returns fn's result with each
    Tensor a new leaf holding this call's values. The first call with a signature (the
    shapes and dtypes of the array and Tensor arguments, which of them require grad, and the
    value of every other argument) records the graph; later calls replay it: the recorded
    ops' forward and backward on arrays, in the recorded order, bit for bit the eager values.

    Args:
        fn: a function of arrays and Tensors (and static values: numbers, strings, tuples).
            It receives its array arguments as Tensors. Parameters it closes over are read
            through their Tensors at every call; the constants it makes are part of the plan.
        check: True compares every replay with a plain call, bit for bit; an int N every N-th
            (the first replay included); a difference raises a GraphStateError.
        max_plans: how many signatures keep their plan (the oldest is dropped).
    """
    return Compiled(fn, check=check, max_plans=max_plans)
